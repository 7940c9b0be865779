"""Instance transitions: start, complete a task, fire timers, cancel, suspend, resume, retry.

Every transition loads one instance, applies one change to its workflow, steps the
engine, and writes the new state, the task rows, the timer rows and one audit event
in a single database transaction guarded by the instance's revision. If a script or
expression fails, the in-memory workflow is thrown away: the instance is reloaded
from the database and put in ``error`` with an incident, and nothing is half-applied.

The hot path is written for throughput: bookkeeping goes through prebuilt Core
statements (no ORM unit of work), and the workflow a transition leaves behind is
kept in memory keyed by (instance id, revision), so the next transition on the same
instance skips deserializing it. The row is still read every time and the revision
compared, and the ``UPDATE ... WHERE revision = ?`` still guards the write, so
another process's change simply makes the cached copy miss.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import Dialect, Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import bpmn, clock, deployments, forms, timers
from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState, NotFound, TramitaError
from engine.expressions import DeadlineLog
from engine.runtime import Runtime
from engine.store.models import Definition, Event, Incident, Instance, Task

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


# --- statements -----------------------------------------------------------------------------------
# The few statements every transition runs. Through SQLAlchemy Core they are built once and reuse
# their compiled form; on SQLite they go straight to the DB-API connection, where SQLAlchemy's
# per-statement overhead is several times SQLite's own cost for these one-row statements.

_I, _T, _E = Instance.__table__, Task.__table__, Event.__table__

_SELECT_HEAD = select(_I.c.id, _I.c.definition_id, _I.c.process_key, _I.c.status, _I.c.revision).where(
    _I.c.id == bindparam("b_id"))
_SELECT_STATE = select(_I.c.state).where(_I.c.id == bindparam("b_id"))
_INSERT_INSTANCE = insert(_I)
_UPDATE_INSTANCE = update(_I).where(_I.c.id == bindparam("b_id"), _I.c.revision == bindparam("b_revision"))
_SELECT_OPEN_TASKS = select(_T.c.id).where(_T.c.instance_id == bindparam("b_instance"), _T.c.state == OPEN)
_SELECT_TASK = (select(_T.c.state, _T.c.title, _T.c.name, _T.c.assignee, _I.c.id, _I.c.definition_id,
                       _I.c.process_key, _I.c.status, _I.c.revision)
                .join(_I, _I.c.id == _T.c.instance_id).where(_T.c.id == bindparam("b_id")))
_COMPLETE_TASK = update(_T).where(_T.c.id == bindparam("b_id")).values(
    state="COMPLETED", completed_at=bindparam("b_at"), completed_by=bindparam("b_by"))
_CANCEL_TASK = update(_T).where(_T.c.id == bindparam("b_id")).values(state="CANCELLED", completed_at=bindparam("b_at"))
_INSERT_TASK = insert(_T)
_INSERT_EVENT = insert(_E)
_LATEST_DEFINITION = (select(Definition.id).where(Definition.kind == "process", Definition.key == bindparam("b_key"))
                      .order_by(Definition.version.desc()).limit(1))


class _Statements:
    """The hot statements of a transition, through SQLAlchemy Core (any database)."""

    def __init__(self, s: Session) -> None:
        self.conn = s.connection()

    def head(self, instance_id: int) -> tuple[Any, ...] | None:
        """(id, definition_id, process_key, status, revision)"""
        return self.conn.execute(_SELECT_HEAD, {"b_id": instance_id}).first()

    def task(self, task_id: str) -> tuple[Any, ...] | None:
        """(state, title, name, assignee) of the task, then the head of its instance."""
        return self.conn.execute(_SELECT_TASK, {"b_id": task_id}).first()

    def state(self, instance_id: int) -> str:
        return self.conn.execute(_SELECT_STATE, {"b_id": instance_id}).scalar_one()

    def latest_definition(self, key: str) -> int | None:
        return self.conn.execute(_LATEST_DEFINITION, {"b_key": key}).scalar()

    def insert_instance(self, values: dict[str, Any]) -> int:
        return int(self.conn.execute(_INSERT_INSTANCE, values).inserted_primary_key[0])

    def update_instance(self, instance_id: int, revision: int, values: dict[str, Any]) -> bool:
        params = {"b_id": instance_id, "b_revision": revision, **values}
        return self.conn.execute(_UPDATE_INSTANCE, params).rowcount == 1

    def open_tasks(self, instance_id: int) -> list[str]:
        return list(self.conn.execute(_SELECT_OPEN_TASKS, {"b_instance": instance_id}).scalars())

    def complete_task(self, task_id: str, at: datetime, by: str) -> None:
        self.conn.execute(_COMPLETE_TASK, {"b_id": task_id, "b_at": at, "b_by": by})

    def cancel_tasks(self, task_ids: list[str], at: datetime) -> None:
        self.conn.execute(_CANCEL_TASK, [{"b_id": task_id, "b_at": at} for task_id in task_ids])

    def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
        self.conn.execute(_INSERT_TASK, rows)

    def insert_event(self, row: dict[str, Any]) -> None:
        self.conn.execute(_INSERT_EVENT, {**row, "detail": _jsonable(row["detail"])})


class _RawInsert:
    """An INSERT of every column of a table for a DB-API connection, with SQLAlchemy's own bind
    processors and scalar defaults, so rows read back exactly as if SQLAlchemy had written them."""

    def __init__(self, table: Table, dialect: Dialect, *, omit: tuple[str, ...] = ()) -> None:
        quote = dialect.identifier_preparer.quote
        columns = [c for c in table.c if c.name not in omit]
        self.sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})")
        self.columns = [(c.name, c.type.dialect_impl(dialect).bind_processor(dialect),
                         c.default.arg if c.default is not None and c.default.is_scalar else None) for c in columns]

    def params(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, process, default in self.columns:
            value = row.get(name, default)
            if value.__class__ is _RawJSON:
                values.append(str(value))
            else:
                values.append(process(value) if process else value)
        return tuple(values)


class _RawJSON(str):
    """JSON text already serialized: written as it is."""


class _SqliteSQL:
    """The statements of :class:`_Statements` as SQLite text, prepared once per dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.instance = _RawInsert(_I, dialect, omit=("id",))
        self.task = _RawInsert(_T, dialect)
        self.event = _RawInsert(_E, dialect, omit=("id",))
        self.when = _T.c.completed_at.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)


