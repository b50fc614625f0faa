"""Index serial blocks by the transactions that opened and closed them, and events by transaction and request.

`saraban ledger verify` reads blocks grouped by these columns and each request's last event,
reversals find the blocks a transaction moved, and certificates find a transaction's posted
event. Without the indexes each of those scans or sorts the whole table.

Revision ID: 0500
Revises: 0300
Create Date: 2026-12-04 23:30:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0500'
down_revision = '0300'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ledger_blocks_opened_by', 'ledger_blocks', ['opened_by_transaction_id'], unique=False)
    op.create_index('ix_ledger_blocks_closed_by', 'ledger_blocks', ['closed_by_transaction_id'], unique=False)
    op.create_index('ix_ledger_events_transaction_id', 'ledger_events', ['transaction_id'], unique=False)
    op.create_index('ix_ledger_events_request_last', 'ledger_events', ['request_id', sa.text('id DESC')],
                    unique=False, postgresql_include=['kind'])


def downgrade() -> None:
    op.drop_index('ix_ledger_events_request_last', table_name='ledger_events')
    op.drop_index('ix_ledger_events_transaction_id', table_name='ledger_events')
    op.drop_index('ix_ledger_blocks_closed_by', table_name='ledger_blocks')
    op.drop_index('ix_ledger_blocks_opened_by', table_name='ledger_blocks')
