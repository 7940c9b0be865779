"""The few statements every transition runs, prepared once.

Through SQLAlchemy Core they are built once and reuse their compiled form; on
SQLite they go straight to the DB-API connection, where SQLAlchemy's per-statement
overhead is several times SQLite's own cost for these one-row statements. Values
still pass through SQLAlchemy's own bind processors, so rows read back exactly as
if the ORM had written them.
"""

from __future__ import annotations

import json
import sqlite3
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Table, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.store.db import Database
from engine.store.drafts import VersionNote
from engine.store.models import Definition, Event, Instance, Task
from engine.store.states import TaskState, event_kind
from engine.time import clock

OPEN = TaskState.READY


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


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
_COMPLETE_TASK = update(_T).where(
    _T.c.id == bindparam("b_id"), _T.c.state == OPEN,
    (_T.c.assignee.is_(None) | (_T.c.assignee == bindparam("b_by")))).values(
    state=TaskState.COMPLETED, completed_at=bindparam("b_at"), completed_by=bindparam("b_by"))
_CANCEL_TASK = update(_T).where(_T.c.id == bindparam("b_id")).values(state=TaskState.CANCELLED,
                                                                      completed_at=bindparam("b_at"))
_INSERT_TASK = insert(_T)
_INSERT_EVENT = insert(_E)
# The version in force: the newest whose change note sets no entry into force, or one already reached.
_LATEST_DEFINITION = (select(Definition.id)
                      .outerjoin(VersionNote, VersionNote.deployment_id == Definition.deployment_id)
                      .where(Definition.kind == "process", Definition.key == bindparam("b_key"),
                             or_(VersionNote.effective_from.is_(None), VersionNote.effective_from <= bindparam("b_now")))
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
        return self.conn.execute(_LATEST_DEFINITION, {"b_key": key, "b_now": clock.now()}).scalar()

    def insert_instance(self, values: dict[str, Any]) -> int:
        return int(self.conn.execute(_INSERT_INSTANCE, values).inserted_primary_key[0])

    def update_instance(self, instance_id: int, revision: int, values: dict[str, Any]) -> bool:
        params = {"b_id": instance_id, "b_revision": revision, **values}
        return self.conn.execute(_UPDATE_INSTANCE, params).rowcount == 1

    def open_tasks(self, instance_id: int) -> list[str]:
        return list(self.conn.execute(_SELECT_OPEN_TASKS, {"b_instance": instance_id}).scalars())

    def complete_task(self, task_id: str, at: datetime, by: str) -> bool:
        """Close an open task row unless someone else claimed it; whether it did."""
        return self.conn.execute(_COMPLETE_TASK, {"b_id": task_id, "b_at": at, "b_by": by}).rowcount == 1

    def cancel_tasks(self, task_ids: list[str], at: datetime) -> None:
        self.conn.execute(_CANCEL_TASK, [{"b_id": task_id, "b_at": at} for task_id in task_ids])

    def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
        self.conn.execute(_INSERT_TASK, rows)

    def insert_event(self, row: dict[str, Any]) -> None:
        event_kind(row["kind"])  # a kind with no label never reaches the audit trail
        self.conn.execute(_INSERT_EVENT, {**row, "detail": jsonable(row["detail"])})


class _RawInsert:
    """An INSERT of every column of a table for a DB-API connection, with SQLAlchemy's own bind
    processors and scalar defaults, so rows read back exactly as if SQLAlchemy had written them."""

    def __init__(self, table: Table, dialect: Dialect, *, omit: tuple[str, ...] = ()) -> None:
        quote = dialect.identifier_preparer.quote
        columns = [c for c in table.c if c.name not in omit]
        for c in columns:  # SQLAlchemy would call a callable default; this path would write NULL instead
            if c.default is not None and not c.default.is_scalar:
                raise TypeError(f"{table.name}.{c.name} has a Python default that is not a constant; give it a "
                                "server default or pass its value")
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


_SQLITE_COMPLETE = (f"UPDATE tasks SET state = '{TaskState.COMPLETED}', completed_at = ?, completed_by = ? "
                    f"WHERE id = ? AND state = '{OPEN}' AND (assignee IS NULL OR assignee = ?)")
_SQLITE_CANCEL = f"UPDATE tasks SET state = '{TaskState.CANCELLED}', completed_at = ? WHERE id = ?"


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
        row = self._exec("SELECT d.id FROM definitions AS d LEFT JOIN version_notes AS n "
                         "ON n.deployment_id = d.deployment_id WHERE d.kind = 'process' AND d.\"key\" = ? "
                         "AND (n.effective_from IS NULL OR n.effective_from <= ?) ORDER BY d.version DESC LIMIT 1",
                         (key, self.sql.when(clock.now()))).fetchone()
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

    def complete_task(self, task_id: str, at: datetime, by: str) -> bool:
        return self._exec(_SQLITE_COMPLETE, (self.sql.when(at), by, task_id, by)).rowcount == 1

    def cancel_tasks(self, task_ids: list[str], at: datetime) -> None:
        when = self.sql.when(at)
        self._many(_SQLITE_CANCEL, [(when, task_id) for task_id in task_ids])

    def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
        self._many(self.sql.task.sql, [self.sql.task.params(row) for row in rows])

    def insert_event(self, row: dict[str, Any]) -> None:
        event_kind(row["kind"])
        # The text SQLAlchemy's JSON type would write for _jsonable(detail), in one pass.
        self._exec(self.sql.event.sql, self.sql.event.params(
            {**row, "detail": _RawJSON(json.dumps(row["detail"], default=str))}))


_SQLITE: "weakref.WeakKeyDictionary[Dialect, _SqliteSQL]" = weakref.WeakKeyDictionary()


def statements(s: Session, db: Database) -> _Statements:
    """The statements object of this session's transaction (one per session)."""
    stmts = s.info.get("tramita_statements")
    if stmts is None:
        if db.is_sqlite:
            sql = _SQLITE.get(db.engine.dialect)
            if sql is None:
                sql = _SQLITE.setdefault(db.engine.dialect, _SqliteSQL(db.engine.dialect))
            stmts = _SqliteStatements(s, sql)
        else:
            stmts = _Statements(s)
        s.info["tramita_statements"] = stmts
    return stmts
