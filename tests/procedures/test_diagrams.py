"""Static checks of the three diagrams, their decisions and their configuration files.

* every diagram deploys through the engine (``Tramita.deploy_paths(["workflows"])``), and a
  second identical deployment changes nothing;
* every flow node carries a citation in its ``documentation``;
* every user task (and start event with a form) references a form that exists;
* every lane maps to a group in workflows/lanes.toml;
* every deadline is a timeDate / timeCycle expression built with the calendar helpers over case
  data and parameters (no bare durations, no literal counts), and sets the due date of the tasks
  it governs;
* every element has its diagram shape, so bpmn-js and Camunda Modeler draw the whole process.
"""

from __future__ import annotations

import ast
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.deploy.versions import latest_process
from tests.procedures.conftest import FORMS, WORKFLOWS

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": DI, "spiffworkflow": SPIFF}
CITATION = re.compile(r"\bart(\.|ículo|iculo|s\.)")
FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "userTask", "scriptTask", "businessRuleTask", "serviceTask", "manualTask", "task", "sendTask",
              "receiveTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
              "complexGateway", "subProcess", "callActivity", "transaction"}
PROCESSES = {"agravio": "agravio.bpmn", "auxilio_policial": "auxilio_policial.bpmn",
             "orden_proteccion": "orden_proteccion.bpmn", "sancion": "sancion.bpmn"}
# Small procedures of one lane (the police's start of its own, Reglamento art. 44): the size checks below
# are for the three large procedures.
SMALL = {"auxilio_policial"}
DEADLINE_HELPERS = {"plazo_habil", "plazo_natural", "plazo_horas", "plazo_meses"}
# A due date that is not a term: art. 44 orders the police to intervene «de inmediato», so the
# task is due the instant the violation was reported (a value the diagram sets with ahora()).
IMMEDIATE: dict[tuple[str, str], str] = {}  # none: «de inmediato» (art. 44) is a cited parameter too


def tree(key: str) -> Any:
    return etree.parse(str(WORKFLOWS / "bpmn" / PROCESSES[key])).getroot()


def flow_nodes(root: Any) -> list[Any]:
    return [el for el in root.iter(f"{{{BPMN}}}*") if etree.QName(el).localname in FLOW_NODES]


def lanes_toml() -> dict[str, Any]:
    with (WORKFLOWS / "lanes.toml").open("rb") as f:
        return tomllib.load(f)


def test_every_diagram_deploys_and_a_second_deployment_changes_nothing(tmp_path: Path,
                                                                      sqlite_template: Path) -> None:
    from tests.driver import Driver

    db = tmp_path / "deploy.db"
    shutil.copy(sqlite_template, db)
    t = Driver(f"sqlite:///{db}")
    try:
        result = t.deploy_paths([WORKFLOWS], "pruebas")
        deployed = {(d.kind, d.key) for d in result.definitions}
        assert {("process", k) for k in PROCESSES} <= deployed
        assert {("decision", "riesgo_orden_proteccion"), ("decision", "rango_sancion")} <= deployed
        assert {p["key"] for p in t.processes()} >= set(PROCESSES)
        again = t.deploy_paths([WORKFLOWS], "pruebas")
        assert not again.changed
        for key in PROCESSES:  # each has a start form the engine can show
            assert t.start_form(key).schema is not None
    finally:
        t.db.dispose()


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_every_flow_node_cites_its_article(key: str) -> None:
    root = tree(key)
    process = root.find(f"bpmn:process[@id='{key}']", NS)
    assert process is not None and process.get("isExecutable") == "true"
    missing = []
    for node in flow_nodes(process):
        doc = node.find("bpmn:documentation", NS)
        if doc is None or not CITATION.search(doc.text or ""):
            missing.append(node.get("id"))
    assert not missing, f"flow nodes without a citation: {missing}"
    assert len(flow_nodes(process)) > (4 if key in SMALL else 30)


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_every_user_task_has_an_existing_form(key: str) -> None:
    root = tree(key)
    problems = []
    for node in flow_nodes(root):
        kind = etree.QName(node).localname
        prop = node.find(".//spiffworkflow:property[@name='formJsonSchemaFilename']", NS)
        if kind == "userTask" and prop is None:
            problems.append(f"{node.get('id')}: no form")
        if prop is not None and not (FORMS / prop.get("value")).is_file():
            problems.append(f"{node.get('id')}: form {prop.get('value')} does not exist")
    assert not problems
    start = [n for n in flow_nodes(root) if etree.QName(n).localname == "startEvent"
             and n.getparent().get("id") == key]
    assert start and start[0].find(".//spiffworkflow:property[@name='formJsonSchemaFilename']", NS) is not None


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_every_lane_maps_to_a_group_and_holds_every_node(key: str) -> None:
    config = lanes_toml()
    root = tree(key)
    lanes = root.findall(".//bpmn:lane", NS)
    assert len(lanes) >= (1 if key in SMALL else 2)
    for lane in lanes:
        name = lane.get("name")
        assert name in config["lanes"], f"lane {name!r} is not in lanes.toml"
        assert config["lanes"][name] in config["groups"], f"group of lane {name!r} is not described"
    in_lanes = {ref.text for ref in root.iterfind(".//bpmn:flowNodeRef", NS)}
    assert {n.get("id") for n in flow_nodes(root)} <= in_lanes


