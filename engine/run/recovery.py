"""The operations that unblock or stop a case: cancel, suspend, resume and retry one in error.

Each is one :func:`engine.run.transitions.transition` with an audit event that carries the reason the
manager or operator gave (the manager console asks for one on every action, single or bulk).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.run.persist import TransitionResult
from engine.run.runtime import Runtime
from engine.run.transitions import _require_object, transition
from engine.store.models import Incident
from engine.store.states import EventKind, InstanceStatus
from engine.time import clock


def _reason(reason: str) -> dict[str, Any]:
    return {"reason": reason} if reason else {}


def cancel(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        wf.cancel()
        return {"reason": reason}

    return transition(rt, instance_id, user, EventKind.INSTANCE_CANCELLED, apply,
                      allowed=(InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.ERROR),
                      status=InstanceStatus.CANCELLED, step=False)


def suspend(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    return transition(rt, instance_id, user, EventKind.INSTANCE_SUSPENDED, lambda wf, s: {"reason": reason},
                      status=InstanceStatus.SUSPENDED, step=False)


def resume(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    return transition(rt, instance_id, user, EventKind.INSTANCE_RESUMED, lambda wf, s: _reason(reason),
                      allowed=(InstanceStatus.SUSPENDED,))


def retry(rt: Runtime, instance_id: int, user: str, data: Any = None, reason: str = "") -> TransitionResult:
    """Re-run an instance in error; ``data`` corrects the case data of the tasks about to run."""
    patch = _require_object(data) if data is not None else {}

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        if patch:
            # The tasks about to run: the ready ones or, when a timer's firing failed, the waiting
            # ones, and what those inherit their data from when they become ready (their parent).
            ready = wf.get_tasks(state=TaskState.READY)
            for task in ready or wf.get_tasks(state=TaskState.WAITING):
                task.data.update(patch)
                if not ready and task.parent is not None:
                    task.parent.data.update(patch)
        return {**({"data": patch} if patch else {}), **_reason(reason)}

    def resolve(s: Session, wf: BpmnWorkflow) -> dict[str, Any]:
        s.execute(update(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
                  .values(resolved_at=clock.now()))
        return {}

    return transition(rt, instance_id, user, EventKind.INSTANCE_RETRIED, apply, allowed=(InstanceStatus.ERROR,),
                      on_write=resolve)
