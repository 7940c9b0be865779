"""Small BPMN documents for engine tests, written out so each test shows the model it runs."""

from __future__ import annotations

from engine.deploy.versions import BundleFile

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
          'id="defs_{pid}" targetNamespace="http://tramita.test">\n')


def process(pid: str, body: str, *, name: str | None = None, executable: bool = True) -> str:
    return (HEADER.format(pid=pid)
            + f'<bpmn:process id="{pid}" name="{name or pid}" isExecutable="{str(executable).lower()}">\n'
            + body + '\n</bpmn:process>\n</bpmn:definitions>\n')


def bundle(name: str, xml: str) -> BundleFile:
    return BundleFile(name, xml.encode())


def flows(*pairs: tuple[str, str], cond: dict[str, str] | None = None) -> str:
    out = []
    for i, (a, b) in enumerate(pairs):
        c = (cond or {}).get(f"{a}>{b}")
        inner = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{c}</bpmn:conditionExpression>'
                 if c else "")
        out.append(f'<bpmn:sequenceFlow id="f{i}_{a}_{b}" sourceRef="{a}" targetRef="{b}">{inner}</bpmn:sequenceFlow>')
    return "\n".join(out)


def user_task(tid: str, name: str | None = None, extra: str = "") -> str:
    return f'<bpmn:userTask id="{tid}" name="{name or tid}">{extra}</bpmn:userTask>'


def script_task(tid: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{tid}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


# start -> a -> b -> end
TWO_TASKS = process("two_tasks", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("a", "Primera"), user_task("b", "Segunda"),
    '<bpmn:endEvent id="end"/>', flows(("start", "a"), ("a", "b"), ("b", "end")),
]))

# start -> a -> script (fails when boom) -> b -> end
FAILING_SCRIPT = process("failing", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("a"),
    script_task("calc", "if boom:\n    result = 1 / 0\nelse:\n    result = 42"),
    user_task("b"), '<bpmn:endEvent id="end"/>',
    flows(("start", "a"), ("a", "calc"), ("calc", "b"), ("b", "end")),
]))

# start -> gw -> (approve | reject) by amount
GATEWAY = process("gateway", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("fill"),
    '<bpmn:exclusiveGateway id="gw" default="f_default"/>',
    user_task("big"), user_task("small"),
    '<bpmn:endEvent id="end1"/>', '<bpmn:endEvent id="end2"/>',
    flows(("start", "fill"), ("fill", "gw"), ("gw", "big"), ("big", "end1"), ("small", "end2"),
          cond={"gw>big": "amount &gt; 100"}),
    '<bpmn:sequenceFlow id="f_default" sourceRef="gw" targetRef="small"/>',
]))

# start -> fork -> (left | right) -> join -> end: two tasks open at once on one instance
PARALLEL = process("parallel", "\n".join([
    '<bpmn:startEvent id="start"/>', '<bpmn:parallelGateway id="fork"/>', user_task("left"), user_task("right"),
    '<bpmn:parallelGateway id="join"/>', '<bpmn:endEvent id="end"/>',
    flows(("start", "fork"), ("fork", "left"), ("fork", "right"), ("left", "join"), ("right", "join"),
          ("join", "end")),
]))

CALLER = process("caller", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:callActivity id="call" calledElement="two_tasks"/>',
    '<bpmn:endEvent id="end"/>', flows(("start", "call"), ("call", "end")),
]))
