"""The read model a transition keeps in its own transaction: the message waits of a case.

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

from engine.store.models import MessageWait

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
