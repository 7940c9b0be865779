"""Migration 0006: versions deployed before it pin the files of ``workflows/`` as they are at the upgrade,
so a case already running keeps its lanes, message routes and data names."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from engine.deploy.parts import load_parts
from engine.store.db import MIGRATIONS, Database
from tests.procedures.conftest import WORKFLOWS


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("pg_server").create_database(f"m_{uuid.uuid4().hex[:12]}")


def _upgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def test_existing_versions_pin_the_files_on_disk(bare_url: str) -> None:
    db = Database(bare_url)
    try:
        _upgrade(db, "0004")
        now = datetime(2026, 11, 1, tzinfo=timezone.utc).replace(tzinfo=None)
        with db.engine.begin() as c:  # what 0004's code stored for one deploy: no parts
            deployment = c.execute(text("INSERT INTO deployments (deployed_at, deployed_by, sha256) "
                                        "VALUES (:now, 'antes', 'x') RETURNING id"), {"now": now}).scalar_one()
            file_id = c.execute(text("INSERT INTO deployed_files (deployment_id, name, kind, sha256, content) "
                                     "VALUES (:d, 'sancion.bpmn', 'bpmn', 'x', '<x/>') RETURNING id"),
                                {"d": deployment}).scalar_one()
            definition = c.execute(text(
                "INSERT INTO definitions (kind, key, version, name, sha256, executable, deployment_id, file_id, "
                "deployed_at, deployed_by) VALUES ('process', 'sancion', 1, 'Sanción', 'x', true, :d, :f, :now, "
                "'antes') RETURNING id"), {"d": deployment, "f": file_id, "now": now}).scalar_one()
        db.upgrade()
        with db.read() as s:
            parts = load_parts(s, definition)
        assert sorted(parts.texts) == ["datos", "documentos", "eventos", "lanes", "messages", "parameters",
                                       "supervision"]
        assert parts.texts["lanes"] == (WORKFLOWS / "lanes.toml").read_text(encoding="utf-8")
        assert parts.group_for_lane("Autoridad sancionadora") == "autoridad_sancionadora"
        assert parts.message_routes == {"solicitud_procedimiento_sancion": "sancion"}
        assert parts.dictionary["properties"]["multa_pesos"]["title"] == "Multa (pesos)"
        with db.engine.connect() as c:
            assert c.execute(text("SELECT deployed_by FROM deployments WHERE id <> :d"), {"d": deployment}).scalars().all() == [
                "migracion-0006"]
    finally:
        db.dispose()
