"""Migration 0600 adds and removes the buyer documents table and leaves the buyers table in place."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from workflow.db import alembic_config
from workflow.routing.testing import postgres_reachable, postgres_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.db'}"
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as schema_url:
        yield schema_url


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_buyer_documents_migration_round_trip(url):
    config = alembic_config(url)
    command.upgrade(config, "0600")
    assert "ledger_buyer_documents" in table_names(url)

    command.downgrade(config, "0200")
    assert "ledger_buyer_documents" not in table_names(url)
    assert "ledger_buyers" in table_names(url)

    command.upgrade(config, "0600")
    engine = create_engine(url)
    try:
        columns = {column["name"] for column in inspect(engine).get_columns("ledger_buyer_documents")}
        indexes = {index["name"] for index in inspect(engine).get_indexes("ledger_buyer_documents")}
    finally:
        engine.dispose()
    assert {"buyer_id", "request_id", "document_kind", "sha256", "filename", "content_type", "size"} <= columns
    assert "ix_ledger_buyer_documents_buyer_id" in indexes
