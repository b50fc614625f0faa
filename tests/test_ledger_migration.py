"""The ledger migration upgrades and downgrades cleanly and creates every ledger table."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from workflow.db import alembic_config, upgrade_to_head

LEDGER_TABLES = {
    "ledger_accounts", "ledger_blocks", "ledger_buyers", "ledger_chain_head", "ledger_entries", "ledger_events",
    "ledger_idempotency_keys", "ledger_requests", "ledger_rounds", "ledger_transactions",
}


def tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_ledger_migration_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'migration.db'}"
    upgrade_to_head(url)
    assert LEDGER_TABLES <= tables(url)
    command.downgrade(alembic_config(url), "0100")
    assert not LEDGER_TABLES & tables(url)
    assert "task_events" in tables(url)
    upgrade_to_head(url)
    assert LEDGER_TABLES <= tables(url)


def index_names(url, table):
    engine = create_engine(url)
    try:
        return {index["name"] for index in inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def test_scan_indexes_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'indexes.db'}"
    upgrade_to_head(url)
    assert {"ix_ledger_blocks_opened_by", "ix_ledger_blocks_closed_by"} <= index_names(url, "ledger_blocks")
    assert {"ix_ledger_events_transaction_id", "ix_ledger_events_request_last"} <= index_names(url, "ledger_events")
    # The revision before the one that adds these indexes.
    command.downgrade(alembic_config(url), "0300")
    assert not {"ix_ledger_blocks_opened_by", "ix_ledger_blocks_closed_by"} & index_names(url, "ledger_blocks")
    assert not {"ix_ledger_events_transaction_id", "ix_ledger_events_request_last"} & index_names(url, "ledger_events")
    assert "ledger_events" in tables(url)
