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

from sqlalchemy import delete, select
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


def _upsert(s: Session) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def record_completion(s: Session, definition_id: int, task_id: str, now: datetime) -> None:
    """Count a just-completed task in its version's ``step_stats`` (two primary-key reads, one upsert)."""
    from engine.store.models import CONSOLE_INDEX, Instance

    row = s.execute(select(Task.name, Task.created_at, Task.due_at, Task.state, Task.deadline, Task.instance_id)
                    .where(Task.id == task_id)).first()
    if row is None or row.state != "COMPLETED":
        return
    institution = s.execute(select(Instance.institution).where(Instance.id == row.instance_id)
                            .with_hint(Instance, f"INDEXED BY {CONSOLE_INDEX}", "sqlite")).scalar()
    add_completion(s, definition_id, institution or "", row.name, (now - row.created_at).total_seconds() / 3600,
                   row.due_at, now, row.deadline)


def add_completion(s: Session, definition_id: int, institution: str, element: str, hours: float,
                   due: datetime | None, done: datetime, deadline: dict[str, Any] | None) -> None:
    table = StepStat.__table__
    with_term, within = int(due is not None), int(due is not None and done <= due)
    unit, count = (deadline or {}).get("unit"), (deadline or {}).get("count")
    stmt = _upsert(s)(table).values(definition_id=definition_id, institution=institution, element=element,
                                    bucket=bucket_of(hours), term_unit=unit, term_count=count, completed=1,
                                    with_term=with_term, within_term=within)
    s.execute(stmt.on_conflict_do_update(index_elements=["definition_id", "institution", "element", "bucket"], set_={
        "completed": table.c.completed + 1, "with_term": table.c.with_term + with_term,
        "within_term": table.c.within_term + within}))


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
