"""drop the two full-table indexes on open tasks

Revision ID: 0004
Revises: 0003

``ix_tasks_open_group_due`` and ``ix_tasks_open_assignee_due`` indexed every task row, open or
finished, by (state, group or assignee, due). Since 0003 every query for open tasks (the inbox,
its facets, ``tramita tasks``) is answered by the partial ``ix_tasks_ready_inbox``, so the two
only cost writes: each transition inserts and closes task rows, and both indexes changed with
each of them (bench/engine_throughput.py).
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_open_group_due")
        batch_op.drop_index("ix_tasks_open_assignee_due")


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_open_assignee_due", ["state", "assignee", "due_at"], unique=False)
        batch_op.create_index("ix_tasks_open_group_due", ["state", "candidate_group", "due_at"], unique=False)
