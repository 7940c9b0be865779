from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidState
from engine.deploy.versions import BundleFile
from tests.diagrams import bundle, flows, process, user_task


def routes(folder: Path) -> BundleFile:
    """The message routes written in ``folder``, deployed with the sender: its version pins them."""
    return BundleFile("messages.toml", (folder / "messages.toml").read_bytes())

MESSAGES = ('<bpmn:message id="m_reforma" name="norma_reformada"/>'
            '<bpmn:message id="m_pedir" name="pedir_otro_caso"/>')


def with_messages(xml: str) -> str:
    return xml.replace('<bpmn:process ', MESSAGES + '<bpmn:process ', 1)


WAITER = with_messages(process("espera", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:intermediateCatchEvent id="esperar"><bpmn:messageEventDefinition messageRef="m_reforma">'
    '<bpmn:extensionElements><spiffworkflow:messageVariable>reforma</spiffworkflow:messageVariable>'
    '</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>',
    user_task("verificar"), '<bpmn:endEvent id="end"/>',
    flows(("start", "esperar"), ("esperar", "verificar"), ("verificar", "end")),
])))

THROWER = with_messages(process("lanza", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("decidir"),
    '<bpmn:intermediateThrowEvent id="pedir"><bpmn:messageEventDefinition messageRef="m_pedir">'
    '<bpmn:extensionElements><spiffworkflow:messagePayload>{"origen": folio}</spiffworkflow:messagePayload>'
    '</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>',
    '<bpmn:endEvent id="end"/>', flows(("start", "decidir"), ("decidir", "pedir"), ("pedir", "end")),
])))

TARGET = process("destino", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("atender"), '<bpmn:endEvent id="end"/>',
    flows(("start", "atender"), ("atender", "end")),
]))


def test_a_message_reaches_the_waiting_case_with_its_payload(tramita) -> None:
    tramita.deploy([bundle("w.bpmn", WAITER)], "d")
    r = tramita.start("espera", {}, "u")
    assert r.open_tasks == []
    result = tramita.send_message(r.instance_id, "norma_reformada", {"decreto": "BO 2027-03-01"}, "enlace")
    assert [tramita.task(t).name for t in result.open_tasks] == ["verificar"]
    detail = tramita.instance(r.instance_id)
    assert detail.data["reforma"] == {"decreto": "BO 2027-03-01"}
    assert [e.kind for e in detail.events][-1] == "message_received"


def test_a_message_nobody_waits_for_is_refused_and_changes_nothing(tramita) -> None:
    tramita.deploy([bundle("w.bpmn", WAITER)], "d")
    r = tramita.start("espera", {}, "u")
    with pytest.raises(InvalidState, match="not waiting for the message 'otra_cosa'"):
        tramita.send_message(r.instance_id, "otra_cosa", {}, "enlace")
    assert tramita.instance(r.instance_id).instance.revision == 1


def test_a_thrown_message_with_a_route_starts_the_other_procedure(tramita, tmp_path: Path) -> None:
    (tmp_path / "messages.toml").write_text('[start.pedir_otro_caso]\nprocess = "destino"\ncitation = "art. 1"\n')
    tramita.deploy([bundle("t.bpmn", THROWER), bundle("d.bpmn", TARGET), routes(tmp_path)], "d")
    r = tramita.start("lanza", {"folio": "OP-1"}, "u", institution="fiscalia")
    tramita.complete(r.open_tasks[0], {}, "u")
    started = [i for i in tramita.instances(process_key="destino")]
    assert len(started) == 1
    detail = tramita.instance(started[0].id)
    assert detail.data["origen"] == "OP-1"
    assert [t.name for t in detail.tasks] == ["atender"]
    source_events = tramita.instance(r.instance_id).events
    assert source_events[-1].kind == "case_started"
    assert source_events[-1].detail["instance"] == started[0].id


def test_waiting_messages_lists_what_the_case_waits_for(tramita) -> None:
    tramita.deploy([bundle("w.bpmn", WAITER)], "d")
    r = tramita.start("espera", {}, "u")
    assert [m["name"] for m in tramita.waiting_messages(r.instance_id)] == ["norma_reformada"]
    tramita.send_message(r.instance_id, "norma_reformada", {}, "enlace")
    assert tramita.waiting_messages(r.instance_id) == []


def test_a_routed_case_that_refuses_to_start_is_recorded_and_the_sender_stands(tramita, tmp_path: Path) -> None:
    (tmp_path / "messages.toml").write_text('[start.pedir_otro_caso]\nprocess = "no_desplegado"\ncitation = "art. 1"\n')
    tramita.deploy([bundle("t.bpmn", THROWER), routes(tmp_path)], "d")
    r = tramita.start("lanza", {"folio": "OP-2"}, "u")
    result = tramita.complete(r.open_tasks[0], {}, "u")
    assert result.status == "completed"
    last = tramita.instance(r.instance_id).events[-1]
    assert last.kind == "message_not_delivered" and "no_desplegado" in last.detail["error"]


def test_the_routed_case_is_written_in_the_senders_transaction(tramita, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """If the sender's transaction fails, the case it asked for does not exist either."""
    (tmp_path / "messages.toml").write_text('[start.pedir_otro_caso]\nprocess = "destino"\ncitation = "art. 1"\n')
    tramita.deploy([bundle("t.bpmn", THROWER), bundle("d.bpmn", TARGET), routes(tmp_path)], "d")
    r = tramita.start("lanza", {"folio": "OP-3"}, "u")
    from engine.run import transitions as instances

    original = instances._write_routes

    def route_then_fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        original(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(instances, "_write_routes", route_then_fail)
    with pytest.raises(RuntimeError):
        tramita.complete(r.open_tasks[0], {}, "u")
    assert tramita.instances(process_key="destino") == []
    assert [t.state for t in tramita.instance(r.instance_id).tasks] == ["READY"]
