"""Add the identity documents of registered buyers, kept by SHA-256 in the originals store.

Revision ID: 0600
Revises: 0200
Create Date: 2026-12-04 23:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0600'
down_revision = '0200'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_buyer_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('document_kind', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['ledger_buyers.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['ledger_requests.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('buyer_id', 'sha256', name='uq_ledger_buyer_documents_buyer_sha256')
    )
    op.create_index(op.f('ix_ledger_buyer_documents_buyer_id'), 'ledger_buyer_documents', ['buyer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ledger_buyer_documents_buyer_id'), table_name='ledger_buyer_documents')
    op.drop_table('ledger_buyer_documents')
