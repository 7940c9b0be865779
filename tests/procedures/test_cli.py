"""A whole sanction case followed with the command line only (issue 4, "Done when"):
``tramita start``, ``tasks``, ``complete``, ``timers fire --as-of``, ``instance``.

The issue's own example: a resolution notified on Friday 2026-12-18 can be appealed until
2026-12-28T23:59:59-07:00 (5 días hábiles, art. 54; 25 December is a holiday), so a pass of the
timers as of that last second fires nothing, and one as of 29 December closes the term.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import runner
from tests.procedures.conftest import example, hmo


@pytest.fixture
def run(tmp_path: Path, deployed_sqlite: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Any:
    import shutil

    db = tmp_path / "cli.db"
    shutil.copy(deployed_sqlite, db)
    cli_run = runner(f"sqlite:///{db}", monkeypatch, capsys)

    def _run(*args: str) -> str:
        result = cli_run(*args)  # an operator at the command line acts as sistema
        assert result.code == 0, result.err
        return result.out

    return _run


def test_un_caso_de_sancion_con_la_linea_de_comandos(run: Any, frozen_clock: Any) -> None:
    def complete(instance: int, name: str, data: dict[str, Any], at: str) -> None:
        frozen_clock.set(hmo(at))
        [task] = [t for t in json.loads(run("tasks", "--instance", str(instance), "--json")) if t["name"] == name]
        run("complete", task["id"], "--data", json.dumps(data))

    frozen_clock.set(hmo("2026-03-11T09:00:00"))
    out = run("start", "sancion", "--data", json.dumps(example("sancion_inicio")))
    instance = int(out.split()[1])
    assert "running" in out
    complete(instance, "registrar_infraccion", example("sancion_registro"), "2026-03-11T10:00:00")
    complete(instance, "citar_partes", example("sancion_citacion"), "2026-04-01T10:00:00")
    complete(instance, "desahogar_comparecencia", example("sancion_comparecencia"), "2026-04-10T10:00:00")
    complete(instance, "dictar_resolucion", example("sancion_resolucion"), "2026-06-15T10:00:00")
    complete(instance, "notificar_resolucion", example("sancion_notificacion"), "2026-12-18T12:00:00")
    [recurso] = json.loads(run("tasks", "--instance", str(instance), "--json"))
    assert recurso["name"] == "interponer_recurso"
    assert hmo(recurso["due_at"]) == hmo("2026-12-28T23:59:59-07:00")

    assert run("timers", "fire", "--as-of", "2026-12-28T23:59:59-07:00").strip() == "0 timer(s) fired"
    out = run("timers", "fire", "--as-of", "2026-12-29T00:00:00-07:00")
    assert "plazo_recurso_vencido" in out and out.strip().endswith("1 timer(s) fired")
    assert [t["name"] for t in json.loads(run("tasks", "--instance", str(instance), "--json"))] == [
        "certificar_recurso"]
    complete(instance, "certificar_recurso", example("sancion_certificacion_recurso"), "2026-12-29T10:00:00")
    complete(instance, "remitir_cobro", example("sancion_remision_cobro"), "2027-01-05T10:00:00")
    # Art. 47, last paragraph: the fiscal authority reports the payment (or an exchange for arrest).
    complete(instance, "registrar_resultado_cobro", example("sancion_resultado_cobro"), "2027-01-20T10:00:00")
    detail = json.loads(run("instance", str(instance), "--json"))
    assert detail["instance"]["status"] == "completed"
    assert detail["data"]["resolucion_firme"] is True
