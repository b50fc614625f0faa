"""Alembic environment: migrates the database named by sqlalchemy.url or DATABASE_URL."""

from alembic import context
from sqlalchemy import pool

from workflow.config import config_from_env
from workflow.db import make_engine
from workflow.models import Base
# Imported for its tables: autogenerate compares the metadata with every model module.
import workflow.routing.models  # noqa: F401,E402
import workflow.ledger.models  # noqa: F401,E402
import workflow.ledger.buyers  # noqa: F401,E402
import workflow.apitokens  # noqa: F401,E402

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or config_from_env()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
