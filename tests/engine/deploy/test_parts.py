"""A procedure is one deployed version, whole: its lanes, message routes, parameters and data names are
stored at deploy and pinned by each case, and the legal calendar is versioned on its own.

Calendar facts used below (worked out by hand, America/Hermosillo):
* 2026-12-01 is a Tuesday; 2026-12-05/06 and 12/13 are weekends.
* 3 días hábiles from Tuesday 1 December run from the next day: Wed 2 (1), Thu 3 (2), Fri 4 (3), so the
  term ends Friday 4 December 23:59:59 (-07:00). With Thursday 3 December declared inhábil, the third
  día hábil is Monday 7 December (Sat 5 and Sun 6 are not counted either).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.deploy.versions import BundleFile, collect_files
from engine.errors import DeploymentRejected, Forbidden
from engine.services import UserView
from engine.store.models import Definition, DefinitionPart, Deployment
from tests.diagrams import flows, process, script_task, user_task

# start -> leer (copies a parameter into the case) -> revisar -> dictaminar -> end, all in lane "Carril";
# revisar has a 3 días hábiles boundary timer counted from 2026-12-01.
LANE = ('<bpmn:laneSet id="carriles"><bpmn:lane id="carril" name="Carril">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
                  for n in ("start", "leer", "revisar", "vence", "dictaminar", "fin", "fin_vencido"))
        + "</bpmn:lane></bpmn:laneSet>")
FORM_REF = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="revisar.schema.json"/></spiffworkflow:properties>'
            '</bpmn:extensionElements>')
PROCESS = process("con_partes", "\n".join([
    LANE, '<bpmn:startEvent id="start"/>',
    script_task("leer", 'plazo = parametros["prueba"]["plazo"]'),
    user_task("revisar", "Revisar", extra=FORM_REF),
    '<bpmn:boundaryEvent id="vence" attachedToRef="revisar" cancelActivity="true">'
    '<bpmn:timerEventDefinition><bpmn:timeDate>plazo_habil("2026-12-01", 3, "art. 1")</bpmn:timeDate>'
    '</bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    user_task("dictaminar", "Dictaminar"), '<bpmn:endEvent id="fin"/>', '<bpmn:endEvent id="fin_vencido"/>',
    flows(("start", "leer"), ("leer", "revisar"), ("revisar", "dictaminar"), ("dictaminar", "fin"),
          ("vence", "fin_vencido")),
]))
FORM = b'{"type": "object", "properties": {"nota": {"type": "string", "title": "Nota"}}}'
DATOS = b'{"type": "object", "properties": {"plazo": {"title": "Plazo de prueba"}}}'


def parameters(plazo: int) -> BundleFile:
    return BundleFile("parameters.toml", f'[prueba.plazo]\nvalue = {plazo}\ncitation = "art. 1"\n'.encode())


def lanes(group: str) -> BundleFile:
    return BundleFile("lanes.toml", f'[lanes]\n"Carril" = "{group}"\n\n[groups.{group}]\nname = "Grupo {group}"\n'
                      .encode())


def calendar(*days: str) -> BundleFile:
    text = "".join(f'[[inhabil]]\ndate = {d}\nreason = "Suspensión de labores"\nsource = "Acuerdo de prueba"\n\n'
                   for d in days)
    return BundleFile("calendar/prueba.toml", text.encode())


def whole(plazo: int = 5, group: str = "revisores") -> list[BundleFile]:
    return [BundleFile("p.bpmn", PROCESS.encode()), BundleFile("revisar.schema.json", FORM),
            BundleFile("datos/con_partes.schema.json", DATOS), parameters(plazo), lanes(group),
            BundleFile("messages.toml", b'[start.aviso]\nprocess = "con_partes"\ncitation = "art. 2"\n')]


@pytest.fixture(autouse=True)
def _tuesday(frozen_clock: Any) -> Any:
    """Every case here starts on Tuesday 1 December 2026, before its 3 días hábiles run out."""
    return frozen_clock


def created(result: Any) -> list[tuple[str, str, int]]:
    return sorted((d.kind, d.key, d.version) for d in result.definitions if d.created)


def count(tramita: Any, model: Any) -> int:
    with tramita.db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def open_task(tramita: Any, instance_id: int) -> Any:
    [task] = tramita.tasks(instance_id=instance_id)
    return task


def test_the_version_pins_every_part_and_identical_content_is_a_noop(tramita) -> None:
    first = tramita.deploy(whole(), "disenadora")
    assert created(first) == [("process", "con_partes", 1)]
    with tramita.db.read() as s:
        names = sorted(s.execute(select(DefinitionPart.name)).scalars())
    assert names == ["datos", "lanes", "messages", "parameters"]
    again = tramita.deploy(whole(), "disenadora")
    assert again.deployment_id is None and created(again) == []
    assert count(tramita, Deployment) == 1
    # Deploying the diagram alone keeps the parts of the version before it: still nothing new.
    alone = tramita.deploy([BundleFile("p.bpmn", PROCESS.encode())], "disenadora")
    assert alone.deployment_id is None and created(alone) == []


def test_a_parameters_only_change_is_a_new_version_and_the_running_case_keeps_its_value(tramita) -> None:
    tramita.deploy(whole(plazo=5), "d")
    old = tramita.start("con_partes", {}, "u")
    result = tramita.deploy([parameters(7)], "d")  # parameters.toml alone
    assert created(result) == [("process", "con_partes", 2)]
    new = tramita.start("con_partes", {}, "u")
    assert tramita.instance(old.instance_id).instance.version == 1
    assert tramita.instance(new.instance_id).instance.version == 2
    assert tramita.instance(old.instance_id).data["plazo"] == 5
    assert tramita.instance(new.instance_id).data["plazo"] == 7
    # The old case goes on with its own values after the new version exists.
    tramita.complete(old.open_tasks[0], {"nota": "x"}, "u")
    assert tramita.instance(old.instance_id).data["parametros"] == {"prueba": {"plazo": 5}}
    # The same parameters again, whole or alone: no new version.
    assert created(tramita.deploy(whole(plazo=7), "d")) == []
    assert created(tramita.deploy([parameters(7)], "d")) == []


def test_a_lanes_only_change_reassigns_new_cases_and_old_cases_keep_theirs(tramita) -> None:
    tramita.deploy(whole(group="revisores"), "d")
    old = tramita.start("con_partes", {}, "u")
    assert created(tramita.deploy([lanes("dictaminadores")], "d")) == [("process", "con_partes", 2)]
    new = tramita.start("con_partes", {}, "u")
    assert open_task(tramita, new.instance_id).candidate_group == "dictaminadores"
    tramita.complete(old.open_tasks[0], {"nota": "x"}, "u")
    second = open_task(tramita, old.instance_id)
    assert (second.name, second.candidate_group) == ("dictaminar", "revisores")  # its version's lanes
    assert tramita.group_name("dictaminadores") == "Grupo dictaminadores"


def test_a_form_or_data_dictionary_alone_makes_a_new_version(tramita) -> None:
    tramita.deploy(whole(), "d")
    form = BundleFile("revisar.schema.json", FORM.replace(b'"Nota"', b'"Nota del revisor"'))
    assert created(tramita.deploy([form], "d")) == [("process", "con_partes", 2)]
    datos = BundleFile("datos/con_partes.schema.json", DATOS.replace(b"Plazo de prueba", b"Plazo"))
    assert created(tramita.deploy([datos], "d")) == [("process", "con_partes", 3)]
    r = tramita.start("con_partes", {}, "u")
    parts = tramita.runtime.instance_parts(r.instance_id)
    assert parts.dictionary["properties"]["plazo"]["title"] == "Plazo"
    assert parts.message_routes == {"aviso": "con_partes"}
    assert tramita.task_form(r.open_tasks[0]).schema["properties"]["nota"]["title"] == "Nota del revisor"


@pytest.mark.parametrize("files, message", [
    ([BundleFile("parameters.toml", b"[prueba\nvalue = 1")], "parameters.toml: not valid TOML"),
    ([BundleFile("datos/con_partes.schema.json", b"[1, 2]")], "must be a JSON Schema object"),
    ([BundleFile("datos/otro.schema.json", DATOS)], "process otro, which is neither in the bundle nor deployed"),
    ([BundleFile("calendar/prueba.toml", b'[[inhabil]]\ndate = 2026-12-03\nreason = "x"\n')], "falta 'source'"),
    ([BundleFile("notas.txt", b"x")], "only .bpmn, .dmn, .json"),
])
def test_a_bad_part_is_refused_and_nothing_is_stored(tramita, files: list[BundleFile], message: str) -> None:
    tramita.deploy(whole(), "d")
    with pytest.raises(DeploymentRejected, match=message):
        tramita.deploy([BundleFile("p.bpmn", PROCESS.encode()), *files], "d")
    assert count(tramita, Deployment) == 1 and count(tramita, Definition) == 1


def test_deadlines_record_the_calendar_version_they_were_counted_on(tramita) -> None:
    tramita.deploy(whole(), "d")
    before = tramita.start("con_partes", {}, "u")
    # No calendar deployed yet: the shipped file, and no version to name.
    assert open_task(tramita, before.instance_id).deadline["calendar_version"] is None
    first = tramita.deploy([calendar("2026-12-25")], "d")  # a calendar-only bundle
    assert created(first) == [("calendar", "calendario", 1)]
    assert created(tramita.deploy([calendar("2026-12-25")], "d")) == []
    one = open_task(tramita, tramita.start("con_partes", {}, "u").instance_id)
    # Wed 2, Thu 3, Fri 4 December: the third día hábil is Friday 4.
    assert one.deadline["due"] == "2026-12-04T23:59:59-07:00" and one.deadline["calendar_version"] == 1
    assert created(tramita.deploy([calendar("2026-12-25", "2026-12-03")], "d")) == [("calendar", "calendario", 2)]
    two = open_task(tramita, tramita.start("con_partes", {}, "u").instance_id)
    # Thursday 3 is now inhábil, and the weekend 5-6: Wed 2 (1), Fri 4 (2), Mon 7 (3).
    assert two.deadline["due"] == "2026-12-07T23:59:59-07:00" and two.deadline["calendar_version"] == 2
    assert ("2026-12-03", "Suspensión de labores") in [(d["day"], d["reason"]) for d in two.deadline["skipped"]]
    # Suspending a running term counts on the calendar in force too, and says which.
    tramita.suspend_term(two.instance_id, "vence", 1, "u", "Acuerdo de suspensión")
    timer = [t for t in tramita.instance(two.instance_id).timers if t.status == "pending"][0]
    assert timer.deadline["calendar_version"] == 2


def uma(*periods: tuple[str, float]) -> BundleFile:
    rows = ", ".join(f'{{ desde = "{d}", valor = {v} }}' for d, v in periods)
    return BundleFile("periodos/uma.toml", f'[uma.periodos]\ncitation = "art. 5"\nvalue = [{rows}]\n'.encode())


def test_values_by_period_are_a_version_of_their_own_copied_onto_new_cases(tramita) -> None:
    first = tramita.deploy([*whole(), uma(("2026-02-01", 117.31))], "d")
    assert created(first) == [("periodos", "periodos", 1), ("process", "con_partes", 1)]
    old = tramita.start("con_partes", {}, "u")
    # A new period: a new version of the values, and none of the procedure.
    result = tramita.deploy([uma(("2026-02-01", 117.31), ("2027-02-01", 121.0))], "d")
    assert created(result) == [("periodos", "periodos", 2)]
    assert created(tramita.deploy([uma(("2026-02-01", 117.31), ("2027-02-01", 121.0))], "d")) == []
    new = tramita.start("con_partes", {}, "u")
    assert tramita.instance(old.instance_id).data["parametros"] == {
        "prueba": {"plazo": 5}, "uma": {"periodos": [{"desde": "2026-02-01", "valor": 117.31}]}}
    assert tramita.instance(new.instance_id).data["parametros"]["uma"]["periodos"][-1] == {
        "desde": "2027-02-01", "valor": 121.0}
    assert tramita.instance(new.instance_id).instance.version == 1
    started = [e for e in tramita.instance(new.instance_id).events if e.kind == "instance_started"][0]
    assert started.detail["periodos_version"] == 2


def test_collect_files_tells_data_dictionaries_and_calendars_from_forms_and_parts(tmp_path: Path) -> None:
    for name in ("p.bpmn", "forms/f.schema.json", "datos/p.schema.json", "calendar/c.toml", "lanes.toml",
                 "periodos/uma.toml", "notas.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = collect_files([tmp_path])
    assert sorted((f.name, f.kind) for f in files) == [
        ("calendar/c.toml", "calendar"), ("datos/p.schema.json", "datos"), ("f.schema.json", "form"),
        ("lanes.toml", "part"), ("p.bpmn", "bpmn"), ("periodos/uma.toml", "periodos")]
    assert [f.name for f in collect_files([tmp_path / "datos" / "p.schema.json"])] == ["datos/p.schema.json"]


def test_who_may_read_the_versions(tramita) -> None:
    tramita.deploy(whole(), "d")
    caseworker = UserView(id=1, username="ana", name="Ana", role="caseworker", institution="ISM", groups=("g",))
    manager = UserView(id=2, username="leo", name="Leo", role="manager", institution="ISM", groups=())
    with pytest.raises(Forbidden, match="Su rol no permite consultar las versiones"):
        tramita.design.version_list(caseworker, "con_partes")
    with pytest.raises(Forbidden):
        tramita.design.version(caseworker, "con_partes", part="parameters")
    assert [v.version for v in tramita.design.version_list(manager, "con_partes")] == [1]
    assert "[prueba.plazo]" in tramita.design.version(manager, "con_partes", part="parameters").texts["parameters"]
