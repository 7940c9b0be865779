"""Each lint rule with a diagram that breaks it and one that keeps it; the shipped and MIWG diagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deploy.lint import ERROR, WARNING, LintContext, lint_files
from engine.deploy.lint.context import from_workflows
from tests.diagrams import flows, process, script_task, user_task

ROOT = Path(__file__).resolve().parents[2]
INTEROP = Path("/work/shared/interop/miwg-reference")
FORM = {"type": "object", "properties": {"monto": {"type": "integer"}}}
CTX = LintContext(lanes={"Mesa": "mesa"}, forms={"f.schema.json": FORM}, message_routes={"ruteado": "otro"})
FUND = '<bpmn:extensionElements><tramita:fundamento ley="Ley" articulo="1"/></bpmn:extensionElements>'
FORM_EXT = ('<bpmn:extensionElements><tramita:fundamento ley="Ley" articulo="1"/><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="f.schema.json"/></spiffworkflow:properties>'
            '</bpmn:extensionElements>')


def xml(body: str, executable: bool = True) -> str:
    return process("p", body, executable=executable).replace(
        "xmlns:spiffworkflow", 'xmlns:tramita="http://tramita.mx/schema/bpmn/1.0" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:spiffworkflow', 1)


def lane(*ids: str) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    return f'<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Mesa">{refs}</bpmn:lane></bpmn:laneSet>'


def ok_line(*middle: str) -> str:
    """start -> middle... -> end, all named and founded."""
    nodes = ["s", *[m.split('id="')[1].split('"')[0] for m in middle], "e"]
    return "\n".join([f'<bpmn:startEvent id="s" name="Inicio">{FUND}</bpmn:startEvent>', *middle,
                      f'<bpmn:endEvent id="e" name="Fin">{FUND}</bpmn:endEvent>',
                      flows(*zip(nodes, nodes[1:]))])


TASK = f'<bpmn:userTask id="t" name="Tarea">{FORM_EXT}</bpmn:userTask>'
GOOD = lane("s", "t", "e") + ok_line(TASK)


def findings(body: str, ctx: LintContext = CTX, executable: bool = True):  # type: ignore[no-untyped-def]
    return lint_files([("p.bpmn", xml(body, executable).encode())], ctx)


def rules(body: str, **kw) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for f in findings(body, **kw):
        out.setdefault(f.rule, set()).add(f.severity)
    return out


def test_good_diagram_has_only_the_missing_drawing() -> None:
    assert set(rules(GOOD)) == {"no-bpmndi"}


def test_no_bpmndi_and_xml_rules() -> None:
    drawn = xml(GOOD).replace("</bpmn:definitions>", '<bpmndi:BPMNDiagram id="d" '
                              'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"><bpmndi:BPMNPlane id="pl" '
                              'bpmnElement="p">' + "".join(f'<bpmndi:BPMNShape id="sh_{i}" bpmnElement="{i}"><dc:Bounds x="0" y="0" width="10" height="10" '
                                                              'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"/>'
                                                              '</bpmndi:BPMNShape>'
                                                            for i in ("s", "t")) + "</bpmndi:BPMNPlane>"
                              "</bpmndi:BPMNDiagram></bpmn:definitions>")
    found = lint_files([("p.bpmn", drawn.encode())], CTX)
    assert [(f.rule, f.element_id) for f in found] == [("no-bpmndi", "e")]
    no_bounds = drawn.replace('<dc:Bounds x="0" y="0" width="10" height="10" '
                              'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"/>', "", 1)
    [xsd] = [f for f in lint_files([("p.bpmn", no_bounds.encode())], CTX) if f.severity == ERROR]
    assert xsd.message.startswith("El XML no cumple el esquema BPMN 2.0 en un elemento «BPMNShape»")
    broken = lint_files([("p.bpmn", b"<bpmn:definitions")], CTX)
    assert [(f.rule, f.severity) for f in broken] == [("xml", ERROR)] and "mal formado" in broken[0].message


CASES = [
    ("start-event-required", ERROR, lane("t", "e") + TASK + f'<bpmn:endEvent id="e" name="Fin">{FUND}</bpmn:endEvent>'
     + flows(("t", "e"))),
    ("end-event-required", WARNING, lane("s", "t") + f'<bpmn:startEvent id="s" name="Inicio">{FUND}</bpmn:startEvent>'
     + TASK + flows(("s", "t"))),
    ("no-disconnected", WARNING, GOOD + f'<bpmn:task id="x" name="Suelta">{FUND}</bpmn:task>'),
    ("no-implicit-split", WARNING, GOOD + f'<bpmn:endEvent id="e2" name="Otro">{FUND}</bpmn:endEvent>'
     + '<bpmn:sequenceFlow id="extra" sourceRef="t" targetRef="e2"/>'),
    ("fake-join", WARNING, GOOD + '<bpmn:sequenceFlow id="extra" sourceRef="s" targetRef="t"/>'),
    ("superfluous-gateway", WARNING, lane("s", "t", "e") + ok_line(
        f'<bpmn:exclusiveGateway id="g" name="¿?">{FUND}</bpmn:exclusiveGateway>', TASK)),
    ("no-complex-gateway", ERROR, lane("s", "t", "e") + ok_line(
        f'<bpmn:complexGateway id="g" name="¿?">{FUND}</bpmn:complexGateway>', TASK)),
    ("label-required", WARNING, GOOD.replace('name="Tarea"', "")),
    ("single-event-definition", ERROR, GOOD.replace(
        f'<bpmn:endEvent id="e" name="Fin">{FUND}</bpmn:endEvent>',
        f'<bpmn:endEvent id="e" name="Fin">{FUND}<bpmn:terminateEventDefinition id="d1"/>'
        '<bpmn:terminateEventDefinition id="d2"/></bpmn:endEvent>')),
    ("process-executable", ERROR, None),
    ("no-implicit-start", WARNING, GOOD + f'<bpmn:task id="x" name="Huérfana">{FUND}</bpmn:task>'
     + f'<bpmn:endEvent id="e2" name="Otro fin">{FUND}</bpmn:endEvent>'
     + '<bpmn:sequenceFlow id="fx" sourceRef="x" targetRef="e2"/>'),
    ("no-implicit-end", WARNING, GOOD + f'<bpmn:task id="x" name="Sin salida">{FUND}</bpmn:task>'
     + '<bpmn:sequenceFlow id="fx" sourceRef="s" targetRef="x"/>'),
    ("no-gateway-join-fork", WARNING, lane("s", "t", "e") + "\n".join([
        f'<bpmn:startEvent id="s" name="Inicio">{FUND}</bpmn:startEvent>',
        f'<bpmn:startEvent id="s2" name="Otro inicio">{FUND}<bpmn:messageEventDefinition id="m"/></bpmn:startEvent>',
        f'<bpmn:parallelGateway id="g" name="Une y divide">{FUND}</bpmn:parallelGateway>', TASK,
        f'<bpmn:endEvent id="e" name="Fin">{FUND}</bpmn:endEvent>',
        f'<bpmn:endEvent id="e3" name="Otro fin">{FUND}</bpmn:endEvent>',
        flows(("s", "g"), ("s2", "g"), ("g", "t"), ("g", "e3"), ("t", "e"))])),
    ("conditional-flows", WARNING, lane("s", "t", "e") + "\n".join([
        f'<bpmn:startEvent id="s" name="Inicio">{FUND}</bpmn:startEvent>',
        f'<bpmn:exclusiveGateway id="g" name="¿Procede?">{FUND}</bpmn:exclusiveGateway>', TASK,
        f'<bpmn:endEvent id="e" name="Fin">{FUND}</bpmn:endEvent>',
        f'<bpmn:endEvent id="e3" name="No procede">{FUND}</bpmn:endEvent>',
        flows(("s", "t"), ("t", "g"), ("g", "e"), ("g", "e3"), cond={"g>e": "monto &gt; 1"})])),
    ("single-blank-start-event", WARNING, GOOD + f'<bpmn:startEvent id="s2" name="Otro inicio">{FUND}'
     '</bpmn:startEvent><bpmn:sequenceFlow id="fs2" sourceRef="s2" targetRef="t"/>'),
    ("event-sub-process-typed-start-event", ERROR, GOOD + '<bpmn:subProcess id="esp" name="Aviso" '
     f'triggeredByEvent="true">{FUND}<bpmn:startEvent id="es" name="Inicio del aviso">{FUND}</bpmn:startEvent>'
     f'<bpmn:endEvent id="ee" name="Fin del aviso">{FUND}</bpmn:endEvent>'
     '<bpmn:sequenceFlow id="fes" sourceRef="es" targetRef="ee"/></bpmn:subProcess>'),
    ("no-duplicate-sequence-flows", WARNING, GOOD + '<bpmn:sequenceFlow id="dup" sourceRef="t" targetRef="e"/>'),
    ("link-event", ERROR, lane("s", "t", "e") + ok_line(
        TASK, f'<bpmn:intermediateThrowEvent id="x" name="Ir a">{FUND}<bpmn:linkEventDefinition id="ld" '
              'name="destino"/></bpmn:intermediateThrowEvent>')),
    ("engine-support", ERROR, lane("s", "t", "e") + ok_line(
        TASK, f'<bpmn:serviceTask id="x" name="Llamar servicio">{FUND}</bpmn:serviceTask>')),
    ("forbidden-expression", ERROR, lane("s", "t", "e") + ok_line(
        f'<bpmn:scriptTask id="x" name="Calcular">{FUND}<bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
        TASK)),
    ("timer-iso8601", ERROR, lane("s", "t", "e") + ok_line(
        f'<bpmn:intermediateCatchEvent id="x" name="Espera">{FUND}<bpmn:timerEventDefinition id="td">'
        '<bpmn:timeDate>2027-01-04T09:00:00</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        TASK)),
    ("legal-basis", WARNING, GOOD.replace(f'<bpmn:userTask id="t" name="Tarea">{FORM_EXT}',
                                          '<bpmn:userTask id="t" name="Tarea"><bpmn:extensionElements>'
                                          '<spiffworkflow:properties><spiffworkflow:property '
                                          'name="formJsonSchemaFilename" value="f.schema.json"/>'
                                          '</spiffworkflow:properties></bpmn:extensionElements>')),
    ("plazo", WARNING, lane("s", "t", "e") + ok_line(
        f'<bpmn:intermediateCatchEvent id="x" name="Espera">{FUND}<bpmn:timerEventDefinition id="td">'
        '<bpmn:timeDate>plazo_habil(hoy(), 5, "art. 1")</bpmn:timeDate></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent>', TASK)),
    ("user-task-form", WARNING, GOOD.replace(FORM_EXT, FUND)),
    ("user-task-group", WARNING, GOOD.replace(lane("s", "t", "e"), "")),
    ("camunda-attribute", WARNING, GOOD.replace('<bpmn:userTask id="t"', '<bpmn:userTask camunda:formKey="k" id="t"')),
    ("message-routed", WARNING, lane("s", "t", "e") + '<bpmn:message id="m1" name="sin_destino"/>'.join(["", ""])
     + ok_line(TASK).replace(f'<bpmn:endEvent id="e" name="Fin">{FUND}',
                             f'<bpmn:endEvent id="e" name="Fin">{FUND}<bpmn:messageEventDefinition id="md" '
                             'messageRef="m1"/>')),
    ("variable-written-before-read", WARNING, lane("s", "t", "e") + ok_line(
        TASK, f'<bpmn:scriptTask id="x" name="Calcular">{FUND}<bpmn:script>total = nadie_lo_escribe + 1'
              '</bpmn:script></bpmn:scriptTask>')),
]


def _keeping(rule: str) -> str:
    """The same diagram with the fault repaired."""
    return {
        "timer-iso8601": GOOD, "plazo": lane("s", "t", "e") + ok_line(
            f'<bpmn:intermediateCatchEvent id="x" name="Espera">{FUND[:-len("</bpmn:extensionElements>")]}'
            '<tramita:plazo cantidad="5" unidad="dias_habiles" desde="fecha" articulo="art. 1"/>'
            '</bpmn:extensionElements><bpmn:timerEventDefinition id="td">'
            '<bpmn:timeDate>plazo_habil(fecha, 5, "art. 1")</bpmn:timeDate></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent>', TASK),
        "no-gateway-join-fork": GOOD, "conditional-flows": GOOD,
        "variable-written-before-read": lane("s", "t", "e") + ok_line(
            TASK, f'<bpmn:scriptTask id="x" name="Calcular">{FUND}<bpmn:script>total = monto + 1'
                  '</bpmn:script></bpmn:scriptTask>'),
    }.get(rule, GOOD)


@pytest.mark.parametrize("rule, severity, body", CASES, ids=[c[0] for c in CASES])
def test_rule_breaks_and_keeps(rule: str, severity: str, body: str | None) -> None:
    broken = rules(GOOD, executable=False) if body is None else rules(body)
    assert severity in broken.get(rule, set()), broken
    kept = rules(_keeping(rule))
    assert rule not in kept, kept


def test_a_lane_with_a_studio_group_needs_no_lanes_toml_entry() -> None:
    unknown = GOOD.replace('name="Mesa"', 'name="Carril nuevo"')
    assert "user-task-group" in rules(unknown)
    assert "user-task-group" not in rules(unknown.replace('name="Carril nuevo"', 'name="Carril nuevo" tramita:grupo="mesa"'))


def test_variable_read_is_an_error_when_the_process_has_a_start_form() -> None:
    body = dict((c[0], c[2]) for c in CASES)["variable-written-before-read"]
    with_start_form = body.replace(f'<bpmn:startEvent id="s" name="Inicio">{FUND}',
                                   f'<bpmn:startEvent id="s" name="Inicio">{FORM_EXT}')
    found = [f for f in findings(with_start_form) if f.rule == "variable-written-before-read"]
    assert [f.severity for f in found] == [ERROR]
    assert "nadie_lo_escribe" in found[0].message and found[0].element_id == "x"


def test_iso_literal_timers_are_valid_and_bare_names_are_not() -> None:
    for literal, tag in (("PT1H", "timeDuration"), ("P7D", "timeDuration"), ("R6/P1D", "timeCycle"),
                         ("2027-01-04T09:00:00-07:00", "timeDate")):
        body = lane("s", "t", "e") + ok_line(
            f'<bpmn:intermediateCatchEvent id="x" name="Espera">{FUND}<bpmn:timerEventDefinition id="td">'
            f'<bpmn:{tag}>{literal}</bpmn:{tag}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>', TASK)
        assert not [f for f in findings(body) if f.severity == ERROR], literal


def test_refusal_names_the_flow_and_quotes_the_text() -> None:
    body = GOOD.replace('<bpmn:sequenceFlow id="f1_t_e" sourceRef="t" targetRef="e">',
                        '<bpmn:sequenceFlow id="f1_t_e" sourceRef="t" targetRef="e"><bpmn:conditionExpression>'
                        '__import__("os")</bpmn:conditionExpression>')
    errs = [f for f in findings(body) if f.severity == ERROR]
    assert errs and errs[0].element_id == "f1_t_e" and "«__import__(\"os\")»" in errs[0].message
    assert "«__import__» empieza con «_»" in errs[0].message
    assert "0x" not in errs[0].message and "Traceback" not in errs[0].message


def test_shipped_diagrams_have_no_error_and_no_legal_basis_warning() -> None:
    ctx = from_workflows(ROOT / "workflows")
    files = [(p.name, p.read_bytes()) for p in sorted((ROOT / "workflows").rglob("*")) if p.suffix in (".bpmn", ".dmn")]
    found = lint_files(files, ctx)
    assert [f.line() for f in found if f.severity == ERROR] == []
    assert [f.line() for f in found if f.rule in ("legal-basis", "user-task-group")] == []
    # Every timer and due date of the shipped diagrams is a Plazo whose expression matches its text.
    assert [f.line() for f in found if f.rule == "plazo"] == []


def test_plazo_in_months_cites_its_rule_and_products_count_periods() -> None:
    """The month rule is written from a cited parameter or a rule name; a count may be a product
    (the n-th 24-hour period of LGAMVLV art. 34 Bis is «contacto_numero × intervalo»)."""
    from engine.deploy.lint.model import Plazo
    from engine.deploy.lint.plazo import PlazoError, expression, same, words

    meses = Plazo("parametros.sancion.prescripcion_meses", "meses", "fecha_infraccion", articulo="LVF art. 53",
                  regla="parametros.sancion.prescripcion_regla")
    assert same(expression(meses), 'plazo_meses(fecha_infraccion, parametros["sancion"]["prescripcion_meses"], '
                                   'parametros["sancion"]["prescripcion_regla"], "LVF art. 53")')
    assert "regla del parámetro sancion.prescripcion_regla" in words(meses)
    by_name = Plazo("12", "meses", "fecha", articulo="art. 1", regla="administrativa")
    assert expression(by_name) == 'plazo_meses(fecha, 12, "administrativa", "art. 1")'
    assert "LFPA art. 29" in words(by_name)
    for bad, said in (("", "falta la regla"), ("gregoriana", "«gregoriana» no existe")):
        with pytest.raises(PlazoError, match=said):
            expression(Plazo("12", "meses", "fecha", regla=bad))
    product = Plazo("contacto_numero * parametros.orden_proteccion.seguimiento_intervalo_horas", "horas",
                    "fecha_emision", articulo="LGAMVLV art. 34 Bis")
    assert same(expression(product), 'plazo_horas(fecha_emision, contacto_numero * '
                                     'parametros["orden_proteccion"]["seguimiento_intervalo_horas"], "LGAMVLV art. 34 Bis")')
    with pytest.raises(PlazoError, match="producto completo"):
        expression(Plazo("contacto_numero *", "horas", "fecha"))


def test_a_subprocess_is_not_blamed_for_the_due_dates_of_its_tasks() -> None:
    ctx = from_workflows(ROOT / "workflows")
    found = lint_files([("orden_proteccion.bpmn", (ROOT / "workflows/bpmn/orden_proteccion.bpmn").read_bytes())], ctx)
    assert "seguimiento_orden" not in {f.element_id for f in found if f.rule == "plazo"}
    text = (ROOT / "workflows/bpmn/orden_proteccion.bpmn").read_text()
    broken = text.replace('<tramita:plazo cantidad="contacto_numero * ', '<tramita:plazo cantidad="2 * contacto_numero * ')
    found = lint_files([("orden_proteccion.bpmn", broken.encode())], ctx)
    assert {f.element_id for f in found if f.rule == "plazo"} == {"contactar_victima"}


@pytest.mark.skipif(not INTEROP.is_dir(), reason="MIWG corpus not present")
def test_miwg_models_lint_without_tracebacks() -> None:
    for path in sorted(INTEROP.glob("*.bpmn")):
        found = lint_files([(path.name, path.read_bytes())], LintContext())
        for f in found:
            assert f.message and "0x" not in f.message and "Traceback" not in f.message, f
            assert f.message.rstrip().endswith((".", ")")), f