class _SqliteStatements(_Statements):
    """:class:`_Statements` on SQLite's DB-API connection, inside the same transaction."""

    def __init__(self, s: Session, sql: _SqliteSQL) -> None:
        self.raw = s.connection().connection.driver_connection
        self.sql = sql

    def _exec(self, statement: str, params: tuple[Any, ...]) -> Any:
        try:
            return self.raw.execute(statement, params)
        except sqlite3.Error as exc:  # raised as SQLAlchemy would, so callers see one kind of error
            raise DBAPIError.instance(statement, params, exc, sqlite3.Error) from exc

    def _many(self, statement: str, params: list[tuple[Any, ...]]) -> Any:
        try:
            return self.raw.executemany(statement, params)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, params, exc, sqlite3.Error) from exc

    def head(self, instance_id: int) -> tuple[Any, ...] | None:
        return self._exec("SELECT id, definition_id, process_key, status, revision FROM instances "
                                "WHERE id = ?", (instance_id,)).fetchone()

    def task(self, task_id: str) -> tuple[Any, ...] | None:
        return self._exec(
            "SELECT t.state, t.title, t.name, t.assignee, i.id, i.definition_id, i.process_key, i.status, "
            "i.revision FROM tasks AS t JOIN instances AS i ON i.id = t.instance_id WHERE t.id = ?",
            (task_id,)).fetchone()

    def state(self, instance_id: int) -> str:
        row = self._exec("SELECT state FROM instances WHERE id = ?", (instance_id,)).fetchone()
        if row is None:
            raise NotFound(f"instance {instance_id} does not exist", field="instance")
        return row[0]

    def latest_definition(self, key: str) -> int | None:
        row = self._exec("SELECT id FROM definitions WHERE kind = 'process' AND \"key\" = ? "
                               "ORDER BY version DESC LIMIT 1", (key,)).fetchone()
        return None if row is None else row[0]

    def insert_instance(self, values: dict[str, Any]) -> int:
        return int(self._exec(self.sql.instance.sql, self.sql.instance.params(values)).lastrowid)

    def update_instance(self, instance_id: int, revision: int, values: dict[str, Any]) -> bool:
        when = self.sql.when
        params: tuple[Any, ...] = (values["state"], values["status"], values["revision"], when(values["updated_at"]))
        sql = "UPDATE instances SET state = ?, status = ?, revision = ?, updated_at = ?"
        if "ended_at" in values:
            sql += ", ended_at = ?"
            params += (when(values["ended_at"]),)
        return self._exec(sql + " WHERE id = ? AND revision = ?", (*params, instance_id, revision)).rowcount == 1

    def open_tasks(self, instance_id: int) -> list[str]:
        return [r[0] for r in self._exec("SELECT id FROM tasks WHERE instance_id = ? AND state = ?",
                                               (instance_id, OPEN))]

    def complete_task(self, task_id: str, at: datetime, by: str) -> None:
        self._exec("UPDATE tasks SET state = 'COMPLETED', completed_at = ?, completed_by = ? WHERE id = ?",
                         (self.sql.when(at), by, task_id))

    def cancel_tasks(self, task_ids: list[str], at: datetime) -> None:
        when = self.sql.when(at)
        self._many("UPDATE tasks SET state = 'CANCELLED', completed_at = ? WHERE id = ?",
                             [(when, task_id) for task_id in task_ids])

    def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
        self._many(self.sql.task.sql, [self.sql.task.params(row) for row in rows])

    def insert_event(self, row: dict[str, Any]) -> None:
        # The text SQLAlchemy's JSON type would write for _jsonable(detail), in one pass.
        self._exec(self.sql.event.sql, self.sql.event.params(
            {**row, "detail": _RawJSON(json.dumps(row["detail"], default=str))}))


