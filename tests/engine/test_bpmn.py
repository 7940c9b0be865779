"""The state serializer: the text ``dump_state`` writes must be what SpiffWorkflow's own converter
would write (spec left out), step after step, even though finished tasks' text is reused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import safe_xml, serializer
from engine.script.helpers import script_engine
from tests.diagrams import HEADER

# A subprocess with a non-interrupting timer on its task, a parallel split with a script on one
# branch, and a loop back through an exclusive gateway: tasks are reset, cancelled and re-created.
DIAGRAM = HEADER.format(pid="serial") + """
<bpmn:process id="serial" isExecutable="true">
  <bpmn:startEvent id="inicio"/>
  <bpmn:parallelGateway id="abre"/>
  <bpmn:userTask id="registrar"/>
  <bpmn:scriptTask id="calcular"><bpmn:script>total = 2 * 21</bpmn:script></bpmn:scriptTask>
  <bpmn:parallelGateway id="cierra"/>
  <bpmn:subProcess id="tramite">
    <bpmn:startEvent id="t_inicio"/>
    <bpmn:userTask id="revisar"/>
    <bpmn:endEvent id="t_fin"/>
    <bpmn:sequenceFlow id="t1" sourceRef="t_inicio" targetRef="revisar"/>
    <bpmn:sequenceFlow id="t2" sourceRef="revisar" targetRef="t_fin"/>
  </bpmn:subProcess>
  <bpmn:boundaryEvent id="aviso" attachedToRef="tramite" cancelActivity="false">
    <bpmn:timerEventDefinition><bpmn:timeDate>"2099-01-01T00:00:00-07:00"</bpmn:timeDate></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:endEvent id="aviso_fin"/>
  <bpmn:exclusiveGateway id="otra" default="fin_flujo"/>
  <bpmn:endEvent id="fin"/>
  <bpmn:sequenceFlow id="f1" sourceRef="inicio" targetRef="abre"/>
  <bpmn:sequenceFlow id="f2" sourceRef="abre" targetRef="registrar"/>
  <bpmn:sequenceFlow id="f3" sourceRef="abre" targetRef="calcular"/>
  <bpmn:sequenceFlow id="f4" sourceRef="registrar" targetRef="cierra"/>
  <bpmn:sequenceFlow id="f5" sourceRef="calcular" targetRef="cierra"/>
  <bpmn:sequenceFlow id="f6" sourceRef="cierra" targetRef="tramite"/>
  <bpmn:sequenceFlow id="f7" sourceRef="tramite" targetRef="otra"/>
  <bpmn:sequenceFlow id="f8" sourceRef="aviso" targetRef="aviso_fin"/>
  <bpmn:sequenceFlow id="otra_vuelta" sourceRef="otra" targetRef="tramite">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">vueltas &lt; 2</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fin_flujo" sourceRef="otra" targetRef="fin"/>
</bpmn:process>
</bpmn:definitions>
"""

STOCK = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


def _stock_state(wf: BpmnWorkflow) -> dict[str, Any]:
    """What SpiffWorkflow's own converter writes, minus the spec Tramita stores once per version."""
    dct = STOCK.convert(wf)
    del dct["spec"], dct["subprocess_specs"]
    return json.loads(json.dumps(dct))


def _workflow() -> BpmnWorkflow:
    parser = safe_xml.new_parser()
    parser.add_bpmn_str(DIAGRAM.encode(), "serial.bpmn")
    spec = parser.get_spec("serial")
    return BpmnWorkflow(spec, parser.get_subprocess_specs("serial"), script_engine=script_engine())


def _step(wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    wf.do_engine_steps()


def _ready(wf: BpmnWorkflow) -> list[str]:
    return sorted(t.task_spec.name for t in wf.get_tasks(state=TaskState.READY))


def _runs() -> tuple[BpmnWorkflow, list[tuple[str, list[str]]]]:
    """The workflow run to its end, and after every step its dumped text and READY tasks."""
    wf = _workflow()
    _step(wf)
    states = [(serializer.dump_state(wf), _ready(wf))]
    while not wf.is_completed():
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data["vueltas"] = len(states)
        task.run()
        _step(wf)
        states.append((serializer.dump_state(wf), _ready(wf)))
    return wf, states


def test_every_step_writes_what_spiffs_converter_writes() -> None:
    wf = _workflow()
    _step(wf)
    steps = 0
    while not wf.is_completed():
        assert json.loads(serializer.dump_state(wf)) == _stock_state(wf)
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data["vueltas"] = steps
        task.run()
        _step(wf)
        steps += 1
    assert json.loads(serializer.dump_state(wf)) == _stock_state(wf)
    assert steps == 3  # registrar, then revisar on each of the two passes through the subprocess
    assert wf.data["total"] == 42 and wf.subprocesses  # the script ran; the subprocess was serialized


def test_finished_tasks_reuse_their_text_and_open_ones_do_not() -> None:
    wf = _workflow()
    _step(wf)
    serializer.dump_state(wf)
    memo = {key: task.__dict__.get("_tramita_json") for key, task in wf.tasks.items()}
    finished = [k for k, t in wf.tasks.items() if t.has_state(TaskState.FINISHED_MASK)]
    assert finished and all(memo[k] is not None for k in finished)
    assert all(memo[k] is None for k, t in wf.tasks.items() if not t.has_state(TaskState.FINISHED_MASK))
    task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
    task.run()
    _step(wf)
    serializer.dump_state(wf)
    for key in finished:  # the same text object: not serialized again
        assert wf.tasks[key].__dict__["_tramita_json"][1] is memo[key][1]


@pytest.mark.parametrize("at", [0, 1, 2, -1])
def test_dumped_state_loads_back_to_the_same_state(at: int) -> None:
    wf, states = _runs()
    text, ready = states[at]
    restored = serializer.load_state(text, wf.spec, wf.subprocess_specs)
    assert json.loads(serializer.dump_state(restored)) == json.loads(text)
    assert _ready(restored) == ready
