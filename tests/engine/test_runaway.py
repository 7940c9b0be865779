"""The corpus of runaway diagrams: code that would stop the server ends in an incident, or is refused.

Two layers. What the deploy lint can see (a literal ``10**10**10``, ``while True`` with no
``break``, a literal ``loopCardinality`` over the limit, in any kind of expression, payloads
included) is refused at deploy. What it cannot see (the same with the sizes coming from case
data) runs within the budget: the transition ends in an incident that names the element and
the limit, the case waits for a fix and a retry, and nothing else waits for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.errors import DeploymentRejected, ExecutionFailed
from engine.run import firing
from engine.script import budget
from engine.script.budget import BudgetExceeded, Limits
from engine.script.helpers import HELPERS
from engine.script.sandbox import ForbiddenExpression, RestrictedEnvironment, check_expression
from tests.diagrams import TWO_TASKS, bundle, flows, process, script_task, user_task

FIXTURES = Path("/work/shared/fixtures")
UTC = timezone.utc
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"

# --- the corpus ------------------------------------------------------------------------------------

# Scripts whose sizes come from data (n = 10), so no lint can see them: each must stop quickly.
RUNAWAY_SCRIPTS = {
    "power": "x = 10 ** n ** n > 0",
    "repetition": "x = 'a' * (3 * n ** 9)",
    "list_repetition": "x = [0] * (3 * n ** 9)",
    "shift": "x = 1 << n ** 12",
    "while_true": "while n:\n    pass",
    "while_swallowing_the_stop": "while n:\n    try:\n        while n:\n            pass\n    except ValueError:\n        pass",
    "nested_comprehension": "x = [i for i in range(n ** 6) for j in range(n ** 6)]",
    "exponential_recursion": "def f(k):\n    return f(k + 1) + f(k + 1) if k < 100 else 1\nx = f(0)",
    "exponential_lambda": "f = lambda k: f(k + 1) + f(k + 1) if k < 100 else 1\nx = f(0)",
    "big_range": "x = list(range(n ** 10))",
    "sum_of_range": "x = sum(range(n ** 12))",
    "join": "x = ''.join(['a' * n ** 6] * n ** 4)",
    "ljust": "x = 'a'.ljust(n ** 9)",
    "percent_width": "x = '%*d' % (n ** 9, 1)",
    "doubling_extend": "l = [1]\nfor i in range(n * 4):\n    l.extend(l)",
    "doubling_string": "s = 'a'\nfor i in range(n * 4):\n    s += s",
    "round_digits": "x = round(5, -n ** 9)",
    "memory_in_a_loop": "keep = []\nfor i in range(n ** 5):\n    keep.append('a' * n ** 5 + str(i))",
}

# Literal runaways the deploy lint refuses, by the kind of expression that carries them.
STATIC = {
    "power_in_a_condition": "10**10**10 > 0",
    "repetition": "'a'*(3*10**9)",
    "shift": "1 << 10**12",
    "fstring_width": "f'{1:>1000000000}'",
}


@pytest.fixture(scope="module")
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(HELPERS)


@pytest.mark.parametrize("name", sorted(RUNAWAY_SCRIPTS))
def test_runaway_script_stops_within_its_budget(env: RestrictedEnvironment, name: str) -> None:
    context = {"n": 10}
    began = time.monotonic()
    with pytest.raises((BudgetExceeded, ValueError, TypeError)) as exc:
        env.execute(RUNAWAY_SCRIPTS[name], context)
    assert time.monotonic() - began < 5  # 1 s of CPU by default; allow for a loaded machine
    if isinstance(exc.value, BudgetExceeded):
        assert "TRAMITA_" in str(exc.value)  # names the limit


@pytest.mark.parametrize("name", sorted(STATIC))
def test_literal_runaway_is_refused_when_compiled(name: str) -> None:
    with pytest.raises(ForbiddenExpression):
        check_expression(STATIC[name])


def test_endless_while_is_refused_but_a_loop_with_a_break_is_not() -> None:
    with pytest.raises(ForbiddenExpression, match="never ends"):
        check_expression("while True:\n    pass", script=True)
    with pytest.raises(ForbiddenExpression, match="never ends"):
        check_expression("while 1:\n    for i in [1]:\n        break", script=True)  # that break ends the for
    check_expression("i = 0\nwhile True:\n    i += 1\n    if i > 3:\n        break", script=True)


def test_ordinary_code_still_works(env: RestrictedEnvironment) -> None:
    context = {"a": [1, 2], "n": 3}
    env.execute("a += [3]\nb = 2 * 3 + 4 ** 2 - (1 << 3)\nc = 'x%sy' % 5\nd = [i * 2 for i in a]\n"
                "e = ', '.join(str(i) for i in a)\nf = 'ab'.replace('a', 'c').ljust(4, '-')\ns = 0\n"
                "for i in range(10):\n    s += i\ng = sorted(a, key=lambda v: -v)\nh = 10 ** 100 > 1", context)
    assert context["a"] == [1, 2, 3] and context["b"] == 14 and context["c"] == "x5y"
    assert context["d"] == [2, 4, 6] and context["e"] == "1, 2, 3" and context["f"] == "cb--"
    assert context["s"] == 45 and context["g"] == [3, 2, 1] and context["h"] is True


def test_a_diagram_may_lower_a_limit_never_raise_it() -> None:
    server = Limits.server()
    assert server.lowered({"steps": 10}).steps == 10
    assert server.lowered({"steps": server.steps * 10}).steps == server.steps


# --- deploy: the lint ------------------------------------------------------------------------------


def _with_start_user(body: str, pid: str = "p", extra: str = "") -> str:
    return process(pid, extra + "\n".join(['<bpmn:startEvent id="start"/>', body]))


def _script_process(script: str, pid: str = "p") -> str:
    return process(pid, "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"), script_task("calc", script), user_task("despues"),
        '<bpmn:endEvent id="end"/>',
        flows(("start", "primero"), ("primero", "calc"), ("calc", "despues"), ("despues", "end")),
    ]))


def _gateway_process(condition: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"),
        '<bpmn:exclusiveGateway id="decide" default="f_default"/>', user_task("si"), user_task("no"),
        '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
        flows(("start", "primero"), ("primero", "decide"), ("decide", "si"), ("si", "e1"), ("no", "e2"),
              cond={"decide>si": condition}),
        '<bpmn:sequenceFlow id="f_default" sourceRef="decide" targetRef="no"/>',
    ]))


def _timer_process(expression: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"),
        '<bpmn:intermediateCatchEvent id="espera"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDate>{expression}</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        user_task("despues"), '<bpmn:endEvent id="end"/>',
        flows(("start", "primero"), ("primero", "espera"), ("espera", "despues"), ("despues", "end")),
    ]))


def _multi_process(cardinality: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"),
        '<bpmn:scriptTask id="muchos"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
        f'<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>',
        user_task("despues"), '<bpmn:endEvent id="end"/>',
        flows(("start", "primero"), ("primero", "muchos"), ("muchos", "despues"), ("despues", "end")),
    ]))


def _dmn(cell: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN_NS}" id="d" name="d" '
            'namespace="urn:t"><decision id="tabla" name="Tabla"><decisionTable id="dt" hitPolicy="FIRST">'
            '<input id="i1" label="n"><inputExpression id="ie1" typeRef="number"><text>n</text></inputExpression>'
            '</input><output id="o1" label="r" name="r" typeRef="number"/>'
            f'<rule id="r1"><inputEntry id="e1"><text>-</text></inputEntry><outputEntry id="oe1"><text>{cell}</text>'
            '</outputEntry></rule></decisionTable></decision></definitions>')


def _dmn_process() -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"),
        '<bpmn:businessRuleTask id="decidir"><bpmn:extensionElements>'
        '<spiffworkflow:calledDecisionId>tabla</spiffworkflow:calledDecisionId></bpmn:extensionElements>'
        '</bpmn:businessRuleTask>', user_task("despues"), '<bpmn:endEvent id="end"/>',
        flows(("start", "primero"), ("primero", "decidir"), ("decidir", "despues"), ("despues", "end")),
    ]))


def _message_payload_process(payload: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>',
        '<bpmn:intermediateThrowEvent id="avisa"><bpmn:messageEventDefinition messageRef="m"/>'
        '</bpmn:intermediateThrowEvent>', '<bpmn:endEvent id="end"/>',
        flows(("start", "avisa"), ("avisa", "end")),
    ])).replace("</bpmn:definitions>", '<bpmn:message id="m" name="aviso"><bpmn:extensionElements>'
                f'<spiffworkflow:messagePayload>{payload}</spiffworkflow:messagePayload></bpmn:extensionElements>'
                '</bpmn:message>\n</bpmn:definitions>')


def _signal_payload_process(payload: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>',
        '<bpmn:intermediateThrowEvent id="senal"><bpmn:signalEventDefinition signalRef="s"/>'
        '</bpmn:intermediateThrowEvent>', '<bpmn:endEvent id="end"/>',
        flows(("start", "senal"), ("senal", "end")),
    ])).replace("</bpmn:definitions>", '<bpmn:signal id="s" name="senal"><bpmn:extensionElements>'
                f'<spiffworkflow:payloadExpression>{payload}</spiffworkflow:payloadExpression>'
                '</bpmn:extensionElements></bpmn:signal>\n</bpmn:definitions>')


LINT_CORPUS = {
    "script_power": lambda: [bundle("p.bpmn", _script_process("x = 10 ** 10 ** 10 &gt; 0"))],
    "script_repetition": lambda: [bundle("p.bpmn", _script_process("x = 'a' * (3 * 10 ** 9)"))],
    "script_while_true": lambda: [bundle("p.bpmn", _script_process("while True:\n    pass"))],
    "gateway_condition": lambda: [bundle("p.bpmn", _gateway_process("10**10**10 &gt; 0"))],
    "timer_expression": lambda: [bundle("p.bpmn", _timer_process("'a'*(3*10**9)"))],
    "dmn_cell": lambda: [bundle("p.bpmn", _dmn_process()), bundle("t.dmn", _dmn("10**10**10"))],
    "loop_cardinality": lambda: [bundle("p.bpmn", _multi_process("10**7"))],
    "message_payload": lambda: [bundle("p.bpmn", _message_payload_process("{'x': 10**10**10}"))],
    "signal_payload": lambda: [bundle("p.bpmn", _signal_payload_process("'a' * (3 * 10**9)"))],
    "due_date": lambda: [bundle("p.bpmn", _due_date_process("10**10**10"))],
    "runaway_loop_fixture": lambda: [bundle("r.bpmn", (FIXTURES / "runaway_loop.bpmn").read_text())],
    "runaway_power_fixture": lambda: [bundle("r.bpmn", (FIXTURES / "runaway_power.bpmn").read_text())],
}


@pytest.mark.parametrize("name", sorted(LINT_CORPUS))
def test_deploy_refuses_the_runaway_it_can_see(tramita, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DeploymentRejected, match="forbidden expression") as exc:
        tramita.deploy(LINT_CORPUS[name]())
    assert "element" in exc.value.message
    assert tramita.processes() == []


def test_deploy_refuses_a_diagram_raising_a_limit(tramita) -> None:  # type: ignore[no-untyped-def]
    def limited(value: str) -> str:
        props = ('<bpmn:extensionElements><spiffworkflow:properties>'
                 f'<spiffworkflow:property name="limit.steps" value="{value}"/>'
                 '</spiffworkflow:properties></bpmn:extensionElements>')
        return _script_process("x = 1").replace('isExecutable="true">', 'isExecutable="true">' + props, 1)

    with pytest.raises(DeploymentRejected, match="never raise"):
        tramita.deploy([bundle("p.bpmn", limited(str(Limits.server().steps * 10)))])
    with pytest.raises(DeploymentRejected, match="positive number"):
        tramita.deploy([bundle("p.bpmn", limited("-1"))])
    tramita.deploy([bundle("p.bpmn", limited("100"))])
    assert [p["key"] for p in tramita.processes()] == ["p"]


# --- run time: incidents, retries, and nothing else waits --------------------------------------------

def _due_date_process(expression: str) -> str:
    due = f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="dueDate" ' \
          f'value="{expression}"/></spiffworkflow:properties></bpmn:extensionElements>'
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("primero"), user_task("despues", extra=due),
        '<bpmn:endEvent id="end"/>', flows(("start", "primero"), ("primero", "despues"), ("despues", "end")),
    ]))


RUNTIME_CORPUS = {
    "due_date": (lambda: [bundle("p.bpmn", _due_date_process(
        "'2030-01-01T00:00:00+00:00' + 'a' * (3 * n ** 9)".replace("'", "&apos;")))], "despues"),
    # name: (files, the element the incident names)
    "script_power": (lambda: [bundle("p.bpmn", _script_process("x = 10 ** n ** n &gt; 0"))], "calc"),
    "script_repetition": (lambda: [bundle("p.bpmn", _script_process("x = 'a' * (3 * n ** 9)"))], "calc"),
    "script_loop": (lambda: [bundle("p.bpmn", _script_process("while n:\n    pass"))], "calc"),
    "gateway_condition": (lambda: [bundle("p.bpmn", _gateway_process("10**n**n &gt; 0"))], "decide"),
    "timer_expression": (lambda: [bundle("p.bpmn", _timer_process("'2030-01-01T00:00:00+00:00' + 'a'*(3*n**9)"))],
                         "espera"),
    "dmn_cell": (lambda: [bundle("p.bpmn", _dmn_process()), bundle("t.dmn", _dmn("10**n**n"))], "decidir"),
    "loop_cardinality": (lambda: [bundle("p.bpmn", _multi_process("n**7 + 1"))], "muchos"),
}


@pytest.mark.parametrize("name", sorted(RUNTIME_CORPUS))
def test_runaway_ends_in_an_incident_and_waits_for_a_retry(tramita, name: str) -> None:  # type: ignore[no-untyped-def]
    files, element = RUNTIME_CORPUS[name]
    tramita.deploy(files())
    tramita.deploy([bundle("two.bpmn", TWO_TASKS)])
    r = tramita.start("p", {"n": 10}, "ana")
    other = tramita.start("two_tasks", {}, "ana")
    began = time.monotonic()
    with pytest.raises(ExecutionFailed, match="TRAMITA_"):
        tramita.complete(r.open_tasks[0], {}, "ana")
    assert time.monotonic() - began < 10
    detail = tramita.instance(r.instance_id)
    assert detail.instance.status == "error"
    [incident] = [i for i in detail.incidents if i.resolved_at is None]
    assert incident.task_name == element and "TRAMITA_" in incident.message
    # Other cases keep moving.
    assert tramita.complete(other.open_tasks[0], {}, "ana").status == "running"
    # Fixed data, then a retry: the case moves on.
    retried = tramita.retry(r.instance_id, "ana", {"n": 0})
    assert retried.status == "running"


def _script_after_timer(script: str) -> str:
    return process("p", "\n".join([
        '<bpmn:startEvent id="start"/>',
        '<bpmn:intermediateCatchEvent id="espera"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        script_task("gira", script), user_task("despues"), '<bpmn:endEvent id="end"/>',
        flows(("start", "espera"), ("espera", "gira"), ("gira", "despues"), ("despues", "end")),
    ]))


def test_a_runaway_after_a_timer_holds_no_lock_and_other_timers_fire(tramita, frozen_clock,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The timer's script spins for its whole CPU budget; meanwhile the database takes other writes."""
    monkeypatch.setattr(budget, "_server", [replace(Limits.server(), cpu_seconds=3.0, steps=10**9)])
    tramita.deploy([bundle("p.bpmn", _script_after_timer("while n:\n    pass"))])
    tramita.deploy([bundle("q.bpmn", _script_after_timer("x = 1").replace('"p"', '"q"', 1)
                           .replace('defs_p', 'defs_q'))])
    runaway = tramita.start("p", {"n": 1}, "ana")
    calm = tramita.start("q", {"n": 1}, "ana")
    frozen_clock.advance(timedelta(hours=2))

    claimed = firing.claim(tramita.runtime, "w1", frozen_clock.now())
    assert len(claimed) == 2
    spin = next(c for c in claimed if c.instance_id == runaway.instance_id)
    outcome: list[firing.Fired] = []
    worker = threading.Thread(target=lambda: outcome.append(firing.fire(tramita.runtime, spin.timer_id, "w1",
                                                                         claimed=spin)))
    worker.start()
    time.sleep(0.5)  # the script is spinning now
    began = time.monotonic()
    tramita.deploy([bundle("two.bpmn", TWO_TASKS)])  # a write transaction
    other = tramita.start("two_tasks", {}, "ana")
    calm_timer = next(c for c in claimed if c.instance_id == calm.instance_id)
    assert firing.fire(tramita.runtime, calm_timer.timer_id, "w1", claimed=calm_timer).outcome == "fired"
    waited = time.monotonic() - began
    assert worker.is_alive(), "the runaway should still be spinning while the others write"
    worker.join(30)
    assert waited < 2.0, f"writes waited {waited:.1f} s for the runaway timer"
    assert [f.outcome for f in outcome] == ["error"]
    assert tramita.instance(runaway.instance_id).instance.status == "error"
    assert tramita.instance(other.instance_id).instance.status == "running"
    assert tramita.instance(calm.instance_id).instance.status == "running"
    # The incident names the element and the limit; after a fix the retry moves the case on.
    [incident] = tramita.instance(runaway.instance_id).incidents
    assert incident.task_name == "gira" and "TRAMITA_SCRIPT_CPU_SECONDS" in incident.message
    assert tramita.retry(runaway.instance_id, "ana", {"n": 0}).status == "running"


def test_a_diagram_lowers_its_own_budget(tramita) -> None:  # type: ignore[no-untyped-def]
    """``limit.steps`` = 100 on the process: a loop of 1,000 iterations, fine under the server's limit, stops."""
    props = ('<bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="limit.steps" value="100"/>'
             '</spiffworkflow:properties></bpmn:extensionElements>')
    xml = _script_process("s = 0\nfor i in range(1000):\n    s += i").replace(
        'isExecutable="true">', 'isExecutable="true">' + props, 1)
    tramita.deploy([bundle("p.bpmn", xml)])
    r = tramita.start("p", {}, "ana")
    with pytest.raises(ExecutionFailed, match="TRAMITA_SCRIPT_MAX_STEPS=100"):
        tramita.complete(r.open_tasks[0], {}, "ana")
    [incident] = tramita.instance(r.instance_id).incidents
    assert incident.task_name == "calc"
