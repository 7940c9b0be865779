"""Instance transitions: start, complete a task, fire timers, cancel, suspend, resume, retry.

Every transition loads one instance, applies one change to its workflow, steps the
engine, and writes the new state, the task rows, the timer rows and one audit event
in a single database transaction guarded by the instance's revision. If a script or
expression fails, the in-memory workflow is thrown away: the instance is reloaded
from the database and put in ``error`` with an incident, and nothing is half-applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import bpmn, clock, deployments, forms, timers
from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState, NotFound, TramitaError
from engine.expressions import DeadlineLog
from engine.runtime import Runtime
from engine.store.models import Event, Incident, Instance, Task

SYSTEM = "system"
OPEN = "READY"

Apply = Callable[[BpmnWorkflow, Session], dict[str, Any]]


@dataclass(frozen=True)
class TransitionResult:
    instance_id: int
    status: str
    revision: int
    open_tasks: list[str]


def _require_object(data: Any, field: str = "data") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{field} must be a JSON object", field=field)
    return data


# --- start ----------------------------------------------------------------------------------------


def start(rt: Runtime, key: str, data: Any, user: str, *, reference: str | None = None,
          title: str | None = None, institution: str | None = None) -> TransitionResult:
    data = _require_object(data)
    with rt.db.read() as s:
        definition = deployments.latest_process(s, key)
        loaded = rt.specs.get(s, definition.id)
    start_form = _start_form(loaded.task_info)
    if start_form is not None:
        forms.validate(start_form, data)
    initial = {**data, "parametros": rt.parameters} if rt.parameters else dict(data)

    def fresh() -> BpmnWorkflow:
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=rt.script_engine)
        wf.data.update(initial)
        wf.task_tree.data.update(initial)
        for task in wf.get_tasks(state=TaskState.READY):  # the start task carries the initial data
            task.data.update(initial)
        return wf

    now = clock.now()
    with DeadlineLog() as deadlines:
        wf = fresh()
        failure = _step(wf)
        if failure is not None:
            wf = fresh()
        with rt.db.write() as s:
            inst = Instance(definition_id=loaded.definition_id, process_key=key, reference=reference, title=title,
                            status="running", state="{}", revision=0, started_at=now, started_by=user,
                            updated_at=now, institution=institution)
            s.add(inst)
            s.flush()
            detail = {"process": key, "version": loaded.version, "data": data}
            _persist(rt, s, inst, wf, loaded, user, "instance_started", detail, deadlines, failure=failure)
            result = _result(s, inst)
    if failure is not None:
        raise _failure_error(result.instance_id, failure)
    return result


def _start_form(task_info: dict[str, Any]) -> dict[str, Any] | None:
    for info in task_info.values():
        if info.get("type") == "StartEvent" and info.get("schema"):
            return info["schema"]
    return None


# --- the generic transition -----------------------------------------------------------------------


def transition(rt: Runtime, instance_id: int, actor: str, kind: str, apply: Apply, *,
               allowed: tuple[str, ...] = ("running",), status: str | None = None,
               completed_task: tuple[str, str] | None = None, expected_revision: int | None = None,
               step: bool = True) -> TransitionResult:
    """Load one instance, apply a change, step the engine and persist, all in one transaction."""
    with DeadlineLog() as deadlines:
        failure: BaseException | None = None
        with rt.db.write() as s:
            inst, wf, loaded = _load(rt, s, instance_id)
            if inst.status not in allowed:
                raise InvalidState(f"instance {instance_id} is {inst.status}; {kind} needs it {' or '.join(allowed)}",
                                   field="instance")
            if expected_revision is not None and inst.revision != expected_revision:
                raise Conflict(f"instance {instance_id} changed since you loaded it; reload and try again",
                               field="instance")
            detail = apply(wf, s)
            if step:
                failure = _step(wf)
            if failure is None:
                _persist(rt, s, inst, wf, loaded, actor, kind, detail, deadlines, status=status,
                         completed_task=completed_task)
                return _result(s, inst)
        # The failed workflow is discarded; reload, re-apply the change alone and record the incident.
        with rt.db.write() as s:
            inst, wf, loaded = _load(rt, s, instance_id)
            try:
                detail = apply(wf, s)
            except Exception:  # the change itself fails: keep the stored state as it is
                inst, wf, loaded = _load(rt, s, instance_id)
                completed_task = None
            _persist(rt, s, inst, wf, loaded, actor, kind, detail, deadlines, failure=failure,
                     completed_task=completed_task)
    raise _failure_error(instance_id, failure)


def _step(wf: BpmnWorkflow) -> BaseException | None:
    try:
        wf.refresh_timers()
        wf.do_engine_steps()
    except Exception as exc:  # noqa: BLE001 - any failure of diagram code becomes an incident
        return exc
    return None


def _load(rt: Runtime, s: Session, instance_id: int) -> tuple[Instance, BpmnWorkflow, deployments.LoadedSpec]:
    inst = s.get(Instance, instance_id, populate_existing=True)
    if inst is None:
        raise NotFound(f"instance {instance_id} does not exist", field="instance")
    loaded = rt.specs.get(s, inst.definition_id)
    wf = bpmn.load_state(inst.state, loaded.spec, loaded.subprocess_specs)
    wf.script_engine = rt.script_engine
    return inst, wf, loaded


def _failure_error(instance_id: int, failure: BaseException) -> ExecutionFailed:
    return ExecutionFailed(f"instance {instance_id} is now in error: {_failure_message(failure)}", field="instance")


def _failure_message(failure: BaseException) -> str:
    message = str(failure).splitlines()[0] if str(failure) else failure.__class__.__name__
    notes = [n for n in getattr(failure, "__notes__", []) if n]
    return "; ".join([message, *notes])[:2000]


def _failed_task_name(failure: BaseException) -> str | None:
    task = getattr(failure, "task", None)
    if task is not None:
        return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    return getattr(failure, "task_name", None)


# --- persistence ----------------------------------------------------------------------------------


def _persist(rt: Runtime, s: Session, inst: Instance, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
             actor: str, kind: str, detail: dict[str, Any], deadlines: dict[str, dict[str, Any]], *,
             status: str | None = None, failure: BaseException | None = None,
             completed_task: tuple[str, str] | None = None) -> None:
    now = clock.now()
    if failure is not None:
        new_status = "error"
    elif status is not None:
        new_status = status
    elif wf.is_completed():
        new_status = "completed"
    else:
        new_status = "running"
    ended = new_status in {"completed", "cancelled"}
    old_revision = inst.revision
    values = dict(state=bpmn.dump_state(wf), status=new_status, revision=old_revision + 1, updated_at=now)
    if ended:
        values["ended_at"] = now
    result = s.execute(update(Instance).where(Instance.id == inst.id, Instance.revision == old_revision)
                       .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(f"instance {inst.id} was changed by someone else at the same time; reload and try again",
                       field="instance")
    for k, v in values.items():
        setattr(inst, k, v)

    created = _sync_tasks(rt, s, inst, wf, loaded, now, actor, completed_task, ended or new_status == "cancelled")
    timers.sync(s, inst.id, wf, deadlines, cancel_all=ended)
    if created:
        detail = {**detail, "tasks_created": created}
    if failure is not None:
        task_name = _failed_task_name(failure)
        message = _failure_message(failure)
        s.add(Incident(instance_id=inst.id, task_name=task_name, message=message, created_at=now))
        detail = {**detail, "error": {"task": task_name, "message": message}}
    if ended and new_status == "completed" and kind != "instance_completed":
        detail = {**detail, "instance_completed": True}
    s.add(Event(instance_id=inst.id, task_id=completed_task[0] if completed_task else None, at=now, actor=actor,
                kind=kind, detail=_jsonable(detail)))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _sync_tasks(rt: Runtime, s: Session, inst: Instance, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
                now: datetime, actor: str, completed_task: tuple[str, str] | None, close_all: bool) -> list[str]:
    ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)} if not close_all else {}
    open_rows = dict(s.execute(select(Task.id, Task.name).where(Task.instance_id == inst.id, Task.state == OPEN)).all())
    for task_id in open_rows.keys() - ready.keys():
        if completed_task and task_id == completed_task[0]:
            s.execute(update(Task).where(Task.id == task_id).values(
                state="COMPLETED", completed_at=now, completed_by=completed_task[1]))
        else:
            s.execute(update(Task).where(Task.id == task_id).values(state="CANCELLED", completed_at=now))
    created = []
    for task_id in ready.keys() - open_rows.keys():
        task = ready[task_id]
        info = loaded.task_info.get(task.task_spec.bpmn_id, {})
        due, deadline = timers.due_for_task(rt, task, info)
        lane = task.task_spec.lane
        s.add(Task(id=task_id, instance_id=inst.id, process_key=inst.process_key, name=task.task_spec.bpmn_id,
                   title=task.task_spec.bpmn_name, lane=lane, state=OPEN, assignee=None,
                   candidate_group=rt.group_for_lane(lane), created_at=now, due_at=due, deadline=deadline))
        created.append(task.task_spec.bpmn_id)
    return created


def _result(s: Session, inst: Instance) -> TransitionResult:
    open_tasks = list(s.execute(select(Task.id).where(Task.instance_id == inst.id, Task.state == OPEN)).scalars())
    return TransitionResult(inst.id, inst.status, inst.revision, open_tasks)


# --- operations -----------------------------------------------------------------------------------


def complete_task(rt: Runtime, task_id: str, data: Any, user: str) -> TransitionResult:
    data = _require_object(data)
    try:
        UUID(str(task_id))
    except ValueError:
        raise NotFound(f"task {task_id!r} does not exist", field="task") from None
    with rt.db.read() as s:
        row = s.get(Task, str(task_id))
        if row is None:
            raise NotFound(f"task {task_id} does not exist", field="task")
        if row.state != OPEN:
            raise Conflict(f"task {task_id} ({row.title or row.name}) is already {row.state.lower()}; "
                           "nothing was saved", field="task")
        if row.assignee and row.assignee != user:
            raise Conflict(f"task {task_id} is claimed by {row.assignee}", field="task")
        instance_id = row.instance_id

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        task = wf.get_task_from_id(UUID(str(task_id)))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict(f"task {task_id} is no longer open; nothing was saved", field="task")
        info = rt.specs.get(s, _definition_id(s, instance_id)).task_info.get(task.task_spec.bpmn_id, {})
        if info.get("schema"):
            forms.validate(info["schema"], data)
        before = dict(task.data)
        task.data.update(data)
        task.run()
        return {"task": task.task_spec.bpmn_id, "title": task.task_spec.bpmn_name,
                "changes": _changes(before, task.data)}

    return transition(rt, instance_id, user, "task_completed", apply, completed_task=(str(task_id), user))


def _definition_id(s: Session, instance_id: int) -> int:
    return s.execute(select(Instance.definition_id).where(Instance.id == instance_id)).scalar_one()


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if k not in before or before[k] != v}


def cancel(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        wf.cancel()
        return {"reason": reason}

    return transition(rt, instance_id, user, "instance_cancelled", apply, allowed=("running", "suspended", "error"),
                      status="cancelled", step=False)


def suspend(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    return transition(rt, instance_id, user, "instance_suspended", lambda wf, s: {"reason": reason},
                      status="suspended", step=False)


def resume(rt: Runtime, instance_id: int, user: str) -> TransitionResult:
    return transition(rt, instance_id, user, "instance_resumed", lambda wf, s: {}, allowed=("suspended",))


def retry(rt: Runtime, instance_id: int, user: str, data: Any = None) -> TransitionResult:
    """Re-run an instance in error; ``data`` corrects the case data of the tasks about to run."""
    patch = _require_object(data) if data is not None else {}

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        s.execute(update(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
                  .values(resolved_at=clock.now()))
        if patch:
            for task in wf.get_tasks(state=TaskState.READY):
                task.data.update(patch)
        return {"data": patch} if patch else {}

    return transition(rt, instance_id, user, "instance_retried", apply, allowed=("error",))


def send_message(rt: Runtime, instance_id: int, name: str, payload: Any, user: str) -> TransitionResult:
    from SpiffWorkflow.bpmn.event import BpmnEvent
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

    payload = _require_object(payload, "payload")

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        waiting = [t for t in wf.get_tasks(state=TaskState.WAITING)
                   if getattr(getattr(t.task_spec, "event_definition", None), "name", None) == name]
        if not waiting:
            raise InvalidState(f"instance {instance_id} is not waiting for the message {name!r}", field="message")
        wf.catch(BpmnEvent(MessageEventDefinition(name), payload))
        return {"message": name, "payload": payload}

    return transition(rt, instance_id, user, "message_received", apply)
