"""Instance transitions: start, complete a task, send a message (cancel, suspend, resume and retry are in
``engine.run.recovery``).

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

from dataclasses import dataclass
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.casework import register
from engine.time import clock
from engine.deploy import versions as deployments
from engine.run import forms
from engine.errors import Conflict, InvalidInput, InvalidState, NotFound, TramitaError
from engine.script import budget, sandbox
from engine.script.helpers import DeadlineLog
from engine.run.runtime import Runtime
from engine.run.persist import (
    OPEN,
    TransitionResult,
    _failure_error,
    _Head,
    _head,
    _Moved,
    _persist,
    _restore,
)
from engine.run.stepping import _due_dates, _due_dates_or_none, _step, _thrown_messages
from engine.store.models import Event, Instance
from engine.store.states import EventKind, InstanceStatus
from engine.store.statements import jsonable, statements

SYSTEM = "system"

Apply = Callable[[BpmnWorkflow, Session], dict[str, Any]]


def _require_object(data: Any, field: str = "data") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{field} must be a JSON object", field=field)
    forms.require_json_numbers(data)
    return data


# --- start ----------------------------------------------------------------------------------------


def start(rt: Runtime, key: str, data: Any, user: str, *, reference: str | None = None,
          title: str | None = None, institution: str | None = None) -> TransitionResult:
    """Create an instance of the newest version of ``key`` and run it to its first wait: one transaction.

    The case is run and serialized before the write transaction opens, so on SQLite the
    single writer's lock is held only while the rows are written.
    """
    data = _require_object(data)
    with DeadlineLog(rt.calendar, rt.periods) as deadlines:
        with rt.db.read() as s:
            started = _run_start(rt, s, key, data, user, reference=reference, title=title, institution=institution)
        with rt.db.write() as s:
            result = _write_start(rt, s, started, deadlines)
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
    state: str
    dues: dict[str, tuple[Any, Any]]
    routes: list["_Route"]  # the cases its thrown messages start, run before the write transaction


@dataclass
class _Route:
    """A message a case threw, and the case it starts (run, not yet written) or why that case refused."""

    message: str
    process: str
    started: _Started | None
    error: str | None


def _run_start(rt: Runtime, s: Session, key: str, data: dict[str, Any], user: str, *, reference: str | None,
               title: str | None, institution: str | None, depth: int = 0) -> _Started:
    """Create and run a case in memory (bad input raises here, before anything is written).

    Everything diagram code computes (the steps, the due dates of its first tasks, the cases
    its messages start) is computed here, before the write transaction opens.
    """
    definition_id = statements(s, rt.db).latest_definition(key)
    if definition_id is None:
        deployments.latest_process(s, key)  # raises NotFound naming what is deployed
    loaded = rt.specs.get(s, definition_id)
    parameters, periods_version = rt.case_parameters(loaded.parts)  # the version's, and the UMA in force
    if depth == 0:
        register.begin()  # what this case's scripts inscribe in the register of orders, written with it
    start_form = _start_form(loaded.task_info)
    if start_form is not None:
        forms.validate(start_form, data, forms.context({}, parameters))

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
    dues: dict[str, tuple[Any, Any]] = {}
    if failure is None:
        try:
            dues = _due_dates(rt, wf, loaded, set())
        except Exception as exc:  # noqa: BLE001 - a failing due-date expression is diagram code failing
            failure = exc
    if failure is not None:
        wf = fresh()
    row = dict(definition_id=loaded.definition_id, process_key=key, reference=reference, title=title,
               started_at=clock.now(), started_by=user, institution=institution)
    routes = _prepare_routes(rt, s, _thrown_messages(wf), institution, depth, loaded.parts.message_routes)
    try:
        state = _dump(wf)
    except Exception as exc:  # noqa: BLE001 - data a script left that JSON cannot hold
        failure, wf, dues, routes = exc, fresh(), {}, []
        state = serializer.dump_state(wf)
    detail = {"process": key, "version": loaded.version, "data": data}
    if periods_version is not None:
        detail["periodos_version"] = periods_version
    return _Started(loaded, wf, failure, row, detail, user, state, dues, routes)


def _write_start(rt: Runtime, s: Session, started: _Started, deadlines: dict[str, dict[str, Any]]) -> TransitionResult:
    result = _persist(rt, s, None, started.wf, started.loaded, started.user, EventKind.INSTANCE_STARTED, started.detail,
                      deadlines, failure=started.failure, new_row=started.row, state=started.state,
                      dues=started.dues)
    _write_routes(rt, s, result.instance_id, started.routes, deadlines)
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


Locate = Callable[[Session], "_Head"]
OnWrite = Callable[[Session, BpmnWorkflow], dict[str, Any]]
_ATTEMPTS = 5


def transition(rt: Runtime, instance_id: int | Locate, actor: str, kind: str, apply: Apply, *,
               allowed: tuple[InstanceStatus, ...] = (InstanceStatus.RUNNING,),
               status: InstanceStatus | None = None,
               completed_task: tuple[str, str] | None = None, expected_revision: int | None = None,
               step: bool = True, writes: bool = False, on_write: OnWrite | None = None) -> TransitionResult:
    """Load one instance, apply a change, step the engine and write the result in one transaction.

    ``instance_id`` may be a function that finds the instance's row (and may refuse,
    raising), so a caller's checks see the same instance the change is applied to.

    The change is applied, the engine stepped and the state serialized before the write
    transaction opens (SQLite has one writer: it waits only for the rows to be written);
    the write is guarded by the revision read, and if another transition got there first
    the whole thing runs again on the new state, re-checking everything (up to
    ``_ATTEMPTS`` times; with ``expected_revision`` a moved revision is a conflict at once).
    What a change writes besides the state (a timer row marked fired, incidents resolved) goes
    in ``on_write``, called inside the write transaction after all diagram code has run, so it
    commits with the state or not at all; it may raise to abandon the transition.
    An ``apply`` that writes through its session (``writes=True``) runs inside the write
    transaction instead; it must not step the engine: no diagram code runs while the
    database's write lock is held.
    """
    if writes and step:
        raise ValueError("a transition that writes in its change cannot step the engine under the write lock")
    cache = rt.workflows
    with DeadlineLog(rt.calendar, rt.periods) as deadlines:
        for _attempt in range(_ATTEMPTS):
            try:
                if writes:
                    with rt.db.write() as s:
                        applied = _apply(rt, s, instance_id, kind, apply, allowed, expected_revision, step)
                        head, wf = applied.head, applied.wf
                        result = _write(rt, s, applied, actor, kind, deadlines, status, completed_task,
                                        serializer.dump_state(wf), on_write)
                else:
                    with rt.db.read() as s:
                        applied = _apply(rt, s, instance_id, kind, apply, allowed, expected_revision, step)
                        head, wf = applied.head, applied.wf
                    state = _dump(wf, head)
                    with rt.db.write() as s:
                        result = _write(rt, s, applied, actor, kind, deadlines, status, completed_task, state,
                                        on_write)
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
        # The failed workflow is discarded; reload, re-apply the change alone and record the incident
        # (the change may run diagram code too, a user task's postScript: again before the write lock).
        with rt.db.read() as s:
            head = _head(rt, s, head.id)
            loaded = rt.specs.get(s, head.definition_id)
            wf = _restore(rt, s, head.id, loaded)
            try:
                with budget.limits_scope(sandbox.limits_for(wf)), budget.transition_scope(sandbox.limits_for(wf)):
                    detail = apply(wf, s)
            except Exception:  # the change itself fails: keep the stored state as it is
                wf = _restore(rt, s, head.id, loaded)
                detail, completed_task = {}, None
            dues = _due_dates_or_none(rt, wf, loaded, set(statements(s, rt.db).open_tasks(head.id)))
        state = serializer.dump_state(wf)
        with rt.db.write() as s:
            if on_write is not None:
                detail = {**detail, **on_write(s, wf)}
            try:
                _persist(rt, s, head, wf, loaded, actor, kind, detail, deadlines, failure=failure,
                         completed_task=completed_task, state=state, dues=dues)
            except _Moved:
                raise Conflict(f"instance {head.id} was changed by someone else at the same time; reload and "
                               "try again", field="instance") from None
    raise _failure_error(head.id, failure)


@dataclass
class _Applied:
    """A change applied and the engine stepped, in memory: what the write transaction needs."""

    head: _Head
    loaded: deployments.LoadedSpec
    wf: BpmnWorkflow
    detail: dict[str, Any]
    dues: dict[str, tuple[Any, Any]]
    routes: list[_Route]


def _apply(rt: Runtime, s: Session, instance_id: int | Locate, kind: str, apply: Apply,
           allowed: tuple[str, ...], expected_revision: int | None, step: bool) -> _Applied:
    """Check the instance, take its workflow (cached, else restored), apply the change, step.

    Also evaluates the due dates of the user tasks the step opened and runs the cases its
    messages start: all the diagram code of the transition runs here.
    """
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
    register.begin()
    try:
        detail = apply(wf, s)
    except (SpiffWorkflowException, budget.BudgetExceeded) as failure:  # diagram code the change set off
        raise _Discard(head) from failure
    dues: dict[str, tuple[Any, Any]] = {}
    if step:
        failure = _step(wf)
        if failure is None:
            try:
                dues = _due_dates(rt, wf, loaded, set(statements(s, rt.db).open_tasks(iid)))
            except Exception as exc:  # noqa: BLE001 - a failing due-date expression is diagram code failing
                failure = exc
        if failure is not None:
            raise _Discard(head) from failure
    thrown = _thrown_messages(wf)  # taken out before the state is serialized
    routes = _prepare_routes(rt, s, thrown, _institution(s, iid), 0, loaded.parts.message_routes) if thrown else []
    return _Applied(head, loaded, wf, detail, dues, routes)


def _dump(wf: BpmnWorkflow, head: _Head | None = None) -> str:
    """The state as text; data that JSON cannot hold is diagram code failing, named by its element."""
    try:
        return serializer.dump_state(wf)
    except (TypeError, ValueError) as exc:
        from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

        culprit = None
        for task in wf.get_tasks():
            try:
                serializer._encode(task.data)
            except (TypeError, ValueError):
                culprit = task
                break
        failure: Exception = (WorkflowTaskException(f"the case data holds a value that is not JSON: {exc}",
                                                    task=culprit) if culprit is not None
                              else sandbox.NotJSON(f"the case data holds a value that is not JSON: {exc}"))
        if head is None:
            raise failure from None
        raise _Discard(head) from failure


def _institution(s: Session, instance_id: int) -> str | None:
    return s.execute(select(Instance.institution).where(Instance.id == instance_id)).scalar()


def _write(rt: Runtime, s: Session, applied: _Applied, actor: str, kind: str, deadlines: dict[str, dict[str, Any]],
           status: str | None, completed_task: tuple[str, str] | None, state: str,
           on_write: OnWrite | None = None) -> TransitionResult:
    detail = applied.detail
    if on_write is not None:
        detail = {**detail, **on_write(s, applied.wf)}
    result = _persist(rt, s, applied.head, applied.wf, applied.loaded, actor, kind, detail, deadlines, status=status,
                      completed_task=completed_task, state=state, dues=applied.dues)
    _write_routes(rt, s, applied.head.id, applied.routes, deadlines)
    return result


_ROUTE_DEPTH = 5


def _prepare_routes(rt: Runtime, s: Session, thrown: list[tuple[str, Any]], institution: str | None,
                    depth: int, message_routes: dict[str, str]) -> list[_Route]:
    """Run the case each routed message asks for (the ``messages`` part of the sender's version), before
    the write lock.

    They are written in the sender's transaction (:func:`_write_routes`), so both commit together
    or not at all, and a crash never loses the case a violation asked for. A message whose case
    refuses to start (bad data) is recorded on the sender's audit trail for a person to act on.
    """
    routes = []
    for name, payload in thrown:
        route = message_routes.get(name)
        if route is None:
            continue
        if depth >= _ROUTE_DEPTH:
            routes.append(_Route(name, route, None, f"more than {_ROUTE_DEPTH} cases started by messages in a chain"))
            continue
        try:
            run = _run_start(rt, s, route, payload if isinstance(payload, dict) else {}, SYSTEM, reference=None,
                             institution=institution, title=f"Iniciado por un caso ({name})", depth=depth + 1)
            routes.append(_Route(name, route, run, None))
        except TramitaError as exc:
            routes.append(_Route(name, route, None, exc.message))
    return routes


def _write_routes(rt: Runtime, s: Session, source_id: int, routes: list[_Route],
                  deadlines: dict[str, dict[str, Any]]) -> None:
    for route in routes:
        if route.started is not None:
            route.started.row["title"] = f"Iniciado por el caso {source_id} ({route.message})"
            started = _write_start(rt, s, route.started, deadlines)
            kind, detail = EventKind.CASE_STARTED, {"message": route.message, "process": route.process,
                                            "instance": started.instance_id}
        else:
            kind, detail = EventKind.MESSAGE_NOT_DELIVERED, {"message": route.message, "process": route.process,
                                                     "error": route.error}
        s.add(Event(instance_id=source_id, task_id=None, at=clock.now(), actor=SYSTEM, kind=kind,
                    detail=jsonable(detail)))


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
            forms.validate(info["schema"], data, forms.context(task.data, wf.data.get("parametros") or {}))
        before = dict(task.data)
        task.data.update(data)
        task.run()
        return {"task": task.task_spec.bpmn_id, "title": task.task_spec.bpmn_name,
                "changes": _changes(before, task.data)}

    return transition(rt, locate, user, EventKind.TASK_COMPLETED, apply, completed_task=(task_id, user))


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if k not in before or before[k] != v}


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

    return transition(rt, instance_id, user, EventKind.MESSAGE_RECEIVED, apply)
