"""inbox indexes: a covering index of the open tasks

Revision ID: 0003
Revises: 0002

The inbox (``engine.inbox``) counts, badges, sorts, filters and lists facets over the open tasks
of a user and their groups. With 1,000,000 task rows of which about 1% are open, reading those
rows from the table cost 50-90 ms per inbox page (bench/web_load.py). This index holds only the
open tasks (partial on ``state = 'READY'``, which the inbox's queries name literally) and every
column those queries read, so they are answered from a small index alone.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Kept literally here (not imported from the models) so this revision stays what it was.
_COLUMNS = ["state", "assignee", "candidate_group", "due_at", "created_at", "id", "instance_id", "overdue",
            "process_key", "name", "title"]
_WHERE = sa.text("state = 'READY'")


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_ready_inbox", _COLUMNS, unique=False, sqlite_where=_WHERE,
                              postgresql_where=_WHERE)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_ready_inbox")
