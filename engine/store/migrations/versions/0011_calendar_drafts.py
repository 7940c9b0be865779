"""calendar drafts: each change with its reason and source; the recount an approval sets going

Revision ID: 0011_calendar_drafts
Revises: 0009_drafts
"""
from alembic import op
import sqlalchemy as sa

import engine.store.models

revision = "0011_calendar_drafts"
down_revision = "0009_drafts"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = engine.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_changes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("draft_id", _ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["design_drafts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendar_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_changes_draft_id"), ["draft_id"], unique=False)
    op.create_table(
        "calendar_recounts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("draft_id", _ID, nullable=False),
        sa.Column("calendar_version", sa.Integer(), nullable=False),
        sa.Column("instance_id", _ID, nullable=False),
        sa.Column("element", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_due", _TS, nullable=False),
        sa.Column("new_due", _TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("claimed_until", _TS, nullable=True),
        sa.Column("done_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["draft_id"], ["design_drafts.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendar_recounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_recounts_draft_id"), ["draft_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_recounts_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("calendar_recounts")
    op.drop_table("calendar_changes")
