"""the organisation's directory of groups, edited by the administrator

Revision ID: 0013_directory
Revises: 0012_monitor

- ``directory_groups``: user group code -> name, institution, notes, active, and who changed it last.
  Created empty: the directory is data the administrator edits, not procedure data. A deploy inserts
  the ``[groups.*]`` codes of its ``lanes.toml`` that the table lacks and never overwrites a row
  (``engine.deploy.directory``), so a fresh install still gets the shipped groups; until then the labels
  fall back to the ``lanes`` part of the deployed versions (``engine.run.runtime.group_names``).
"""
from alembic import op
import sqlalchemy as sa

import engine.store.models

revision = "0013_directory"
down_revision = "0012_monitor"
branch_labels = None
depends_on = None

_TS = engine.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "directory_groups",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("institution", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("directory_groups")
