"""``tramita users groups|email`` and ``tramita alerts send``: one-line Spanish refusals, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli_runner import runner


def test_users_email_groups_and_alerts_send(tmp_path: Path, sqlite_template: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.db"
    shutil.copy(sqlite_template, db)
    run = runner(f"sqlite:///{db}", monkeypatch, capsys)
    monkeypatch.setenv("TRAMITA_NEW_PASSWORD", "contrasena-larga-1")
    assert run("users", "add", "ana", "--role", "caseworker", "--institution", "ISM").code == 0
    r = run("users", "email", "ana", "ana@ism.test")
    assert r.code == 0 and "ana@ism.test" in r.out
    assert run("users", "email", "ana", "no-es-correo").one_line_error.startswith(
        "tramita: El correo electrónico no es válido")
    assert run("users", "groups", "ana", "instituto", "sistema_estatal").code == 0
    assert "instituto,sistema_estatal" in run("users", "list").out
    monkeypatch.delenv("TRAMITA_SMTP_URL", raising=False)
    assert run("alerts", "send").one_line_error == "tramita: Falta TRAMITA_SMTP_URL (smtp://servidor:puerto)."
