"""Migration 0005 moves the attachments a node kept on its disk into the database, and back on downgrade."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from engine.store.db import MIGRATIONS, Database


def _migrate(db: Database, revision: str, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        db = Database(request.getfixturevalue("pg_server").create_database(f"m_{uuid.uuid4().hex[:12]}"))
    yield db
    db.dispose()


def test_files_on_disk_move_into_the_database_and_back(empty_db: Database, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, root = empty_db, tmp_path / "attachments"
    monkeypatch.setenv("TRAMITA_ATTACHMENTS", str(root))
    _migrate(db, "0004")
    now = datetime(2026, 12, 1, 16, tzinfo=timezone.utc).replace(tzinfo=None)
    with db.engine.begin() as c:  # a case with two files uploaded under 0004: one on disk, one lost
        c.execute(text("INSERT INTO deployments (id, deployed_at, deployed_by, sha256) VALUES (1, :t, 'x', 'x')"),
                  {"t": now})
        c.execute(text("INSERT INTO deployed_files (id, deployment_id, name, kind, sha256, content) "
                       "VALUES (1, 1, 'a.bpmn', 'bpmn', 'x', '')"))
        c.execute(text("INSERT INTO definitions (id, kind, key, version, sha256, executable, deployment_id, "
                       "file_id, deployed_at, deployed_by) VALUES (1, 'process', 'p', 1, 'x', true, 1, 1, :t, 'x')"),
                  {"t": now})
        c.execute(text("INSERT INTO instances (id, definition_id, process_key, status, state, revision, started_at, "
                       "started_by, updated_at) VALUES (7, 1, 'p', 'running', '{}', 1, :t, 'ana', :t)"), {"t": now})
        for aid, stored in ((1, "a" * 32), (2, "b" * 32)):
            c.execute(text("INSERT INTO attachments (id, instance_id, filename, content_type, size, sha256, "
                           "stored_name, uploaded_by, uploaded_at) VALUES (:i, 7, 'acta.pdf', 'application/pdf', "
                           "13, 'x', :s, 'ana', :t)"), {"i": aid, "s": stored, "t": now})
        if db.engine.dialect.name == "postgresql":  # rows written with explicit ids: move the sequences past them
            for table in ("deployments", "deployed_files", "definitions", "instances", "attachments"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    (root / "7").mkdir(parents=True)
    (root / "7" / ("a" * 32)).write_bytes(b"%PDF-1.4 acta")

    _migrate(db, "0005_node_ready")
    with db.engine.connect() as c:
        rows = c.execute(text("SELECT attachment_id, content FROM attachment_contents")).all()
    assert [(r[0], bytes(r[1])) for r in rows] == [(1, b"%PDF-1.4 acta")]  # the lost file stays lost
    assert "stored_name" not in {col["name"] for col in inspect(db.engine).get_columns("attachments")}

    (root / "7" / ("a" * 32)).unlink()
    _migrate(db, "0004", down=True)
    with db.engine.connect() as c:
        stored = dict(c.execute(text("SELECT id, stored_name FROM attachments")).all())
    assert (root / "7" / stored[1]).read_bytes() == b"%PDF-1.4 acta" and stored[2] == ""
    assert not inspect(db.engine).has_table("attachment_contents") and not inspect(db.engine).has_table("settings")
