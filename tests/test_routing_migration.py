"""The routing revision upgrades and downgrades cleanly, and matches the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from workflow.db import alembic_config, upgrade_to_head
from workflow.models import Base
from workflow.routing import models as routing_models

_ROUTING_NAMES = {
    model.__tablename__
    for model in vars(routing_models).values()
    if isinstance(model, type) and issubclass(model, Base) and model is not Base
}
ROUTING_TABLES = {
    routing_models.OfficialLetter.__tablename__,
    routing_models.Receipt.__tablename__,
    routing_models.RoutingTask.__tablename__,
    routing_models.TaskEvent.__tablename__,
    routing_models.RegisterCounter.__tablename__,
    routing_models.Delegation.__tablename__,
}


def _table_of(difference) -> str:
    """Return the table a compare_metadata entry is about; `modify_*` entries come as a list of tuples."""
    kind, *details = difference[0] if isinstance(difference, list) else difference
    if kind in ("add_table", "remove_table"):
        return details[0].name
    if kind.endswith(("_index", "_constraint", "_fk")):
        return details[0].table.name
    return details[1]


def test_migration_matches_routing_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert [item for item in differences if _table_of(item) in _ROUTING_NAMES] == []


def test_routing_revision_downgrades_and_upgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade_to_head(url)
    command.downgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    assert ROUTING_TABLES.isdisjoint(inspect(engine).get_table_names())
    engine.dispose()
    upgrade_to_head(url)
    engine = create_engine(url)
    assert ROUTING_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
