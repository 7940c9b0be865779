"""Writing a transition: the instance row guarded by its revision, task rows, timer rows, the audit event.

Runs inside the write transaction, and runs no diagram code: what diagram code computes (the
state, the due dates of new tasks) is handed in, computed before the lock was taken.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.casework import register
from engine.deploy import versions as deployments
from engine.errors import Conflict, ExecutionFailed, NotFound
from engine.oversight import hooks
from engine.run import timers
from engine.run.runtime import Runtime
from engine.store.models import Incident
from engine.store.states import InstanceStatus
from engine.store.statements import OPEN, _Statements, statements
from engine.time import clock


@dataclass(frozen=True)
class TransitionResult:
    instance_id: int
    status: str
    revision: int
    open_tasks: list[str]


_timer_specs: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def _has_timers(loaded: deployments.LoadedSpec) -> bool:
    """Whether a deployed version has any timer event at all (else its instances never have timer rows)."""
    found = _timer_specs.get(loaded.spec)
    if found is None:
        found = any(isinstance(getattr(ts, "event_definition", None), TimerEventDefinition)
                    for spec in [loaded.spec, *loaded.subprocess_specs.values()]
                    for ts in spec.task_specs.values())
        _timer_specs[loaded.spec] = found
    return found


@dataclass
class _Head:
    """The instance row without its state: enough to check, guard and write a transition."""

    id: int
    definition_id: int
    process_key: str
    status: str
    revision: int


class _Moved(Exception):
    """The instance's revision moved between reading it and writing it."""


