"""drafts: legal designers' drafts, change notes of deployed versions, design audit

Revision ID: 0009_drafts
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import engine.store.models

revision = "0009_drafts"
down_revision = "0008_folios_register"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = engine.store.models.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "design_drafts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("process_key", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("effective_from", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_at", _TS, nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.Column("deployed_version", sa.Integer(), nullable=True),
        sa.Column("forms", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("design_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_design_drafts_process_key"), ["process_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_design_drafts_author"), ["author"], unique=False)
    op.create_table(
        "version_notes",
        sa.Column("deployment_id", _ID, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("draft_id", _ID, nullable=True),
        sa.Column("effective_from", _TS, nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["design_drafts.id"]),
        sa.PrimaryKeyConstraint("deployment_id"),
    )
    op.create_table(
        "design_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("draft_id", _ID, nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["design_drafts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("design_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_design_events_draft_id"), ["draft_id"], unique=False)


def downgrade() -> None:
    op.drop_table("design_events")
    op.drop_table("version_notes")
    op.drop_table("design_drafts")
