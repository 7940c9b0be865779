from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.deploy.versions import BundleFile, collect_files
from engine.errors import DeploymentRejected
from engine.store.models import Definition, DeployedFile, Deployment
from tests.conftest import SHARED
from tests.diagrams import CALLER, TWO_TASKS, bundle, flows, process, script_task, user_task


def count(tramita, model) -> int:  # type: ignore[no-untyped-def]
    with tramita.db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_deploy_stores_an_immutable_version_and_redeploy_is_a_noop(tramita) -> None:
    first = tramita.deploy([bundle("two.bpmn", TWO_TASKS)], "disenadora")
    assert [(d.key, d.version, d.created) for d in first.definitions] == [("two_tasks", 1, True)]
    again = tramita.deploy([bundle("two.bpmn", TWO_TASKS)], "disenadora")
    assert [(d.key, d.version, d.created) for d in again.definitions] == [("two_tasks", 1, False)]
    assert again.deployment_id is None
    assert count(tramita, Deployment) == 1
    with tramita.db.read() as s:
        d = s.execute(select(Definition)).scalar_one()
        assert d.deployed_by == "disenadora" and len(d.sha256) == 64
        stored = s.get(DeployedFile, d.file_id)
        assert stored.content == TWO_TASKS


def test_changed_content_is_a_new_version_and_running_instances_stay_on_theirs(tramita) -> None:
    tramita.deploy([bundle("two.bpmn", TWO_TASKS)], "d")
    old = tramita.start("two_tasks", {}, "u")
    changed = TWO_TASKS.replace('name="Primera"', 'name="Primera revisada"')
    result = tramita.deploy([bundle("two.bpmn", changed)], "d")
    assert [(d.version, d.created) for d in result.definitions] == [(2, True)]
    new = tramita.start("two_tasks", {}, "u")
    assert tramita.instance(old.instance_id).instance.version == 1
    assert tramita.instance(new.instance_id).instance.version == 2
    assert tramita.task(old.open_tasks[0]).title == "Primera"
    assert tramita.task(new.open_tasks[0]).title == "Primera revisada"


def test_called_process_must_exist_in_bundle_or_deployed(tramita) -> None:
    with pytest.raises(DeploymentRejected, match="two_tasks"):
        tramita.deploy([bundle("caller.bpmn", CALLER)], "d")
    assert count(tramita, Definition) == 0
    tramita.deploy([bundle("two.bpmn", TWO_TASKS)], "d")
    result = tramita.deploy([bundle("caller.bpmn", CALLER)], "d")
    assert [d.key for d in result.definitions] == ["caller"]
    started = tramita.start("caller", {}, "u")
    assert [t.name for t in tramita.tasks(instance_id=started.instance_id)] == ["a"]


def test_call_activity_resolved_inside_the_bundle(tramita) -> None:
    result = tramita.deploy([bundle("caller.bpmn", CALLER), bundle("two.bpmn", TWO_TASKS)], "d")
    assert sorted(d.key for d in result.definitions) == ["caller", "two_tasks"]


@pytest.mark.parametrize("fixture, message", [
    ("evil.bpmn", "__import__"),
    ("bomb.bpmn", "DTD"),
    ("broken.bpmn", "malformed XML"),
])
def test_hostile_fixtures_are_refused_and_nothing_stored(tramita, fixture: str, message: str) -> None:
    path = SHARED / "fixtures" / fixture
    if not path.exists():
        pytest.skip(f"{path} missing")
    started = time.perf_counter()
    with pytest.raises(DeploymentRejected, match=message):
        tramita.deploy(collect_files([path]), "d")
    assert time.perf_counter() - started < 2
    assert count(tramita, Deployment) == 0 and count(tramita, Definition) == 0


def test_xsd_violation_is_refused(tramita) -> None:
    bad = TWO_TASKS.replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end"/><bpmn:notAnElement id="x"/>')
    with pytest.raises(DeploymentRejected, match="notAnElement"):
        tramita.deploy([bundle("bad.bpmn", bad)], "d")
    assert count(tramita, Definition) == 0


def test_duplicate_process_ids_in_a_bundle_are_refused(tramita) -> None:
    with pytest.raises(DeploymentRejected, match="Duplicate process ID: two_tasks"):
        tramita.deploy([bundle("one.bpmn", TWO_TASKS), bundle("other.bpmn", TWO_TASKS)], "d")
    assert count(tramita, Definition) == 0


@pytest.mark.parametrize("script", [
    "x = ().__class__.__base__.__subclasses__()",
    "x = open('/etc/passwd').read()",
    "x = eval('1+1')",
    "exec('import os')",
    "import os",
    "x = getattr(a, 'b')",
])
def test_forbidden_expressions_are_refused_at_deploy_naming_the_element(tramita, script: str) -> None:
    xml = process("evil_p", "\n".join([
        '<bpmn:startEvent id="start"/>', script_task("sneaky", script), '<bpmn:endEvent id="end"/>',
        flows(("start", "sneaky"), ("sneaky", "end"))]))
    with pytest.raises(DeploymentRejected, match="element sneaky: forbidden expression"):
        tramita.deploy([bundle("evil.bpmn", xml)], "d")
    assert count(tramita, Definition) == 0


def test_forbidden_gateway_condition_is_refused(tramita) -> None:
    xml = process("gw_p", "\n".join([
        '<bpmn:startEvent id="start"/>', '<bpmn:exclusiveGateway id="gw"/>', user_task("a"),
        '<bpmn:endEvent id="end"/>',
        flows(("start", "gw"), ("gw", "a"), ("a", "end"), cond={"gw>a": "x.__class__ is not None"})]))
    with pytest.raises(DeploymentRejected, match="f1_gw_a: forbidden expression"):
        tramita.deploy([bundle("gw.bpmn", xml)], "d")