def test_the_engine_assigns_each_lane_to_its_group(tramita_sqlite: Any) -> None:
    """Every deployed procedure pins lanes.toml: each lane of the file maps to its group in the version."""
    config = lanes_toml()
    for key in ("agravio", "orden_proteccion", "sancion"):
        with tramita_sqlite.db.read() as s:
            parts = tramita_sqlite.runtime.parts(latest_process(s, key).id)
        for lane, group in config["lanes"].items():
            assert parts.group_for_lane(lane) == group


def _calls(expression: str) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(expression.strip(), mode="eval")) if isinstance(n, ast.Call)]


def _helper_calls(expression: str) -> list[ast.Call]:
    return [c for c in _calls(expression) if isinstance(c.func, ast.Name) and c.func.id in DEADLINE_HELPERS]


def _literal_count(call: ast.Call) -> bool:
    """A count written as a number in the diagram instead of read from a parameter or case data."""
    return len(call.args) > 1 and any(isinstance(n, ast.Constant) and isinstance(n.value, (int, float))
                                      for n in ast.walk(call.args[1]))


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_deadlines_are_calendar_expressions_over_case_data(key: str) -> None:
    root = tree(key)
    assert root.find(".//bpmn:timeDuration", NS) is None, "bare durations are forbidden"
    timers = list(root.iter(f"{{{BPMN}}}timeDate")) + list(root.iter(f"{{{BPMN}}}timeCycle"))
    assert timers
    for timer in timers:
        owner = timer.getparent().getparent().get("id")
        calls = _helper_calls(timer.text or "")
        assert calls, f"{owner}: {timer.text!r} does not use a calendar helper"
        assert not any(_literal_count(c) for c in calls), f"{owner}: a literal count; use parametros"
        assert all(len(c.args) >= 3 for c in calls), f"{owner}: the helper call has no citation"
        if etree.QName(timer).localname == "timeCycle":
            assert re.search(r'"R"\s*\+.*parametros', timer.text), f"{owner}: the repetitions are not a parameter"
    for prop in root.iterfind(".//spiffworkflow:property[@name='dueDate']", NS):
        task = prop.getparent().getparent().getparent().get("id")
        value = prop.get("value")
        if (key, task) in IMMEDIATE:
            assert value == IMMEDIATE[(key, task)]
            continue
        calls = _helper_calls(value)
        assert calls and not any(_literal_count(c) for c in calls), f"{task}: dueDate {value!r}"


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_a_deadline_on_a_subprocess_dates_every_task_inside_it(key: str) -> None:
    root = tree(key)
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NS):
        timer = boundary.find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
        target = root.find(f".//*[@id='{boundary.get('attachedToRef')}']")
        if timer is None or etree.QName(target).localname != "subProcess":
            continue
        own_timer = {b.get("attachedToRef") for b in target.iterfind(".//bpmn:boundaryEvent", NS)
                     if b.find("bpmn:timerEventDefinition", NS) is not None}
        for task in target.iterfind(".//bpmn:userTask", NS):
            if task.get("id") in own_timer:  # a term of its own (e.g. the requester's 5 days) dates it
                continue
            due = task.find(".//spiffworkflow:property[@name='dueDate']", NS)
            assert due is not None, f"{task.get('id')} inside {target.get('id')} has no due date"
            if boundary.get("cancelActivity") == "false":  # the escalation deadline itself
                assert due.get("value").strip() == timer.text.strip(), task.get("id")


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_missed_authority_deadlines_escalate_without_interrupting(key: str) -> None:
    """Non-interrupting timers (authority terms) end in an escalation; none of them cancels the work."""
    root = tree(key)
    by_source = {f.get("sourceRef"): f.get("targetRef") for f in root.iterfind(".//bpmn:sequenceFlow", NS)}
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NS):
        if boundary.find("bpmn:timerEventDefinition", NS) is None or boundary.get("cancelActivity") != "false":
            continue
        target = root.find(f".//*[@id='{by_source[boundary.get('id')]}']")
        assert etree.QName(target).localname == "endEvent" and target.get("id").startswith("escalado_"), \
            boundary.get("id")


@pytest.mark.parametrize("key", sorted(PROCESSES))
def test_every_element_is_drawn(key: str) -> None:
    root = tree(key)
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert {n.get("id") for n in flow_nodes(root)} <= shapes
    assert {lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)} <= shapes
    assert {f.get("id") for f in root.iterfind(".//bpmn:sequenceFlow", NS)} <= edges