def _statements(rt: Runtime, s: Session) -> _Statements:
    """The statements object of this session's transaction (one per session)."""
    stmts = s.info.get("tramita_statements")
    if stmts is None:
        if rt.db.is_sqlite:
            sql = rt.__dict__.get("_sqlite_sql")
            if sql is None:
                sql = rt.__dict__.setdefault("_sqlite_sql", _SqliteSQL(rt.db.engine.dialect))
            stmts = _SqliteStatements(s, sql)
        else:
            stmts = _Statements(s)
        s.info["tramita_statements"] = stmts
    return stmts


# --- the in-process workflow cache ----------------------------------------------------------------


class WorkflowCache:
    """Deserialized workflows by instance id, each valid for exactly one revision of its row.

    ``take`` removes the entry, so a workflow object is only ever used by one transition at a
    time; a transition that commits puts its workflow back under the new revision, and one that
    fails (error, conflict, anything) never does, so the entry is simply gone.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()

    def take(self, instance_id: int, revision: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None or item[0] != revision:
            return None
        return item[1]

    def put(self, instance_id: int, revision: int, wf: BpmnWorkflow) -> None:
        with self._lock:
            current = self._items.get(instance_id)
            if current is not None and current[0] > revision:
                return
            self._items[instance_id] = (revision, wf)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_cache_lock = threading.Lock()


def workflow_cache(rt: Runtime) -> WorkflowCache:
    cache = rt.__dict__.get("_workflow_cache")
    if cache is None:
        with _cache_lock:
            cache = rt.__dict__.setdefault("_workflow_cache", WorkflowCache())
    return cache


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
    """Create an instance of the newest version of ``key`` and run it to its first wait: one transaction."""
    data = _require_object(data)
    parameters = rt.parameters
    with DeadlineLog() as deadlines, rt.db.write() as s:
        definition_id = _statements(rt, s).latest_definition(key)
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

        now = clock.now()
        wf = fresh()
        failure = _step(wf)
        if failure is not None:
            wf = fresh()
        thrown = _thrown_messages(wf)
        row = dict(definition_id=loaded.definition_id, process_key=key, reference=reference, title=title,
                   started_at=now, started_by=user, institution=institution)
        detail = {"process": key, "version": loaded.version, "data": data}
        result = _persist(rt, s, None, wf, loaded, user, "instance_started", detail, deadlines,
                          failure=failure, new_row=row)
    if failure is not None:
        raise _failure_error(result.instance_id, failure)
    workflow_cache(rt).put(result.instance_id, result.revision, wf)
    if thrown:
        _route_messages(rt, result.instance_id, thrown)
    return result


def _start_form(task_info: dict[str, Any]) -> dict[str, Any] | None:
    for info in task_info.values():
        if info.get("type") == "StartEvent" and info.get("schema"):
            return info["schema"]
    return None


# --- the generic transition -----------------------------------------------------------------------


class _Discard(Exception):
    """Raised inside the first transaction when the engine failed: roll back everything it did."""


Locate = Callable[[Session], "_Head"]


def transition(rt: Runtime, instance_id: int | Locate, actor: str, kind: str, apply: Apply, *,
               allowed: tuple[str, ...] = ("running",), status: str | None = None,
               completed_task: tuple[str, str] | None = None, expected_revision: int | None = None,
               step: bool = True) -> TransitionResult:
    """Load one instance, apply a change, step the engine and persist, all in one transaction.

    ``instance_id`` may be a function that finds the instance's row inside the transaction (and
    may refuse, raising), so a caller's checks and the change share one transaction.
    """
    cache = workflow_cache(rt)
    with DeadlineLog() as deadlines:
        failure: BaseException | None = None
        try:
            with rt.db.write() as s:
                head = instance_id(s) if callable(instance_id) else _head(rt, s, instance_id)
                iid = head.id
                if head.status not in allowed:
                    raise InvalidState(f"instance {iid} is {head.status}; {kind} needs it {' or '.join(allowed)}",
                                       field="instance")
                if expected_revision is not None and head.revision != expected_revision:
                    raise Conflict(f"instance {iid} changed since you loaded it; reload and try again",
                                   field="instance")
                loaded = rt.specs.get(s, head.definition_id)
                wf = cache.take(iid, head.revision)
                if wf is None:
                    wf = _restore(rt, s, iid, loaded)
                detail = apply(wf, s)
                if step:
                    failure = _step(wf)
                if failure is not None:
                    raise _Discard()
                thrown = _thrown_messages(wf)
                result = _persist(rt, s, head, wf, loaded, actor, kind, detail, deadlines, status=status,
                                  completed_task=completed_task)
            cache.put(iid, result.revision, wf)  # only once committed
            if thrown:
                _route_messages(rt, iid, thrown)
            return result
        except _Discard:
            pass
        # The failed workflow is discarded; reload, re-apply the change alone and record the incident.
        with rt.db.write() as s:
            head = _head(rt, s, iid)
            loaded = rt.specs.get(s, head.definition_id)
            wf = _restore(rt, s, iid, loaded)
            try:
                detail = apply(wf, s)
            except Exception:  # the change itself fails: keep the stored state as it is
                wf = _restore(rt, s, iid, loaded)
                completed_task = None
            _persist(rt, s, head, wf, loaded, actor, kind, detail, deadlines, failure=failure,
                     completed_task=completed_task)
    raise _failure_error(iid, failure)


def _thrown_messages(wf: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Messages the case threw that none of its own tasks caught (signals stay inside the case)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

    return [(e.event_definition.name, e.payload) for e in wf.get_events()
            if isinstance(e.event_definition, MessageEventDefinition)]


def _route_messages(rt: Runtime, source_id: int, thrown: list[tuple[str, Any]]) -> None:
    """Start the case each routed message asks for (``workflows/messages.toml``), after the sender committed.

    The sender's transition stands either way; a message that cannot start its case is
    recorded on the sender's audit trail for a person to act on.
    """
    for name, payload in thrown:
        route = rt.message_routes.get(name)
        if route is None:
            continue
        with rt.db.read() as s:
            institution = s.execute(select(Instance.institution).where(Instance.id == source_id)).scalar()
        try:
            started = start(rt, route, payload if isinstance(payload, dict) else {}, SYSTEM,
                            institution=institution, title=f"Iniciado por el caso {source_id} ({name})")
            kind, detail = "case_started", {"message": name, "process": route, "instance": started.instance_id}
        except TramitaError as exc:
            kind, detail = "message_not_delivered", {"message": name, "process": route, "error": exc.message}
        with rt.db.write() as s:
            s.add(Event(instance_id=source_id, task_id=None, at=clock.now(), actor=SYSTEM, kind=kind,
                        detail=_jsonable(detail)))


def _step(wf: BpmnWorkflow) -> BaseException | None:
    try:
        wf.refresh_timers()
        wf.do_engine_steps()
    except Exception as exc:  # noqa: BLE001 - any failure of diagram code becomes an incident
        return exc
    return None


def _head(rt: Runtime, s: Session, instance_id: int) -> _Head:
    row = _statements(rt, s).head(instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist", field="instance")
    return _Head(*row)


def _restore(rt: Runtime, s: Session, instance_id: int, loaded: deployments.LoadedSpec) -> BpmnWorkflow:
    state = _statements(rt, s).state(instance_id)
    wf = bpmn.load_state(state, loaded.spec, loaded.subprocess_specs)
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
             completed_task: tuple[str, str] | None = None, new_row: dict[str, Any] | None = None
             ) -> TransitionResult:
    """Write the state (guarded by the revision), the task rows, the timer rows and the event.

    With ``new_row`` the instance is inserted (``start``) instead of updated.
    """
    s.flush()  # whatever the change wrote through the ORM goes before the statements below
    sql = _statements(rt, s)
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
    state = bpmn.dump_state(wf)
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
            raise Conflict(f"instance {head.id} was changed by someone else at the same time; reload and try again",
                           field="instance")
        head.status, head.revision = new_status, head.revision + 1

    created, open_tasks = _sync_tasks(rt, sql, head, wf, loaded, now, completed_task, ended,
                                      new=new_row is not None)
    if _has_timers(loaded):
        timers.sync(s, head.id, wf, deadlines, cancel_all=ended)
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


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


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
            sql.complete_task(task_id, now, completed_task[1])
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
        rows.append(dict(id=task_id, instance_id=head.id, process_key=head.process_key, name=spec.bpmn_id,
                         title=spec.bpmn_name, lane=spec.lane, state=OPEN, assignee=None,
                         candidate_group=rt.group_for_lane(spec.lane), created_at=now, due_at=due, deadline=deadline,
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
        row = _statements(rt, s).task(task_id)
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
