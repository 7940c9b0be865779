"""``tramita affected orden_proteccion``: cases started on the version before issue 10 that can still lapse
without a new risk assessment (item "Cases already running").

The earlier diagram is kept as a fixture (``fixtures/orden_proteccion_anterior.bpmn``, the version whose
missing ratification ended the order at once). A third party's request issued on it, still waiting for
the end of the risk, can still reach ``registrar_caducidad``, which the newest version removed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import runner
from tests.procedures.conftest import FORMS, USER, WORKFLOWS, example, hmo

FIXTURE = Path(__file__).parent / "fixtures" / "orden_proteccion_anterior.bpmn"


def test_lista_los_casos_en_curso_que_aun_pueden_caducar(tmp_path: Path, sqlite_template: Path, frozen_clock: Any,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.driver import Driver

    db = tmp_path / "afectados.db"
    shutil.copy(sqlite_template, db)
    t = Driver(f"sqlite:///{db}")
    # Version 1: the earlier diagram (with the forms and decision tables it uses).
    t.deploy_paths([FIXTURE, FORMS, WORKFLOWS / "dmn", WORKFLOWS / "parameters.toml", WORKFLOWS / "lanes.toml",
                    WORKFLOWS / "messages.toml"], "instalacion")
    frozen_clock.set(hmo("2026-03-02T10:00:00"))
    inicio = example("orden_proteccion_inicio", 1)
    viejo = t.start("orden_proteccion", inicio, USER).instance_id
    valorar = [x for x in t.tasks(instance_id=viejo) if x.name == "valorar_riesgo"][0]
    t.complete(valorar.id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    emitir = [x for x in t.tasks(instance_id=viejo) if x.name == "emitir_orden"][0]
    t.complete(emitir.id, example("orden_proteccion_emision", 0), USER)
    notificar = [x for x in t.tasks(instance_id=viejo) if x.name == "notificar_orden"][0]
    notificada = example("orden_proteccion_notificacion", fecha_hora_notificacion="2026-03-02T10:00:00-07:00")
    notificada["notificacion_persona_agresora"]["fecha_hora"] = "2026-03-02T10:00:00-07:00"
    t.complete(notificar.id, notificada, USER)  # notified as issued, at 10:00: not later than now (item 19)
    denegado = t.start("orden_proteccion", inicio, USER).instance_id  # denied: it ends, never affected
    valorar = [x for x in t.tasks(instance_id=denegado) if x.name == "valorar_riesgo"][0]
    t.complete(valorar.id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    emitir = [x for x in t.tasks(instance_id=denegado) if x.name == "emitir_orden"][0]
    t.complete(emitir.id, example("orden_proteccion_emision", 1), USER)
    # Version 2: the diagram of issue 10; a case started now is on it and is not listed.
    t.deploy_paths([WORKFLOWS], "instalacion")
    nuevo = t.start("orden_proteccion", inicio, USER).instance_id
    from engine.services import SYSTEM

    # The studio's preview of a move says the same of the case (issue 12, item 7).
    [preview] = [p for p in t.migration.move_previews(SYSTEM, "orden_proteccion") if p.instance_id == viejo]
    assert "registrar_caducidad" in preview.reachable_removed
    # It waits at boundary events the newest version removed: it cannot move, it is handled by hand.
    assert not preview.can_move
    assert any("«Cada 24 horas, primeros 6 días» (contacto_24_horas) no existe en la versión 2" in line
               for line in preview.lines), preview.lines
    t.db.dispose()

    run = runner(f"sqlite:///{db}", monkeypatch, capsys)
    result = run("affected", "orden_proteccion", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["latest_version"] == 2
    [caso] = report["cases"]
    assert caso["instance_id"] == viejo and caso["version"] == 1 and viejo != nuevo
    assert {"registrar_caducidad", "fin_orden_caducada", "contacto_24_horas"} <= set(caso["reachable_removed"])
    assert "esperar_cese_riesgo" in caso["waiting_at"]
    text = run("affected", "orden_proteccion")
    assert text.code == 0 and f"instance {viejo} " in text.out and "registrar_caducidad" in text.out
    bad = run("affected", "no_existe")
    assert bad.code == 2 and bad.err.startswith("tramita: ") and len(bad.err.strip().splitlines()) == 1
