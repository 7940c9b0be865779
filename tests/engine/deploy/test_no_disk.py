"""After deploy, the engine reads nothing of ``workflows/`` from disk: the real procedures run from what
their versions pin, with the folder gone and the shipped calendar file unreadable.

Calendar facts used below (worked out by hand, America/Hermosillo): the agravio request is received on
Monday 2 March 2026; Reglamento art. 33 gives the Instituto 5 días hábiles to inform the Sistema
Estatal. The deployed calendar declares Wednesday 4 March inhábil (a test suspension), so the term runs
Tue 3 (1), Thu 5 (2), Fri 6 (3), [Sat 7, Sun 8], Mon 9 (4), Tue 10 (5): it ends Tuesday 10 March
23:59:59 (-07:00). The shipped calendar alone would end it on Monday 9 March.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from engine import config
from engine.time import calendar
from tests.driver import Driver
from tests.procedures.conftest import WORKFLOWS, example, hmo, local

SUSPENSION = ('\n[[inhabil]]\ndate = 2026-03-04\nreason = "Suspensión de labores (prueba)"\n'
              'source = "Acuerdo de prueba"\n')


def test_the_real_procedures_run_with_workflows_gone(db_url: str, tmp_path: Path, frozen_clock,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, copy)
    with (copy / "calendar" / "sonora.toml").open("a", encoding="utf-8") as f:
        f.write(SUSPENSION)
    lanes = tomllib.loads((copy / "lanes.toml").read_text(encoding="utf-8"))
    inicio, registro = example("agravio_inicio"), example("agravio_registro")
    installer = Driver(db_url)
    result = installer.deploy_paths([copy], "instalacion")
    assert sorted((d.kind, d.key) for d in result.definitions if d.created) == [
        ("calendar", "calendario"), ("decision", "rango_sancion"), ("decision", "riesgo_orden_proteccion"),
        ("periodos", "periodos"), ("process", "agravio"), ("process", "auxilio_policial"), ("process", "orden_proteccion"), ("process", "sancion")]
    installer.db.dispose()

    shutil.rmtree(copy)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(config, "WORKFLOWS_DIR", empty)
    monkeypatch.setenv("TRAMITA_WORKFLOWS", str(empty))
    monkeypatch.setattr(calendar, "SHIPPED_CALENDAR", empty / "calendar" / "sonora.toml")
    calendar._shipped.cache_clear()  # any fallback to the shipped file would now fail loudly
    t = Driver(db_url)  # a fresh process's engine: nothing cached
    try:
        frozen_clock.set(hmo("2026-03-02T10:00:00"))
        r = t.start("agravio", inicio, "pruebas")
        [task] = t.tasks(instance_id=r.instance_id)
        assert task.name == "registrar_solicitud"
        assert task.candidate_group == lanes["lanes"][task.lane] != task.lane
        t.complete(task.id, registro, "pruebas")
        informe = [x for x in t.tasks(instance_id=r.instance_id) if x.name == "informar_sistema_estatal"][0]
        assert local(informe.due_at) == "2026-03-10T23:59:59-07:00"
        assert informe.deadline["calendar_version"] == 1
        assert ("2026-03-04", "Suspensión de labores (prueba)") in [
            (d["day"], d["reason"]) for d in informe.deadline["skipped"]]
        parametros = t.instance(r.instance_id).data["parametros"]
        assert parametros["agravio"]["informe_sistema_dias_habiles"] == 5
        assert {"desde": "2026-02-01", "hasta": "2027-01-31", "valor": 117.31} in parametros["uma"]["periodos"]
        parts = t.runtime.instance_parts(r.instance_id)
        assert parts.message_routes == {"solicitud_procedimiento_sancion": "sancion"}
        assert parts.dictionary is not None and parts.dictionary["properties"]
        assert t.group_name("instituto") == "Secretaría Ejecutiva del Sistema Estatal"
        assert not any(empty.iterdir())
    finally:
        t.db.dispose()
        calendar._shipped.cache_clear()