def test_the_messages_the_engine_delivers_are_declared() -> None:
    declared = {key: {m.get("name") for m in tree(key).iterfind("bpmn:message", NS)} for key in PROCESSES}
    assert "norma_reformada" in declared["agravio"]
    assert {"violacion_orden", "fin_estado_riesgo", "solicitud_procedimiento_sancion"} <= declared["orden_proteccion"]
    with (WORKFLOWS / "messages.toml").open("rb") as f:
        routes = tomllib.load(f)["start"]
    for name, route in routes.items():
        assert route["process"] in PROCESSES and CITATION.search(route["citation"]), name


def test_decision_tables_cite_their_articles() -> None:
    for path in (WORKFLOWS / "dmn").glob("*.dmn"):
        root = etree.parse(str(path)).getroot()
        inputs = [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "input"]
        assert inputs and all(CITATION.search(i.get("label", "")) for i in inputs), path.name


@pytest.mark.parametrize("name", ["parameters.toml", "periodos/uma.toml"])
def test_every_parameter_has_its_citation(name: str) -> None:
    with (WORKFLOWS / name).open("rb") as f:
        raw = tomllib.load(f)

    def leaves(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
        if "value" in node:
            return [(path, node)]
        return [leaf for k, v in node.items() if isinstance(v, dict) for leaf in leaves(v, f"{path}.{k}")]

    found = leaves(raw, "")
    assert len(found) > (15 if name == "parameters.toml" else 0)
    for path, leaf in found:
        assert CITATION.search(leaf.get("citation", "")), path


def test_una_orden_violada_no_se_sanciona_por_el_art_48_ni_por_el_art_44() -> None:
    """Issue 10, item 16. Ley de Violencia Familiar art. 48 fines the breach of a mediation agreement or award,
    and Reglamento art. 44 is the police's duty to intervene: neither is the basis for sanctioning a violated
    protection order. What applies: the act of violence with which the order is violated is an infraction
    (LVF arts. 8o and 46), sanctioned under art. 47 after citing the parties (art. 50); the sanction of the
    breach of the order as such is the Ley de Acceso's."""
    tramita_ns = "http://tramita.mx/schema/bpmn/1.0"
    tree = etree.parse(str(WORKFLOWS / "bpmn" / "orden_proteccion.bpmn"))
    sancion_ids = ("valorar_inicio_sancion", "gw_sancion", "inscribir_solicitud_sancion",
                   "solicitar_procedimiento_sancion")
    for element_id in sancion_ids:
        [element] = tree.xpath(f"//*[@id='{element_id}']")
        bases = {(f.get("ley"), f.get("articulo")) for f in element.iter(f"{{{tramita_ns}}}fundamento")}
        assert ("Reglamento", "44") not in bases, element_id
        assert not any(art == "48" for _, art in bases), element_id
        text = " ".join(element.xpath("bpmn:documentation/text()", namespaces=NS))
        assert not re.search(r"\b48\b", text), (element_id, text)
    [valorar] = tree.xpath("//*[@id='valorar_inicio_sancion']")
    assert {(f.get("articulo")) for f in valorar.iter(f"{{{tramita_ns}}}fundamento")} == {"46", "47"}
    assert "Ley de Acceso" in valorar.xpath("string(bpmn:documentation)", namespaces=NS)
    form = (FORMS / "orden_proteccion_valoracion_sancion.schema.json").read_text(encoding="utf-8")
    assert not re.search(r"\b48\b", form) and "Ley de Acceso" in form
    route = tomllib.loads((WORKFLOWS / "messages.toml").read_text(encoding="utf-8"))["start"][
        "solicitud_procedimiento_sancion"]["citation"]
    assert route.startswith("Ley de Prevención y Atención de la Violencia Familiar arts. 8, 46 y 50")
    # Nothing of the protection order's or the police's procedures cites art. 48; a diagram element that does
    # (the sanction's fine table) says in its documentation that it is about agreements.
    about_agreements = re.compile(r"convenio|mediación|arbitraje|arts\. 47, 48, 49")
    for path in sorted(WORKFLOWS.rglob("*.bpmn")) + sorted(FORMS.glob("orden_proteccion_*.json")) + sorted(
            FORMS.glob("auxilio_policial_*.json")) + [FORMS / "sancion_inicio.schema.json"]:
        if path.stem.startswith(("orden_proteccion", "auxilio_policial", "sancion_inicio")):
            assert not re.search(r"art(ículo|s?\.)[^.;]*\b48\b|articulo=\"48\"", path.read_text(encoding="utf-8")), path
        if path.suffix == ".bpmn":
            for f in etree.parse(str(path)).iter(f"{{{tramita_ns}}}fundamento"):
                if f.get("articulo") == "48":
                    element = f.getparent().getparent()
                    doc = element.xpath("string(bpmn:documentation)", namespaces=NS)
                    assert about_agreements.search(doc), (path.name, element.get("id"), doc)
