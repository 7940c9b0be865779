"""Moving running cases of «orden_proteccion» from version 1 to a version 2 (issue 12, item 7).

Version 1 is the shipped diagram. A case started on Monday 2 March 2026 at 10:00 (Hermosillo) waits at
«Valorar el riesgo», whose boundary timer «Plazo de emisión vencido» ends 4 hours after the facts became
known (LGAMVLV art. 28, parameter ``orden_proteccion.emision_horas`` = 4): 10:00 + 4 h = 14:00 the same
day. The versions 2 below change that deadline, remove an open step, or change nothing a case holds.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput
from engine.services import SYSTEM
from engine.store.models import Event, Task, Timer
from tests.procedures.conftest import USER, example, hmo, local, start  # noqa: F401  (start: a fixture)
from tests.web.conftest import REAL_USERS, REAL_WORKFLOWS, make_tramita

DESIGNER = [("lucia", "legal_designer", "ISM", [])]
OLD_TIMER = 'plazo_horas(fecha_conocimiento, parametros["orden_proteccion"]["emision_horas"], "LGAMVLV art. 28")'
NEW_TIMER = 'plazo_horas(fecha_conocimiento, 6, "LGAMVLV art. 28, reforma de prueba")'


@pytest.fixture
def t(db_url: str, frozen_clock: Any) -> Iterator[Any]:
    frozen_clock.set(hmo("2026-03-02T10:05:00"))
    tr = make_tramita(db_url, REAL_WORKFLOWS, REAL_USERS + DESIGNER)
    yield tr
    tr.db.dispose()


def version_two(t: Any, tmp_path: Path, edit: Any, parameters: Any = None, bpmn: str = "orden_proteccion") -> None:
    """Deploy the shipped folder with ``edit`` applied to orden_proteccion.bpmn (and ``parameters`` to
    parameters.toml) as version 2."""
    folder = tmp_path / "workflows"
    shutil.copytree(REAL_WORKFLOWS, folder)
    diagram = folder / "bpmn" / f"{bpmn}.bpmn"
    diagram.write_text(edit(diagram.read_text(encoding="utf-8")), encoding="utf-8")
    if parameters is not None:
        toml = folder / "parameters.toml"
        toml.write_text(parameters(toml.read_text(encoding="utf-8")), encoding="utf-8")
    t.design.deploy_paths(SYSTEM, [folder], note="versión 2 de prueba")


OLD_PLAZO = 'cantidad="parametros.orden_proteccion.emision_horas" unidad="horas"'


def six_hours(xml: str) -> str:
    """The term as the studio's Plazo group writes it: the extension and the timer expression."""
    assert xml.count(OLD_TIMER) >= 1 and OLD_PLAZO in xml
    return xml.replace(OLD_TIMER, NEW_TIMER).replace(OLD_PLAZO, 'cantidad="6" unidad="horas"')


def without_emitir_orden(xml: str) -> str:
    """«Emitir la orden» becomes another element (a new id): the old one no longer exists."""
    return re.sub(r"\bemitir_orden\b", "emitir_orden_reformada", xml)


def new_case(t: Any) -> int:
    return t.start("orden_proteccion", example("orden_proteccion_inicio"), USER).instance_id


def open_task(t: Any, iid: int, name: str) -> Any:
    return next(x for x in t.tasks(instance_id=iid) if x.name == name)


def pending(t: Any, iid: int) -> list[Any]:
    with t.db.read() as s:
        return list(s.execute(select(Timer).where(Timer.instance_id == iid, Timer.status == "pending")).scalars())


def snapshot(t: Any, iid: int) -> tuple[Any, ...]:
    with t.db.read() as s:
        from engine.store.models import Instance

        inst = s.get(Instance, iid)
        timers = sorted((r.task_name, r.due_at, r.status) for r in s.execute(
            select(Timer).where(Timer.instance_id == iid)).scalars())
        tasks = sorted((r.id, r.state, r.due_at, r.title) for r in s.execute(
            select(Task).where(Task.instance_id == iid)).scalars())
        events = s.execute(select(Event.kind).where(Event.instance_id == iid)).scalars().all()
        return inst.definition_id, inst.revision, inst.state, timers, tasks, events


