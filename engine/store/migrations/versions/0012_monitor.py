"""manager console: users' e-mail, deadline alerts, message waits

Revision ID: 0012_monitor
Revises: 0011_calendar_drafts

- ``users.email``: where deadline e-mails go (set by the administrator or the user).
- ``alerts``: each deadline e-mail, recorded before it is handed to SMTP, at most once per task
  and kind (unique), so that a retry or a restart never sends it twice.
- ``message_waits``: the message catch events a case waits at, and since when, kept by each
  transition (``engine.oversight.hooks``) so that stalled detection never deserializes a workflow.
- two indexes on ``instances`` for the console's scope (``engine.store.models.CONSOLE_INDEX``);
- ``step_stats``: completed tasks per version, element and duration bucket, kept by each completion,
  so the heatmap's median, p90 and share within term never read every finished task. Filled here
  from the tasks already completed.
"""
from alembic import op
import sqlalchemy as sa

import engine.store.models

revision = "0012_monitor"
down_revision = "0011_calendar_drafts"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = engine.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=255), nullable=True))
    op.create_table(
        "alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "target", name="uq_alerts_kind_target"),
    )
    op.create_index("ix_alerts_pending", "alerts", ["sent_at"], unique=False)
    op.create_table(
        "message_waits",
        sa.Column("id", _ID, nullable=False),
        sa.Column("instance_id", _ID, sa.ForeignKey("instances.id"), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("element", sa.String(length=255), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "task_id", name="uq_message_waits_instance_task"),
    )
    op.create_index("ix_message_waits_since", "message_waits", ["since"], unique=False)
    op.create_table(
        "step_stats",
        sa.Column("id", _ID, nullable=False),
        sa.Column("definition_id", _ID, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("institution", sa.String(length=120), nullable=False),
        sa.Column("element", sa.String(length=255), nullable=False),
        sa.Column("term_unit", sa.String(length=16), nullable=True),
        sa.Column("term_count", sa.Integer(), nullable=True),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("with_term", sa.Integer(), nullable=False),
        sa.Column("within_term", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_id", "institution", "element", "bucket", name="uq_step_stats"),
    )
    _backfill_step_stats()
    # See engine.store.models.CONSOLE_INDEX: on SQLite, institution sits behind the workflow state.
    op.create_index("ix_instances_console", "instances",
                    ["id", "institution", "status", "definition_id", "process_key", "reference"])
    op.create_index("ix_instances_institution_status", "instances", ["institution", "status", "process_key"])


def _backfill_step_stats() -> None:
    """The histogram of the tasks completed before this migration, in the buckets the hook uses."""
    from engine.oversight.hooks import rebuild_step_stats

    rebuild_step_stats(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_instances_institution_status", table_name="instances")
    op.drop_index("ix_instances_console", table_name="instances")
    op.drop_table("step_stats")
    op.drop_index("ix_message_waits_since", table_name="message_waits")
    op.drop_table("message_waits")
    op.drop_index("ix_alerts_pending", table_name="alerts")
    op.drop_table("alerts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email")
