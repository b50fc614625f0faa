"""Add the carbon-credit ledger: accounts, rounds, requests, transactions, entries, blocks, keys, events.

Revision ID: 0200
Revises: 0100
Create Date: 2026-12-04 21:28:37.308843
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0200'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ledger_idempotency_keys',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('ledger_buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_th', sa.String(length=300), nullable=False),
    sa.Column('tax_id', sa.String(length=13), nullable=False),
    sa.Column('address_th', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=200), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'tax_id', name='uq_ledger_buyers_kind_tax_id')
    )
    op.create_table('ledger_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('needs_dla_confirmation', sa.Boolean(), nullable=False),
    sa.Column('letter_reference', sa.String(length=300), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prepared_by_id', sa.Integer(), nullable=False),
    sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['prepared_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_requests_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_requests_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_requests_status'), ['status'], unique=False)

    op.create_table('ledger_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=False),
    sa.Column('monitoring_start', sa.Date(), nullable=False),
    sa.Column('monitoring_end', sa.Date(), nullable=False),
    sa.Column('certified_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('registry_reference', sa.String(length=100), nullable=False),
    sa.Column('serial_start', sa.BigInteger(), nullable=False),
    sa.Column('serial_end', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('serial_end - serial_start + 1 = quantity', name='ck_ledger_rounds_serial_quantity'),
    sa.ForeignKeyConstraint(['request_id'], ['ledger_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registry_reference'),
    sa.UniqueConstraint('round_number')
    )
    op.create_table('ledger_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('letter_reference', sa.String(length=300), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('price_satang', sa.BigInteger(), nullable=True),
    sa.Column('receipt_number', sa.String(length=60), nullable=True),
    sa.Column('receipt_date', sa.Date(), nullable=True),
    sa.Column('beneficiary', sa.String(length=300), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('order_reference', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['ledger_requests.id'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id'),
    sa.UniqueConstraint('reverses_id')
    )
    op.create_table('ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_th', sa.String(length=300), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('opening_request_id', sa.Integer(), nullable=True),
    sa.Column('routing_event_id', sa.Integer(), nullable=True),
    sa.Column('responsible_officer_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['ledger_buyers.id'], ),
    sa.ForeignKeyConstraint(['opening_request_id'], ['ledger_requests.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['responsible_officer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['routing_event_id'], ['task_events.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('buyer_id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('organization_id')
    )
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_accounts_kind'), ['kind'], unique=False)

    op.create_table('ledger_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['ledger_requests.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_events_request_id'), ['request_id'], unique=False)

    op.create_table('ledger_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=12), nullable=False),
    sa.Column('serial_start', sa.BigInteger(), nullable=False),
    sa.Column('serial_end', sa.BigInteger(), nullable=False),
    sa.Column('reservation_request_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_transaction_id', sa.Integer(), nullable=False),
    sa.Column('closed_by_transaction_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('serial_end >= serial_start', name='ck_ledger_blocks_range'),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], ),
    sa.ForeignKeyConstraint(['closed_by_transaction_id'], ['ledger_transactions.id'], ),
    sa.ForeignKeyConstraint(['opened_by_transaction_id'], ['ledger_transactions.id'], ),
    sa.ForeignKeyConstraint(['reservation_request_id'], ['ledger_requests.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['ledger_rounds.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_blocks', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_blocks_open', ['account_id', 'closed_by_transaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_blocks_round_id'), ['round_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('bucket', sa.String(length=12), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount > 0', name='ck_ledger_entries_amount_positive'),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account_unit', ['account_id', 'unit', 'bucket'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transaction_id'), ['transaction_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transaction_id'))
        batch_op.drop_index('ix_ledger_entries_account_unit')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('ledger_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_blocks_round_id'))
        batch_op.drop_index('ix_ledger_blocks_open')

    op.drop_table('ledger_blocks')
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_events_request_id'))

    op.drop_table('ledger_events')
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_accounts_kind'))

    op.drop_table('ledger_accounts')
    op.drop_table('ledger_transactions')
    op.drop_table('ledger_rounds')
    with op.batch_alter_table('ledger_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_requests_status'))
        batch_op.drop_index(batch_op.f('ix_ledger_requests_organization_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_requests_kind'))

    op.drop_table('ledger_requests')
    op.drop_table('ledger_buyers')
    op.drop_table('ledger_idempotency_keys')
    op.drop_table('ledger_chain_head')
