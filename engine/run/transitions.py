"""Instance transitions: start, complete a task, fire timers, cancel, suspend, resume, retry.

Every transition loads one instance, applies one change to its workflow and steps the
engine (before the write transaction opens, see :func:`transition`), then writes the new
state, the task rows, the timer rows and one audit event in a single database transaction
guarded by the instance's revision. If a script or
expression fails, the in-memory workflow is thrown away: the instance is reloaded
from the database and put in ``error`` with an incident, and nothing is half-applied.

The hot path is written for throughput: bookkeeping goes through the prebuilt
statements of ``engine.store.statements`` (no ORM unit of work), and the workflow a transition leaves behind is
kept in memory keyed by (instance id, revision), so the next transition on the same
instance skips deserializing it. The row is still read every time and the revision
compared, and the ``UPDATE ... WHERE revision = ?`` still guards the write, so
another process's change simply makes the cached copy miss.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import safe_xml, serializer
from engine.time import clock
from engine.deploy import versions as deployments
from engine.run import forms
from engine.run import timers
from engine.oversight import hooks
from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState, NotFound, TramitaError
from engine.script.helpers import DeadlineLog
from engine.run.runtime import Runtime
from engine.store.models import Event, Incident, Instance
from engine.store.statements import OPEN, _Statements, jsonable, statements

SYSTEM = "system"

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
    forms.require_json_numbers(data)
    return data


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


# --- start ----------------------------------------------------------------------------------------


def start(rt: Runtime, key: str, data: Any, user: str, *, reference: str | None = None,
          title: str | None = None, institution: str | None = None) -> TransitionResult:
    """Create an instance of the newest version of ``key`` and run it to its first wait: one transaction.

    The case is run and serialized before the write transaction opens, so on SQLite the
    single writer's lock is held only while the rows are written.
    """
    data = _require_object(data)
    with DeadlineLog() as deadlines:
        with rt.db.read() as s:
            started = _run_start(rt, s, key, data, user, reference=reference, title=title, institution=institution)
        state = serializer.dump_state(started.wf)
        with rt.db.write() as s:
            result = _write_start(rt, s, started, deadlines, state)
    if started.failure is not None:
        raise _failure_error(result.instance_id, started.failure)
    rt.workflows.put(result.instance_id, result.revision, started.wf)
    return result


@dataclass
class _Started:
    """A new case run to its first wait, not yet written."""

    loaded: deployments.LoadedSpec
    wf: BpmnWorkflow
    failure: BaseException | None
    row: dict[str, Any]
    detail: dict[str, Any]
    user: str
    thrown: list[tuple[str, Any]]  # taken out of the workflow before it is serialized


def _run_start(rt: Runtime, s: Session, key: str, data: dict[str, Any], user: str, *, reference: str | None,
               title: str | None, institution: str | None) -> _Started:
    """Create and run a case in memory (bad input raises here, before anything is written)."""
    parameters = rt.parameters
    definition_id = statements(s, rt.db).latest_definition(key)
    if definition_id is None:
        deployments.latest_process(s, key)  # raises NotFound naming what is deployed
    loaded = rt.specs.get(s, definition_id)
    start_form = _start_form(loaded.task_info)
    if start_form is not None:
        forms.validate(start_form, data)

    def fresh() -> BpmnWorkflow:
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=rt.script_engine)
        if parameters:  # the values in force today, kept with the case (see engine.parameters)
            wf.data["parametros"] = parameters
        wf.task_tree.data.update(data)
        for task in wf.get_tasks(state=TaskState.READY):  # the start task carries the initial data
            task.data.update(data)
        return wf

    wf = fresh()
    failure = _step(wf)
    if failure is not None:
        wf = fresh()
    row = dict(definition_id=loaded.definition_id, process_key=key, reference=reference, title=title,
               started_at=clock.now(), started_by=user, institution=institution)
    return _Started(loaded, wf, failure, row, {"process": key, "version": loaded.version, "data": data}, user,
                    _thrown_messages(wf))


def _write_start(rt: Runtime, s: Session, started: _Started, deadlines: dict[str, dict[str, Any]],
                 state: str) -> TransitionResult:
    result = _persist(rt, s, None, started.wf, started.loaded, started.user, "instance_started", started.detail,
                      deadlines, failure=started.failure, new_row=started.row, state=state)
    if started.thrown:
        _route_messages(rt, s, result.instance_id, started.thrown, deadlines)
    return result


def _start_form(task_info: dict[str, Any]) -> dict[str, Any] | None:
    for info in task_info.values():
        if info.get("type") == "StartEvent" and info.get("schema"):
            return info["schema"]
    return None


# --- the generic transition -----------------------------------------------------------------------


class _Discard(Exception):
    """The engine failed: throw the workflow away and record the failure in a transaction of its own."""

    def __init__(self, head: _Head) -> None:
        super().__init__(head.id)
        self.head = head


class _Moved(Exception):
    """The instance's revision moved between reading it and writing it."""


