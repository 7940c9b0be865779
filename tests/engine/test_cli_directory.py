"""``tramita directory list|set|disable|enable``: the administrator's directory of groups from the command
line, audited under the acting account; bad input exits 2 with one Spanish line and changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

from engine.store.db import Database
from engine.store.models import Event
from engine.store.states import EventKind
from tests.cli_runner import runner


def test_directory_list_set_disable_enable(tmp_path: Path, sqlite_template: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.db"
    shutil.copy(sqlite_template, db)
    run = runner(f"sqlite:///{db}", monkeypatch, capsys)
    assert run("directory", "list").out.strip() == "no groups"
    r = run("directory", "set", "juridico", "--name", "Área jurídica", "--institution", "ISM", "--notes", "Consultas")
    assert r.code == 0 and "juridico saved" in r.out
    assert run("directory", "set", "Jurídico", "--name", "X", "--institution", "ISM").one_line_error.startswith(
        "tramita: Clave no válida")
    assert run("directory", "set", "otro", "--name", " ", "--institution", "ISM").one_line_error.startswith(
        "tramita: Falta el nombre del grupo")
    assert run("directory", "disable", "no_existe").one_line_error == "tramita: El grupo no existe en el directorio."
    assert run("directory", "disable", "juridico").code == 0
    listed = json.loads(run("directory", "list", "--json").out)
    assert listed == [{"code": "juridico", "name": "Área jurídica", "institution": "ISM", "notes": "Consultas",
                       "active": False}]
    monkeypatch.setenv("TRAMITA_NEW_PASSWORD", "contrasena-larga-1")
    assert run("users", "add", "ana", "--role", "caseworker", "--institution", "ISM").code == 0
    assert run("directory", "enable", "juridico", "--user", "ana").one_line_error.startswith("tramita: Solo la administración")
    assert run("users", "add", "root", "--role", "admin", "--institution", "ISM").code == 0
    assert run("directory", "enable", "juridico", "--user", "root").code == 0
    d = Database(f"sqlite:///{db}")
    with d.read() as s:
        rows = [(e.actor, e.detail["action"]) for e in
                s.execute(select(Event).where(Event.kind == EventKind.DIRECTORY_CHANGED).order_by(Event.id)).scalars()]
    d.dispose()
    assert rows == [("sistema", "added"), ("sistema", "disabled"), ("root", "enabled")]
