"""Add the routing tables: registers, delegations, letters, receipts, endorsements, tasks, events.

Revision ID: 0100
Revises: 0001
Create Date: 2026-12-04 20:41:18.833816
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0100'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('office_settings',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('doc_prefix', sa.String(length=40), nullable=True),
    sa.Column('internal_due_working_days', sa.Integer(), nullable=False),
    sa.Column('reminder_working_days', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('register_counters',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('register', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('organization_id', 'register', 'year')
    )
    op.create_table('declared_holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name_th', sa.String(length=200), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.String(length=16), nullable=False),
    sa.Column('principal_position_th', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('order_reference', sa.String(length=300), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_delegate_id'), ['delegate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_organization_id'), ['organization_id'], unique=False)

    op.create_table('staff_positions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position_th', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('official_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=60), nullable=True),
    sa.Column('is_circular', sa.Boolean(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=True),
    sa.Column('letter_date', sa.Date(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=True),
    sa.Column('issuer_name', sa.String(length=300), nullable=True),
    sa.Column('issuer_org_id', sa.Integer(), nullable=True),
    sa.Column('parent_letter_id', sa.Integer(), nullable=True),
    sa.Column('root_letter_id', sa.Integer(), nullable=True),
    sa.Column('source_letter_id', sa.Integer(), nullable=True),
    sa.Column('due_nominal', sa.Date(), nullable=True),
    sa.Column('due_effective', sa.Date(), nullable=True),
    sa.Column('due_rule', sa.String(length=40), nullable=True),
    sa.Column('due_text', sa.Text(), nullable=True),
    sa.Column('relative_days', sa.Integer(), nullable=True),
    sa.Column('relative_working_days', sa.Boolean(), nullable=False),
    sa.Column('confirmation_form', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_capacity', sa.String(length=16), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('covering_files', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], ),
    sa.ForeignKeyConstraint(['issuer_org_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['parent_letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['root_letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['source_letter_id'], ['letters.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('doc_number', 'letter_date', name='uq_official_letters_number_date')
    )
    with op.batch_alter_table('official_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_letters_doc_number'), ['doc_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_official_letters_issuer_org_id'), ['issuer_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_official_letters_parent_letter_id'), ['parent_letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_official_letters_root_letter_id'), ['root_letter_id'], unique=False)

    op.create_table('letter_citations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('cited_number', sa.String(length=60), nullable=True),
    sa.Column('cited_date', sa.Date(), nullable=True),
    sa.Column('cited_letter_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['cited_letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['letter_id'], ['official_letters.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('letter_citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_citations_cited_letter_id'), ['cited_letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_citations_letter_id'), ['letter_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('sender_text', sa.String(length=300), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'letter_id', name='uq_receipts_org_letter'),
    sa.UniqueConstraint('organization_id', 'year', 'number', name='uq_receipts_org_year_number')
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_organization_id'), ['organization_id'], unique=False)

    op.create_table('routing_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('root_letter_id', sa.Integer(), nullable=False),
    sa.Column('sender_org_id', sa.Integer(), nullable=False),
    sa.Column('recipient_org_id', sa.Integer(), nullable=False),
    sa.Column('due_nominal', sa.Date(), nullable=True),
    sa.Column('due_effective', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['recipient_org_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['root_letter_id'], ['official_letters.id'], ),
    sa.ForeignKeyConstraint(['sender_org_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('letter_id', 'recipient_org_id', name='uq_routing_tasks_letter_recipient')
    )
    with op.batch_alter_table('routing_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_tasks_recipient_org_id'), ['recipient_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_tasks_sender_org_id'), ['sender_org_id'], unique=False)

    op.create_table('endorsements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('endorsed_by_id', sa.Integer(), nullable=False),
    sa.Column('decisions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('assigned_unit', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('capacity', sa.String(length=16), nullable=False),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('endorsed_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], ),
    sa.ForeignKeyConstraint(['endorsed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsements_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsements_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('receipt_arrivals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('receipt_arrivals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_arrivals_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('routing_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('working_days_before', sa.Integer(), nullable=False),
    sa.Column('message_th', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['routing_tasks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'kind', 'due_date', 'working_days_before', name='uq_routing_notices_once')
    )
    with op.batch_alter_table('routing_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_notices_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_notices_task_id'), ['task_id'], unique=False)

    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['routing_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_events_task_id'), ['task_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_events_task_id'))

    op.drop_table('task_events')
    with op.batch_alter_table('routing_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_notices_task_id'))
        batch_op.drop_index(batch_op.f('ix_routing_notices_organization_id'))

    op.drop_table('routing_notices')
    with op.batch_alter_table('receipt_arrivals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_arrivals_receipt_id'))

    op.drop_table('receipt_arrivals')
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsements_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_endorsements_organization_id'))

    op.drop_table('endorsements')
    with op.batch_alter_table('routing_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_tasks_sender_org_id'))
        batch_op.drop_index(batch_op.f('ix_routing_tasks_recipient_org_id'))

    op.drop_table('routing_tasks')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_organization_id'))
        batch_op.drop_index(batch_op.f('ix_receipts_letter_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('letter_citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_citations_letter_id'))
        batch_op.drop_index(batch_op.f('ix_letter_citations_cited_letter_id'))

    op.drop_table('letter_citations')
    with op.batch_alter_table('official_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_letters_root_letter_id'))
        batch_op.drop_index(batch_op.f('ix_official_letters_parent_letter_id'))
        batch_op.drop_index(batch_op.f('ix_official_letters_issuer_org_id'))
        batch_op.drop_index(batch_op.f('ix_official_letters_doc_number'))

    op.drop_table('official_letters')
    op.drop_table('staff_positions')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_delegations_delegate_id'))

    op.drop_table('delegations')
    op.drop_table('declared_holidays')
    op.drop_table('register_counters')
    op.drop_table('office_settings')
    