Locate = Callable[[Session], "_Head"]
_ATTEMPTS = 5


def transition(rt: Runtime, instance_id: int | Locate, actor: str, kind: str, apply: Apply, *,
               allowed: tuple[str, ...] = ("running",), status: str | None = None,
               completed_task: tuple[str, str] | None = None, expected_revision: int | None = None,
               step: bool = True, writes: bool = False) -> TransitionResult:
    """Load one instance, apply a change, step the engine and write the result in one transaction.

    ``instance_id`` may be a function that finds the instance's row (and may refuse,
    raising), so a caller's checks see the same instance the change is applied to.

    The change is applied, the engine stepped and the state serialized before the write
    transaction opens (SQLite has one writer: it waits only for the rows to be written);
    the write is guarded by the revision read, and if another transition got there first
    the whole thing runs again on the new state, re-checking everything (up to
    ``_ATTEMPTS`` times; with ``expected_revision`` a moved revision is a conflict at once).
    An ``apply`` that writes through its session (``writes=True``) runs inside the write
    transaction instead, so what it writes commits with the state or not at all.
    """
    cache = rt.workflows
    with DeadlineLog() as deadlines:
        for _attempt in range(_ATTEMPTS):
            try:
                if writes:
                    with rt.db.write() as s:
                        head, loaded, wf, detail, thrown = _apply(rt, s, instance_id, kind, apply, allowed,
                                                                  expected_revision, step)
                        result = _write(rt, s, head, wf, loaded, actor, kind, detail, thrown, deadlines, status,
                                        completed_task, serializer.dump_state(wf))
                else:
                    with rt.db.read() as s:
                        head, loaded, wf, detail, thrown = _apply(rt, s, instance_id, kind, apply, allowed,
                                                                  expected_revision, step)
                    state = serializer.dump_state(wf)
                    with rt.db.write() as s:
                        result = _write(rt, s, head, wf, loaded, actor, kind, detail, thrown, deadlines, status,
                                        completed_task, state)
            except _Moved:
                if expected_revision is not None:
                    raise Conflict(f"instance {head.id} changed since you loaded it; reload and try again",
                                   field="instance") from None
                continue
            except _Discard as discard:
                head, failure = discard.head, discard.__cause__
                break
            cache.put(head.id, result.revision, wf)  # only once committed
            return result
        else:
            raise Conflict(f"instance {head.id} kept changing while this change was applied; try again",
                           field="instance")
        # The failed workflow is discarded; reload, re-apply the change alone and record the incident.
        with rt.db.write() as s:
            head = _head(rt, s, head.id)
            loaded = rt.specs.get(s, head.definition_id)
            wf = _restore(rt, s, head.id, loaded)
            try:
                detail = apply(wf, s)
            except Exception:  # the change itself fails: keep the stored state as it is
                wf = _restore(rt, s, head.id, loaded)
                completed_task = None
            try:
                _persist(rt, s, head, wf, loaded, actor, kind, detail, deadlines, failure=failure,
                         completed_task=completed_task)
            except _Moved:
                raise Conflict(f"instance {head.id} was changed by someone else at the same time; reload and "
                               "try again", field="instance") from None
    raise _failure_error(head.id, failure)


def _apply(rt: Runtime, s: Session, instance_id: int | Locate, kind: str, apply: Apply,
           allowed: tuple[str, ...], expected_revision: int | None, step: bool
           ) -> tuple[_Head, deployments.LoadedSpec, BpmnWorkflow, dict[str, Any], list[tuple[str, Any]]]:
    """Check the instance, take its workflow (cached, else restored), apply the change, step."""
    head = instance_id(s) if callable(instance_id) else _head(rt, s, instance_id)
    iid = head.id
    if head.status not in allowed:
        raise InvalidState(f"instance {iid} is {head.status}; {kind} needs it {' or '.join(allowed)}",
                           field="instance")
    if expected_revision is not None and head.revision != expected_revision:
        raise Conflict(f"instance {iid} changed since you loaded it; reload and try again", field="instance")
    loaded = rt.specs.get(s, head.definition_id)
    wf = rt.workflows.take(iid, head.revision)
    if wf is None:
        wf = _restore(rt, s, iid, loaded)
    detail = apply(wf, s)
    if step:
        failure = _step(wf)
        if failure is not None:
            raise _Discard(head) from failure
    return head, loaded, wf, detail, _thrown_messages(wf)  # taken out before the state is serialized


