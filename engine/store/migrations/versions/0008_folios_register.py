"""folio counters and the register of protection orders

Revision ID: 0008_folios_register
Revises: 0004

``folio_counters``: the last number given per series (``OP-FGJE``) and year, so that folios are
unique per issuing institution and year (Reglamento art. 43), enforced by the primary key under
concurrency. ``register_entries``: the register of protection orders and their violations
(Reglamento arts. 23 IV and 28), written in the transaction of the act it records.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_folios_register"
down_revision = "0007_sessions"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "folio_counters",
        sa.Column("series", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last_value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "register_entries",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("instance_id", _ID, sa.ForeignKey("instances.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("folio", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_register_entries_kind_key"),
    )
    op.create_index("ix_register_entries_instance_id", "register_entries", ["instance_id"])
    op.create_index("ix_register_entries_folio", "register_entries", ["folio"])
    op.create_index("ix_register_entries_year_kind", "register_entries", ["year", "kind"])


def downgrade() -> None:
    op.drop_table("register_entries")
    op.drop_table("folio_counters")
