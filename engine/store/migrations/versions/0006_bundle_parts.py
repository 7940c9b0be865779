"""definition parts: the files a version pins besides its diagram

Revision ID: 0006_bundle_parts
Revises: 0004

A procedure version pins its lanes, message routes, legal parameters and data dictionary
(``definition_parts`` -> ``deployed_files``), and the legal calendar is a version of its own
(``definitions.kind = 'calendar'``), so the run layer reads nothing of ``workflows/`` from disk.

Versions deployed before this migration ran with the files of ``workflows/`` as they are on disk
now, so the upgrade stores those files once (one deployment by ``migracion-0006``) and every
existing procedure version pins them: its running cases keep their lanes, routes and data names.
"""
import hashlib
from datetime import datetime, timezone
from pathlib import Path

from alembic import op
import sqlalchemy as sa

from engine import config
import engine.store.models

revision = "0006_bundle_parts"
down_revision = "0005_node_ready"
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
    _pin_the_files_on_disk(config.WORKFLOWS_DIR)


_TS = engine.store.models.UTCDateTime(timezone=True)
_DEFINITIONS = sa.table("definitions", sa.column("id", _ID), sa.column("kind", sa.String),
                        sa.column("key", sa.String))
_DEPLOYMENTS = sa.table("deployments", sa.column("id", _ID), sa.column("deployed_at", _TS),
                        sa.column("deployed_by", sa.String), sa.column("sha256", sa.String))
_FILES = sa.table("deployed_files", sa.column("id", _ID), sa.column("deployment_id", _ID),
                  sa.column("name", sa.String), sa.column("kind", sa.String), sa.column("sha256", sa.String),
                  sa.column("content", sa.Text))
_PARTS = sa.table("definition_parts", sa.column("definition_id", _ID), sa.column("name", sa.String),
                  sa.column("file_id", _ID))


def _pin_the_files_on_disk(workflows: Path) -> None:
    conn = op.get_bind()
    processes = conn.execute(sa.select(_DEFINITIONS.c.id, _DEFINITIONS.c.key)
                             .where(_DEFINITIONS.c.kind == "process")).all()
    shared = {path.stem: path for path in sorted(workflows.glob("*.toml"))}
    if not processes or not shared and not (workflows / "datos").is_dir():
        return
    files: dict[Path, tuple[str, str]] = {}  # path -> (name in the bundle, kind)
    for path in shared.values():
        files[path] = (path.name, "part")
    for _, key in processes:
        datos = workflows / "datos" / f"{key}.schema.json"
        if datos.is_file():
            files[datos] = (f"datos/{datos.name}", "datos")
    if not files:
        return
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    digests = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in texts.items()}
    bundle = hashlib.sha256("".join(sorted(digests.values())).encode()).hexdigest()
    deployment = conn.execute(sa.insert(_DEPLOYMENTS).values(
        deployed_at=datetime.now(timezone.utc), deployed_by="migracion-0006", sha256=bundle)
        .returning(_DEPLOYMENTS.c.id)).scalar_one()
    ids = {}
    for path, (name, kind) in files.items():
        ids[path] = conn.execute(sa.insert(_FILES).values(
            deployment_id=deployment, name=name, kind=kind, sha256=digests[path], content=texts[path])
            .returning(_FILES.c.id)).scalar_one()
    rows = []
    for definition_id, key in processes:
        rows += [{"definition_id": definition_id, "name": stem, "file_id": ids[path]} for stem, path in shared.items()]
        datos = workflows / "datos" / f"{key}.schema.json"
        if datos in ids:
            rows.append({"definition_id": definition_id, "name": "datos", "file_id": ids[datos]})
    if rows:
        conn.execute(sa.insert(_PARTS), rows)


def downgrade() -> None:
    """The parts go; the files the upgrade stored stay (harmless, and deployments are never deleted)."""
    op.drop_index("ix_definition_parts_file_id", table_name="definition_parts")
    op.drop_table("definition_parts")
