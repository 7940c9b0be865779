"""definition parts: the files a version pins besides its diagram

Revision ID: 0006_bundle_parts
Revises: 0004

A procedure version pins its lanes, message routes, legal parameters and data dictionary
(``definition_parts`` -> ``deployed_files``), and the legal calendar is a version of its own
(``definitions.kind = 'calendar'``), so the run layer reads nothing of ``workflows/`` from disk.
Versions deployed before this migration simply have no parts until the next deploy.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_bundle_parts"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "definition_parts",
        sa.Column("definition_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("file_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(["definition_id"], ["definitions.id"]),
        sa.ForeignKeyConstraint(["file_id"], ["deployed_files.id"]),
        sa.PrimaryKeyConstraint("definition_id", "name"),
    )
    op.create_index("ix_definition_parts_file_id", "definition_parts", ["file_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_definition_parts_file_id", table_name="definition_parts")
    op.drop_table("definition_parts")
