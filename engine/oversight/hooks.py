"""The read models a transition keeps in its own transaction: a case's message waits, and the
completed-task histogram per version and element (``step_stats``) the heatmap reads.

Stalled detection must know since when a case waits for a message without deserializing every
workflow, so ``_persist`` calls :func:`sync_message_waits` next to the task and timer rows. It only
runs for versions with a message catch event, and it writes only when the waits changed. A wait
is one waiting task: a receive task reached again (a second report) is a new wait, since then.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.store.models import MessageWait, StepStat, Task

# Upper edges (hours) of the duration buckets; the last bucket holds everything longer.
BUCKET_HOURS = (0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 240, 360, 720, 1440, 2160, 4320)

_specs: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def _catches_messages(loaded: Any) -> bool:
    found = _specs.get(loaded.spec)
    if found is None:
        found = any(isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
                    and not any(word in type(ts).__name__ for word in ("Throw", "Send", "End", "Start"))
                    for spec in [loaded.spec, *loaded.subprocess_specs.values()]
                    for ts in spec.task_specs.values())
        _specs[loaded.spec] = found
    return found


def waiting_messages(wf: BpmnWorkflow) -> dict[str, tuple[str, str]]:
    """Task id -> (element id, message name), for each message catch event waiting in the workflow."""
    waits: dict[str, tuple[str, str]] = {}
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition):
            waits[str(task.id)] = (task.task_spec.bpmn_id or task.task_spec.name, definition.name)
    return waits


def sync_message_waits(s: Session, instance_id: int, wf: BpmnWorkflow, loaded: Any, now: datetime,
                       ended: bool, new: bool) -> None:
    """Make ``message_waits`` match the workflow: new waits start now, gone ones are deleted."""
    if not _catches_messages(loaded):
        return
    waits = {} if ended else waiting_messages(wf)
    table = MessageWait.__table__
    known = {} if new else dict(s.execute(select(table.c.task_id, table.c.id)
                                          .where(table.c.instance_id == instance_id)).all())
    gone = [row_id for task_id, row_id in known.items() if task_id not in waits]
    if gone:
        s.execute(delete(table).where(table.c.id.in_(gone)))
    fresh = [{"instance_id": instance_id, "task_id": task_id, "element": e, "message": m, "since": now}
             for task_id, (e, m) in waits.items() if task_id not in known]
    if fresh:
        s.execute(table.insert(), fresh)


def bucket_of(hours: float) -> int:
    for i, edge in enumerate(BUCKET_HOURS):
        if hours <= edge:
            return i
    return len(BUCKET_HOURS)


def _statements(dialect: str) -> tuple[Any, Any, Any]:
    """The three statements a completion runs, built once per dialect: each transition only binds values
    (building and cache-keying them afresh cost more than running them, on the hot path)."""
    found = _STATEMENTS.get(dialect)
    if found is None:
        from engine.store.models import CONSOLE_INDEX, Instance

        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        task = (select(Task.name, Task.created_at, Task.due_at, Task.state, Task.deadline, Task.instance_id)
                .where(Task.id == bindparam("task_id")))
        institution = (select(Instance.institution).where(Instance.id == bindparam("instance_id"))
                       .with_hint(Instance, f"INDEXED BY {CONSOLE_INDEX}", "sqlite"))
        table = StepStat.__table__
        add = insert(table).values({c: bindparam(c) for c in _STAT_COLUMNS})
        upsert = add.on_conflict_do_update(
            index_elements=["definition_id", "institution", "element", "bucket"],
            set_={"completed": table.c.completed + 1, "with_term": table.c.with_term + add.excluded.with_term,
                  "within_term": table.c.within_term + add.excluded.within_term})
        found = _STATEMENTS[dialect] = (task, institution, upsert)
    return found


_STAT_COLUMNS = ("definition_id", "institution", "element", "bucket", "term_unit", "term_count", "completed",
                 "with_term", "within_term")
_STATEMENTS: dict[str, tuple[Any, Any, Any]] = {}


def record_completion(s: Session, definition_id: int, task_id: str, now: datetime) -> None:
    """Count a just-completed task in its version's ``step_stats`` (two primary-key reads, one upsert)."""
    if s.new or s.dirty or s.deleted:
        s.flush()  # the reads below go straight to the connection: let them see the ORM's pending rows
    conn = s.connection()
    task, institution_of, _ = _statements(conn.dialect.name)
    row = conn.execute(task, {"task_id": task_id}).first()
    if row is None or row.state != "COMPLETED":
        return
    institution = conn.execute(institution_of, {"instance_id": row.instance_id}).scalar()
    add_completion(s, definition_id, institution or "", row.name, (now - row.created_at).total_seconds() / 3600,
                   row.due_at, now, row.deadline)


def add_completion(s: Session, definition_id: int, institution: str, element: str, hours: float,
                   due: datetime | None, done: datetime, deadline: dict[str, Any] | None) -> None:
    conn = s.connection()
    with_term, within = int(due is not None), int(due is not None and done <= due)
    conn.execute(_statements(conn.dialect.name)[2], {
        "definition_id": definition_id, "institution": institution, "element": element,
        "bucket": bucket_of(hours), "term_unit": (deadline or {}).get("unit"),
        "term_count": (deadline or {}).get("count"), "completed": 1, "with_term": with_term,
        "within_term": within})


def rebuild_step_stats(bind: Any) -> int:
    """Recount ``step_stats`` from the finished tasks (migration 0012, and data loaded in bulk)."""
    import json

    from sqlalchemy import text

    from engine.store.models import UTCDateTime

    convert = UTCDateTime(timezone=True).process_result_value

    def instant(value: Any) -> datetime:
        value = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text
        return convert(value, bind.dialect)  # type: ignore[return-value]

    counts: dict[tuple[int, str, str, int], list[Any]] = {}
    rows = bind.execute(text(
        "SELECT i.definition_id, i.institution, t.name, t.created_at, t.completed_at, t.due_at, t.deadline "
        "FROM tasks t JOIN instances i ON i.id = t.instance_id "
        "WHERE t.state = 'COMPLETED' AND t.completed_at IS NOT NULL"))
    for definition_id, institution, name, created, done, due, deadline in rows:
        created, done = instant(created), instant(done)
        due = instant(due) if due is not None else None
        key = (definition_id, institution or "", name, bucket_of((done - created).total_seconds() / 3600))
        c = counts.get(key)
        if c is None:
            deadline = (json.loads(deadline) if isinstance(deadline, str) else deadline) or {}
            c = counts[key] = [0, 0, 0, deadline.get("unit"), deadline.get("count")]
        c[0] += 1
        c[1] += due is not None
        c[2] += due is not None and done <= due
    bind.execute(text("DELETE FROM step_stats"))
    if counts:
        bind.execute(text("INSERT INTO step_stats (definition_id, institution, element, bucket, term_unit, term_count, "
                          "completed, with_term, within_term) VALUES (:d, :n, :e, :b, :u, :k, :c, :w, :i)"),
                     [{"d": d, "n": n, "e": e, "b": b, "u": u, "k": k, "c": c, "w": w, "i": i}
                      for (d, n, e, b), (c, w, i, u, k) in counts.items()])
    return len(counts)