@pytest.mark.parametrize("expr, problem", [
    ('"2026-12-01T10:00:00"', "no UTC offset"),
    ('"el lunes"', "not an ISO 8601"),
    ("5", "must return an ISO 8601 string"),
])
def test_timer_literal_without_offset_is_refused(tramita, expr: str, problem: str) -> None:
    xml = process("timer_p", "\n".join([
        '<bpmn:startEvent id="start"/>',
        f'<bpmn:intermediateCatchEvent id="espera"><bpmn:timerEventDefinition><bpmn:timeDate>{expr}</bpmn:timeDate>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        '<bpmn:endEvent id="end"/>', flows(("start", "espera"), ("espera", "end"))]))
    with pytest.raises(DeploymentRejected, match=f"element espera: forbidden expression: .*{problem}"):
        tramita.deploy([bundle("t.bpmn", xml)], "d")


def test_missing_form_is_refused(tramita) -> None:
    ext = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
           'name="formJsonSchemaFilename" value="nope.schema.json"/></spiffworkflow:properties>'
           '</bpmn:extensionElements>')
    xml = process("form_p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("a", extra=ext), '<bpmn:endEvent id="end"/>',
        flows(("start", "a"), ("a", "end"))]))
    with pytest.raises(DeploymentRejected, match="«nope.schema.json» no está en el paquete"):
        tramita.deploy([bundle("f.bpmn", xml)], "d")
    schema = b'{"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}'
    result = tramita.deploy([bundle("f.bpmn", xml), BundleFile("nope.schema.json", schema)], "d")
    assert result.definitions[0].created


def test_interop_corpus_loads_or_is_refused_with_a_reason(tramita) -> None:
    """Every MIWG reference model deploys or is refused naming why: never a crash."""
    files = sorted((SHARED / "interop" / "miwg-reference").glob("*.bpmn"))
    if not files:
        pytest.skip("interop corpus missing")
    outcomes = {}
    for path in files:
        try:
            tramita.deploy(collect_files([path]), "d")
            outcomes[path.name] = "deployed"
        except DeploymentRejected as exc:
            assert exc.message and "Traceback" not in exc.message
            outcomes[path.name] = exc.message
    assert len(outcomes) == len(files)
    assert any("not executable" in str(v) for v in outcomes.values())


def test_collect_files_refuses_unknown_paths(tmp_path: Path) -> None:
    with pytest.raises(DeploymentRejected, match="no such file"):
        collect_files([tmp_path / "missing.bpmn"])


def test_a_task_inside_a_subprocess_keeps_the_lane_it_is_drawn_in(tramita) -> None:
    """SpiffWorkflow gives a subprocess's children the subprocess's lane; the lane drawn is the role."""
    xml = process("lanes", "\n".join([
        '<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Instituto"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
        '<bpmn:flowNodeRef>sub</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
        '<bpmn:lane id="l2" name="Sistema Estatal"><bpmn:flowNodeRef>sesion</bpmn:flowNodeRef></bpmn:lane>'
        '</bpmn:laneSet>',
        '<bpmn:startEvent id="start"/>',
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/>' + user_task("sesion") +
        '<bpmn:endEvent id="s_end"/>' + flows(("s_start", "sesion"), ("sesion", "s_end")) + '</bpmn:subProcess>',
        '<bpmn:endEvent id="end"/>', flows(("start", "sub"), ("sub", "end")),
    ]))
    tramita.deploy([bundle("lanes.bpmn", xml)], "d")
    r = tramita.start("lanes", {}, "u")
    [task] = tramita.tasks(instance_id=r.instance_id)
    assert (task.name, task.lane) == ("sesion", "Sistema Estatal")


def test_iso_literal_timer_deploys_and_runs(tramita, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """A bare PT1H (as Camunda Modeler writes it) is a duration, not a Python name: the instance waits an hour."""
    xml = process("espera", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("a"),
        '<bpmn:boundaryEvent id="hora" attachedToRef="a" cancelActivity="false"><bpmn:timerEventDefinition id="d">'
        '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        '<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end2"/>',
        flows(("start", "a"), ("a", "end"), ("hora", "end2"))]))
    tramita.deploy([bundle("espera.bpmn", xml)])
    result = tramita.start("espera", {}, "ana")
    detail = tramita.instance(result.instance_id)
    assert detail.instance.status == "running"
    # frozen at 2026-12-01 16:00 UTC: due one hour later
    assert [t.due_at.isoformat() for t in detail.timers] == ["2026-12-01T17:00:00+00:00"]


def test_camunda_candidate_groups_and_studio_group_route_the_task(tramita) -> None:  # type: ignore[no-untyped-def]
    xml = process("rutas", "\n".join([
        '<bpmn:laneSet id="ls"><bpmn:lane id="l" name="Carril sin lanes.toml" tramita:grupo="policia">'
        '<bpmn:flowNodeRef>b</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>',
        '<bpmn:startEvent id="start"/>', '<bpmn:userTask id="a" camunda:candidateGroups="mesa, otra"/>',
        user_task("b"), '<bpmn:endEvent id="end"/>', flows(("start", "a"), ("a", "b"), ("b", "end"))]))
    xml = xml.replace("xmlns:spiffworkflow", 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                      'xmlns:tramita="http://tramita.mx/schema/bpmn/1.0" xmlns:spiffworkflow', 1)
    tramita.deploy([bundle("rutas.bpmn", xml)])
    iid = tramita.start("rutas", {}, "ana").instance_id
    [a] = tramita.tasks(instance_id=iid)
    assert a.candidate_group == "mesa"
    tramita.complete(a.id, {}, "ana")
    [b] = tramita.tasks(instance_id=iid)
    assert b.candidate_group == "policia"