def _head(rt: Runtime, s: Session, instance_id: int) -> _Head:
    row = statements(s, rt.db).head(instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist", field="instance")
    return _Head(*row)


def _restore(rt: Runtime, s: Session, instance_id: int, loaded: deployments.LoadedSpec) -> BpmnWorkflow:
    state = statements(s, rt.db).state(instance_id)
    wf = serializer.load_state(state, loaded.spec, loaded.subprocess_specs)
    wf.script_engine = rt.script_engine
    return wf


def _failure_error(instance_id: int, failure: BaseException) -> ExecutionFailed:
    return ExecutionFailed(f"instance {instance_id} is now in error: {_failure_message(failure)}", field="instance")


def _failure_message(failure: BaseException) -> str:
    """The failure's first line, its notes, and the error underneath when SpiffWorkflow's wrapper hides it
    ("Error evaluating expression …" says nothing of the limit the expression went over)."""
    message = str(failure).splitlines()[0] if str(failure) else failure.__class__.__name__
    notes = [n for n in getattr(failure, "__notes__", []) if n]
    cause, seen = failure, 0
    while (cause.__cause__ or cause.__context__) is not None and seen < 10:
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    if cause is not failure and str(cause) and str(cause).splitlines()[0] not in message:
        notes.insert(0, str(cause).splitlines()[0])
    return "; ".join([message, *notes])[:2000]


def _failed_task_name(failure: BaseException) -> str | None:
    task = getattr(failure, "task", None)
    if task is not None:
        return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    return getattr(failure, "task_name", None)


def _persist(rt: Runtime, s: Session, head: _Head | None, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
             actor: str, kind: str, detail: dict[str, Any], deadlines: dict[str, dict[str, Any]], *,
             status: str | None = None, failure: BaseException | None = None,
             completed_task: tuple[str, str] | None = None, new_row: dict[str, Any] | None = None,
             state: str | None = None, dues: dict[str, tuple[Any, Any]] | None = None) -> TransitionResult:
    """Write the state (guarded by the revision), the task rows, the timer rows and the event.

    With ``new_row`` the instance is inserted (``start``) instead of updated.
    """
    s.flush()  # whatever the change wrote through the ORM goes before the statements below
    sql = statements(s, rt.db)
    now = clock.now()
    if failure is not None:
        new_status = InstanceStatus.ERROR
    elif status is not None:
        new_status = status
    elif wf.is_completed():
        new_status = InstanceStatus.COMPLETED
    else:
        new_status = InstanceStatus.RUNNING
    ended = InstanceStatus(new_status).ended
    if state is None:
        state = serializer.dump_state(wf)
    if new_row is not None:
        values = dict(new_row, state=state, status=new_status, revision=1, updated_at=now,
                      ended_at=now if ended else None)
        instance_id = sql.insert_instance(values)
        head = _Head(instance_id, new_row["definition_id"], new_row["process_key"], new_status, 1)
    else:
        assert head is not None
        values = {"state": state, "status": new_status, "revision": head.revision + 1, "updated_at": now}
        if ended:
            values["ended_at"] = now
        if not sql.update_instance(head.id, head.revision, values):
            raise _Moved()
        head.status, head.revision = new_status, head.revision + 1
    register.flush(s, head.id) if failure is None else register.discard()  # entries commit with their act

    created, open_tasks = _sync_tasks(rt, sql, head, wf, loaded, now, completed_task, ended,
                                      new=new_row is not None, dues=dues)
    if _has_timers(loaded):
        timers.sync(s, head.id, wf, deadlines, cancel_all=ended)
    hooks.sync_message_waits(s, head.id, wf, loaded, now, ended, new=new_row is not None)  # read models
    if completed_task:
        hooks.record_completion(s, head.definition_id, completed_task[0], now)
    if created:
        detail = {**detail, "tasks_created": created}
    if failure is not None:
        task_name = _failed_task_name(failure)
        message = _failure_message(failure)
        s.add(Incident(instance_id=head.id, task_name=task_name, message=message, created_at=now))
        detail = {**detail, "error": {"task": task_name, "message": message}}
    if new_status == InstanceStatus.COMPLETED:
        detail = {**detail, "instance_completed": True}
    sql.insert_event({"instance_id": head.id, "task_id": completed_task[0] if completed_task else None,
                      "at": now, "actor": actor, "kind": kind, "detail": detail})
    return TransitionResult(head.id, head.status, head.revision, open_tasks)


def _sync_tasks(rt: Runtime, sql: _Statements, head: _Head, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
                now: datetime, completed_task: tuple[str, str] | None, close_all: bool, *,
                new: bool = False, dues: dict[str, tuple[Any, Any]] | None = None) -> tuple[list[str], list[str]]:
    """Make the instance's open task rows match its READY user tasks; returns (created names, open ids)."""
    ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)} if not close_all else {}
    open_rows = [] if new else sql.open_tasks(head.id)
    still_open, cancelled = [], []
    for task_id in open_rows:
        if task_id in ready:
            still_open.append(task_id)
        elif completed_task and task_id == completed_task[0]:
            if not sql.complete_task(task_id, now, completed_task[1]):
                raise Conflict(f"task {task_id} was claimed by someone else meanwhile; nothing was saved",
                               field="task")
        else:
            cancelled.append(task_id)
    if cancelled:
        sql.cancel_tasks(cancelled, now)
    known = set(open_rows)
    rows, created = [], []
    for task_id, task in ready.items():
        if task_id in known:
            continue
        spec = task.task_spec
        info = loaded.task_info.get(spec.bpmn_id, {})
        if dues is not None and task_id in dues:
            due, deadline = dues[task_id]
        elif dues is not None:
            # Not evaluated before the lock: the open rows moved meanwhile, so run the transition again.
            raise _Moved()
        else:
            due, deadline = timers.due_for_task(rt, task, info)
        lane = info.get("lane") or spec.lane  # the lane it is drawn in, also inside a subprocess
        rows.append(dict(id=task_id, instance_id=head.id, process_key=head.process_key, name=spec.bpmn_id,
                         title=spec.bpmn_name, lane=lane, state=OPEN, assignee=None,
                         candidate_group=loaded.parts.group_for_lane(lane), created_at=now, due_at=due, deadline=deadline,
                         completed_at=None, completed_by=None, overdue=False))
        created.append(spec.bpmn_id)
    if rows:
        sql.insert_tasks(rows)
    return created, still_open + [r["id"] for r in rows]