def _write(rt: Runtime, s: Session, head: _Head, wf: BpmnWorkflow, loaded: deployments.LoadedSpec, actor: str,
           kind: str, detail: dict[str, Any], thrown: list[tuple[str, Any]], deadlines: dict[str, dict[str, Any]],
           status: str | None, completed_task: tuple[str, str] | None, state: str) -> TransitionResult:
    result = _persist(rt, s, head, wf, loaded, actor, kind, detail, deadlines, status=status,
                      completed_task=completed_task, state=state)
    if thrown:
        _route_messages(rt, s, head.id, thrown, deadlines)
    return result


def _thrown_messages(wf: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Messages the case threw that none of its own tasks caught (signals stay inside the case)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

    return [(e.event_definition.name, e.payload) for e in wf.get_events()
            if isinstance(e.event_definition, MessageEventDefinition)]


def _route_messages(rt: Runtime, s: Session, source_id: int, thrown: list[tuple[str, Any]],
                    deadlines: dict[str, dict[str, Any]]) -> None:
    """Start the case each routed message asks for (``workflows/messages.toml``), in the sender's transaction.

    Both commit together or not at all, so a crash never loses the case a violation
    asked for. A message whose case refuses to start (bad data) is recorded on the
    sender's audit trail for a person to act on; the sender's transition stands.
    """
    for name, payload in thrown:
        route = rt.message_routes.get(name)
        if route is None:
            continue
        institution = s.execute(select(Instance.institution).where(Instance.id == source_id)).scalar()
        try:
            run = _run_start(rt, s, route, payload if isinstance(payload, dict) else {}, SYSTEM, reference=None,
                             institution=institution, title=f"Iniciado por el caso {source_id} ({name})")
            started = _write_start(rt, s, run, deadlines, serializer.dump_state(run.wf))
            kind, detail = "case_started", {"message": name, "process": route, "instance": started.instance_id}
        except TramitaError as exc:
            kind, detail = "message_not_delivered", {"message": name, "process": route, "error": exc.message}
        s.add(Event(instance_id=source_id, task_id=None, at=clock.now(), actor=SYSTEM, kind=kind,
                    detail=jsonable(detail)))


def _step(wf: BpmnWorkflow) -> BaseException | None:
    """Fire what is due, then run the engine to its next wait.

    ``BpmnWorkflow.do_engine_steps()`` ends with a second ``refresh_timers()``: a cycle
    timer behind schedule would fire two occurrences in one transition, the second
    without a timer row or an audit event of its own. So the loop runs here without it
    (SpiffWorkflow is pinned to 3.2, whose ``_do_engine_steps`` this relies on).
    """
    try:
        wf.refresh_timers()
        while wf._do_engine_steps():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure of diagram code becomes an incident
        return exc
    return None


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
    message = str(failure).splitlines()[0] if str(failure) else failure.__class__.__name__
    notes = [n for n in getattr(failure, "__notes__", []) if n]
    return "; ".join([message, *notes])[:2000]


def _failed_task_name(failure: BaseException) -> str | None:
    task = getattr(failure, "task", None)
    if task is not None:
        return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    return getattr(failure, "task_name", None)


# --- persistence ----------------------------------------------------------------------------------


def _persist(rt: Runtime, s: Session, head: _Head | None, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
             actor: str, kind: str, detail: dict[str, Any], deadlines: dict[str, dict[str, Any]], *,
             status: str | None = None, failure: BaseException | None = None,
             completed_task: tuple[str, str] | None = None, new_row: dict[str, Any] | None = None,
             state: str | None = None) -> TransitionResult:
    """Write the state (guarded by the revision), the task rows, the timer rows and the event.

    With ``new_row`` the instance is inserted (``start``) instead of updated.
    """
    s.flush()  # whatever the change wrote through the ORM goes before the statements below
    sql = statements(s, rt.db)
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

    created, open_tasks = _sync_tasks(rt, sql, head, wf, loaded, now, completed_task, ended,
                                      new=new_row is not None)
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
    if ended and new_status == "completed" and kind != "instance_completed":
        detail = {**detail, "instance_completed": True}
    sql.insert_event({"instance_id": head.id, "task_id": completed_task[0] if completed_task else None,
                      "at": now, "actor": actor, "kind": kind, "detail": detail})
    return TransitionResult(head.id, head.status, head.revision, open_tasks)


def _sync_tasks(rt: Runtime, sql: _Statements, head: _Head, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
                now: datetime, completed_task: tuple[str, str] | None, close_all: bool, *,
                new: bool = False) -> tuple[list[str], list[str]]:
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
        due, deadline = timers.due_for_task(rt, task, info)
        lane = info.get("lane") or spec.lane  # the lane it is drawn in, also inside a subprocess
        rows.append(dict(id=task_id, instance_id=head.id, process_key=head.process_key, name=spec.bpmn_id,
                         title=spec.bpmn_name, lane=lane, state=OPEN, assignee=None,
                         candidate_group=rt.group_for_lane(lane), created_at=now, due_at=due, deadline=deadline,
                         completed_at=None, completed_by=None, overdue=False))
        created.append(spec.bpmn_id)
    if rows:
        sql.insert_tasks(rows)
    return created, still_open + [r["id"] for r in rows]


# --- operations -----------------------------------------------------------------------------------


def complete_task(rt: Runtime, task_id: str, data: Any, user: str) -> TransitionResult:
    data = _require_object(data)
    try:
        UUID(str(task_id))
    except ValueError:
        raise NotFound(f"task {task_id!r} does not exist", field="task") from None
    task_id = str(task_id)
    found: dict[str, Any] = {}

    def locate(s: Session) -> _Head:
        """The checks on the task row, inside the transition's own transaction."""
        row = statements(s, rt.db).task(task_id)
        if row is None:
            raise NotFound(f"task {task_id} does not exist", field="task")
        state, title, name, assignee, *head = row
        if state != OPEN:
            raise Conflict(f"task {task_id} ({title or name}) is already {state.lower()}; "
                           "nothing was saved", field="task")
        if assignee and assignee != user:
            raise Conflict(f"task {task_id} is claimed by {assignee}", field="task")
        found["definition_id"] = head[1]
        return _Head(*head)

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict(f"task {task_id} is no longer open; nothing was saved", field="task")
        info = rt.specs.get(s, found["definition_id"]).task_info.get(task.task_spec.bpmn_id, {})
        if info.get("schema"):
            forms.validate(info["schema"], data)
        before = dict(task.data)
        task.data.update(data)
        task.run()
        return {"task": task.task_spec.bpmn_id, "title": task.task_spec.bpmn_name,
                "changes": _changes(before, task.data)}

    return transition(rt, locate, user, "task_completed", apply, completed_task=(task_id, user))


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


def resume(rt: Runtime, instance_id: int, user: str, reason: str = "") -> TransitionResult:
    return transition(rt, instance_id, user, "instance_resumed", lambda wf, s: {"reason": reason} if reason else {},
                      allowed=("suspended",))


def retry(rt: Runtime, instance_id: int, user: str, data: Any = None, reason: str = "") -> TransitionResult:
    """Re-run an instance in error; ``data`` corrects the case data of the tasks about to run."""
    patch = _require_object(data) if data is not None else {}

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        s.execute(update(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
                  .values(resolved_at=clock.now()))
        if patch:
            for task in wf.get_tasks(state=TaskState.READY):
                task.data.update(patch)
        return {k: v for k, v in (("data", patch), ("reason", reason)) if v}

    return transition(rt, instance_id, user, "instance_retried", apply, allowed=("error",), writes=True)


def send_message(rt: Runtime, instance_id: int, name: str, payload: Any, user: str) -> TransitionResult:
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    payload = _require_object(payload, "payload")

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        waiting = [t for t in wf.get_tasks(state=TaskState.WAITING)
                   if getattr(getattr(t.task_spec, "event_definition", None), "name", None) == name]
        if not waiting:
            raise InvalidState(f"instance {instance_id} is not waiting for the message {name!r}", field="message")
        wf.catch(BpmnEvent(MessageEventDefinition(name), payload))
        return {"message": name, "payload": payload}

    return transition(rt, instance_id, user, "message_received", apply)
