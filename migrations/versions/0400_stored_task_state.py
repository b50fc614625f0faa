"""Store each routing task's current state and count tasks per circular and state; backfill both from the events.

The task events stay the source of truth. `routing_tasks.state` is the kind of the task's
latest event other than `overdue`, `routing_tasks.overdue_marked` is whether it has an
`overdue` event, and `routing_state_counts` counts the tasks of each circular's cascade by
recipient kind, state and effective due date ('9999-12-31' when the task has none).

Revision ID: 0400
Revises: 0500
Create Date: 2026-12-04 23:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0400'
down_revision = '0500'
branch_labels = None
depends_on = None

# Kept in step with `workflow.routing.models.NO_DUE_DATE`; a literal, so that the migration
# does not change when the application does.
NO_DUE_DATE = "9999-12-31"


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN, not a copy of the table, for the reason given in downgrade().
    with op.batch_alter_table('routing_tasks', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='delivered', nullable=False))
        batch_op.add_column(sa.Column('overdue_marked', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_routing_tasks_recipient_org_id_id', ['recipient_org_id', 'id'], unique=False)

    op.create_table('routing_state_counts',
    sa.Column('root_letter_id', sa.Integer(), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('tasks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['root_letter_id'], ['official_letters.id'], ),
    sa.PrimaryKeyConstraint('root_letter_id', 'recipient_kind', 'state', 'due_on')
    )

    _backfill()


def _backfill() -> None:
    """Fold the existing events into the new columns and count the tasks, in three statements."""
    op.execute(sa.text(
        "UPDATE routing_tasks SET state = ("
        " SELECT e.kind FROM task_events e"
        " WHERE e.task_id = routing_tasks.id AND e.kind <> 'overdue'"
        " ORDER BY e.id DESC LIMIT 1)"
        " WHERE EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = routing_tasks.id AND e.kind <> 'overdue')"
    ))
    op.execute(sa.text(
        "UPDATE routing_tasks SET overdue_marked = :marked"
        " WHERE EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = routing_tasks.id AND e.kind = 'overdue')"
    ).bindparams(marked=True))
    op.execute(sa.text(
        "INSERT INTO routing_state_counts (root_letter_id, recipient_kind, state, due_on, tasks)"
        f" SELECT t.root_letter_id, o.kind, t.state, COALESCE(t.due_effective, '{NO_DUE_DATE}'), COUNT(*)"
        " FROM routing_tasks t JOIN organizations o ON o.id = t.recipient_org_id"
        " GROUP BY 1, 2, 3, 4"
    ))


def downgrade() -> None:
    op.drop_table('routing_state_counts')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not a copy of the table: SQLite cannot drop
    # the old routing_tasks while task_events rows reference it and foreign keys are enforced.
    with op.batch_alter_table('routing_tasks', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_routing_tasks_recipient_org_id_id')
        batch_op.drop_column('overdue_marked')
        batch_op.drop_column('state')