def test_a_changed_deadline_is_counted_again_and_says_why(t: Any, tmp_path: Path) -> None:
    lucia = t.people.find_user("lucia")
    iid = new_case(t)
    [timer] = [x for x in pending(t, iid) if x.task_name == "plazo_emision_valoracion"]
    assert timer.due_at == hmo("2026-03-02T14:00:00")  # 10:00 + 4 h (LGAMVLV art. 28)
    version_two(t, tmp_path, six_hours)

    [preview] = t.migration.move_previews(lucia, "orden_proteccion")
    assert preview.can_move and (preview.from_version, preview.to_version) == (1, 2)
    assert any("se recalcula" in line and "02/03/2026 14:00" in line and "02/03/2026 16:00" in line
               for line in preview.lines), preview.lines
    assert snapshot(t, iid)[0] == snapshot(t, iid)[0]  # the preview writes nothing
    with pytest.raises(InvalidInput) as missing:
        t.migration.move(lucia, "orden_proteccion", 2, [iid], "  ")
    assert missing.value.field == "reason"
    with pytest.raises(Forbidden):
        t.migration.move(t.people.find_user("mp"), "orden_proteccion", 2, [iid], "Reforma")

    data_before = t.instance(iid).data
    [result] = t.migration.move(lucia, "orden_proteccion", 2, [iid], "Reforma al art. 28 (prueba)")
    assert result.moved and result.reason == "" and (result.from_version, result.to_version) == (1, 2)
    assert t.instance(iid).instance.version == 2
    assert t.instance(iid).data == data_before and data_before["hechos"]  # the case keeps every datum
    # Version 2 counts 6 hours from the same moment: 10:00 + 6 h = 16:00.
    [timer] = [x for x in pending(t, iid) if x.task_name == "plazo_emision_valoracion"]
    assert timer.due_at == hmo("2026-03-02T16:00:00")
    rule = timer.deadline["rule"]
    assert "versión 1 a la 2" in rule and "calcula de otro modo" in rule and "14:00" in rule, rule
    assert "4 (parámetro orden_proteccion.emision_horas) horas → 6 horas" in rule  # in a lawyer's words
    assert timer.deadline["moved"]["reason"] == "Reforma al art. 28 (prueba)"
    assert timer.deadline["previous"]["citation"] or timer.deadline["previous"]
    task = open_task(t, iid, "valorar_riesgo")
    assert task.due_at == hmo("2026-03-02T16:00:00")  # the open step's due date follows its timer
    with t.db.read() as s:
        [event] = s.execute(select(Event).where(Event.instance_id == iid, Event.kind == "instance_moved")).scalars()
    assert event.actor == "lucia" and event.detail["reason"] == "Reforma al art. 28 (prueba)"
    assert (event.detail["from_version"], event.detail["to_version"]) == (1, 2)
    # The case goes on on version 2.
    t.complete(task.id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    assert open_task(t, iid, "emitir_orden")


def test_a_new_legal_parameter_counts_the_deadline_again(t: Any, tmp_path: Path) -> None:
    """Version 2 keeps the expression but its parameters say 8 hours (the 2013 text): 10:00 + 8 h = 18:00."""
    lucia = t.people.find_user("lucia")
    iid = new_case(t)
    old = "[orden_proteccion.emision_horas]\nvalue = 4\n"
    version_two(t, tmp_path, lambda xml: xml, lambda toml: toml.replace(old, old.replace("4", "8")) if old in toml
                else pytest.fail("emision_horas is no longer 4 in parameters.toml"))
    [result] = t.migration.move(lucia, "orden_proteccion", 2, [iid], "Parámetros de 2013")
    assert result.moved, result.reason
    [timer] = [x for x in pending(t, iid) if x.task_name == "plazo_emision_valoracion"]
    assert timer.due_at == hmo("2026-03-02T18:00:00")
    assert "cambia los parámetros legales (orden_proteccion.emision_horas)" in timer.deadline["rule"]
    assert t.instance(iid).data["parametros"]["orden_proteccion"]["emision_horas"] == 8


def test_an_unchanged_deadline_stays_as_it_was(t: Any, tmp_path: Path, frozen_clock: Any) -> None:
    lucia = t.people.find_user("lucia")
    iid = new_case(t)
    before = pending(t, iid)
    frozen_clock.set(hmo("2026-03-02T11:30:00"))  # a reset would count again from now if it could
    version_two(t, tmp_path, lambda xml: xml.replace('name="Valorar el riesgo"', 'name="Valorar el riesgo (art. 42)"'))
    [result] = t.migration.move(lucia, "orden_proteccion", None, [iid], "Nombre del paso")
    assert result.moved, result.reason
    after = pending(t, iid)
    assert [(x.id, x.due_at, x.deadline) for x in after] == [(x.id, x.due_at, x.deadline) for x in before]
    assert open_task(t, iid, "valorar_riesgo").title == "Valorar el riesgo (art. 42)"


def test_a_removed_open_step_is_refused_and_nothing_changes(t: Any, tmp_path: Path) -> None:
    lucia = t.people.find_user("lucia")
    iid = new_case(t)
    t.complete(open_task(t, iid, "valorar_riesgo").id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    assert open_task(t, iid, "emitir_orden")
    before = snapshot(t, iid)
    version_two(t, tmp_path, without_emitir_orden)
    [preview] = t.migration.move_previews(lucia, "orden_proteccion")
    assert not preview.can_move and "«Emitir la orden de protección» (emitir_orden) no existe en la versión 2" in preview.lines[0]
    [result] = t.migration.move(lucia, "orden_proteccion", 2, [iid], "Reforma")
    assert not result.moved and "no existe en la versión 2" in result.reason
    assert snapshot(t, iid) == before


def test_a_case_that_went_through_a_removed_step_is_refused(t: Any, tmp_path: Path) -> None:
    lucia = t.people.find_user("lucia")
    iid = new_case(t)
    t.complete(open_task(t, iid, "valorar_riesgo").id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    before = snapshot(t, iid)
    version_two(t, tmp_path, lambda xml: re.sub(r"\bvalorar_riesgo\b", "valorar_riesgo_reformada", xml))
    [result] = t.migration.move(lucia, "orden_proteccion", 2, [iid], "Reforma")
    assert not result.moved
    assert "El caso ya pasó por «Valorar el riesgo» (valorar_riesgo), que no existe en la versión 2" in result.reason
    assert snapshot(t, iid) == before


def test_bulk_one_refused_the_others_moved(t: Any, tmp_path: Path) -> None:
    lucia = t.people.find_user("lucia")
    waiting = [new_case(t), new_case(t)]  # at «Valorar el riesgo»: «Emitir la orden» is only ahead of them
    ahead = new_case(t)
    t.complete(open_task(t, ahead, "valorar_riesgo").id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    before = snapshot(t, ahead)
    version_two(t, tmp_path, without_emitir_orden)
    results = t.migration.move(lucia, "orden_proteccion", 2, None, "Reforma: emisión")
    assert [(r.instance_id, r.moved) for r in results] == [(waiting[0], True), (waiting[1], True), (ahead, False)]
    assert "Emitir la orden de protección" in results[2].reason
    assert snapshot(t, ahead) == before
    for iid in waiting:
        assert t.instance(iid).instance.version == 2
        t.complete(open_task(t, iid, "valorar_riesgo").id, example("orden_proteccion_valoracion_riesgo", 0), USER)
        assert open_task(t, iid, "emitir_orden_reformada")
    # A case that is not running, or does not exist, is refused with its reason; the others still move.
    t.cancel(waiting[0], "mp", "desistimiento")
    fresh = new_case(t)  # on version 2, at «Valorar el riesgo», which version 1 has too
    again = t.migration.move(lucia, "orden_proteccion", 1, [waiting[0], 999999, waiting[1], fresh], "Volver")
    assert [(r.moved, r.reason) for r in again[:2]] == [(False, "El caso fue cancelado: no se mueve."),
                                                      (False, "El caso 999999 no existe.")]
    assert not again[2].moved and "El paso abierto «Emitir la orden de protección» (emitir_orden_reformada) no existe" in \
        again[2].reason
    assert again[3].moved and t.instance(fresh).instance.version == 1
    t.suspend(fresh, "mp", "amparo")
    [held] = t.migration.move(lucia, "orden_proteccion", 2, [fresh], "Otra vez")
    assert (held.moved, held.reason) == (False, "El caso está suspendido: reanúdelo antes de moverlo.")
    t.resume(fresh, "mp")
    assert t.migration.move(lucia, "orden_proteccion", 2, [fresh], "Otra vez")[0].moved


AGRAVIO_TERM = 'plazo_habil(fecha_aceptacion, parametros["agravio"]["procedencia_dias_habiles"], ' \
               '"Reglamento art. 36, segundo párrafo")'


def test_an_agravio_inside_its_investigation_moves_with_a_shorter_term(t: Any, start: Any,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    """An agravio admitted on Monday 9 March 2026 waits inside the subprocess «investigacion» at
    «planear_investigacion»; the subprocess's boundary timer ends 45 días hábiles after the acceptance
    (Reglamento art. 36): from 10 March, without weekends and 16 March (LFT art. 74; 2-3 April count while
    their acuerdo is pending) and 1 May, the 45th is Wednesday 13 May 2026 (23:59:59). A version 2 that says
    30 días hábiles ends on the 30th: 10-13 Mar (4), 17-20 (8), 23-27 (13), 30 Mar-3 Apr (18), 6-10 Apr (23),
    13-17 Apr (28), 20-21 Apr (30): Tuesday 21 April 2026."""
    from tests.procedures.test_agravio import admitida

    c = admitida(t, start)
    assert local(c.timer("plazo_procedencia_vencido").due_at) == "2026-05-13T23:59:59-07:00"
    version_two(t, tmp_path, lambda xml: xml.replace(AGRAVIO_TERM, AGRAVIO_TERM.replace(
        'parametros["agravio"]["procedencia_dias_habiles"]', "30")), bpmn="agravio")
    [preview] = [p for p in t.migration.move_previews(SYSTEM, "agravio") if p.instance_id == c.id]
    assert preview.can_move, preview.lines
    [result] = t.migration.move(SYSTEM, "agravio", 2, [c.id], "Reforma al art. 36 (prueba)")
    assert result.moved, result.reason
    timer = c.timer("plazo_procedencia_vencido")
    assert local(timer.due_at) == "2026-04-21T23:59:59-07:00"
    assert "de la versión 1 a la 2" in timer.deadline["rule"]
    assert local(c.task("planear_investigacion").due_at) == "2026-04-21T23:59:59-07:00"
    c.do("planear_investigacion", example("agravio_plan_investigacion", 1), at="2026-03-20T10:00:00")
    assert c.open() == ["elaborar_proyecto_dictamen"]
