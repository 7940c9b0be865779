"""What services return: frozen views of cases, tasks, timers and events, never ORM or Spiff objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.run import form_limits
from engine.store.models import Instance, Task
from engine.store.states import EventKind, InstanceStatus, TaskState, TimerStatus


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: int
    process_key: str
    name: str
    title: str | None
    lane: str | None
    state: TaskState
    assignee: str | None
    candidate_group: str | None
    created_at: datetime
    due_at: datetime | None
    deadline: dict[str, Any] | None
    completed_at: datetime | None
    completed_by: str | None
    overdue: bool

    @classmethod
    def of(cls, row: Task) -> "TaskView":
        return cls(row.id, row.instance_id, row.process_key, row.name, row.title, row.lane, TaskState(row.state),
                   row.assignee, row.candidate_group, row.created_at, row.due_at, row.deadline, row.completed_at,
                   row.completed_by, row.overdue)


@dataclass(frozen=True)
class TimerView:
    id: int
    task_name: str
    kind: str
    due_at: datetime
    status: TimerStatus
    interrupting: bool
    attached_to: str | None
    deadline: dict[str, Any] | None
    fired_at: datetime | None


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str
    kind: EventKind
    task_id: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class IncidentView:
    id: int
    task_name: str | None
    message: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    version: int
    status: InstanceStatus
    reference: str | None
    title: str | None
    started_at: datetime
    started_by: str
    updated_at: datetime
    ended_at: datetime | None
    revision: int


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceView
    data: dict[str, Any]
    tasks: list[TaskView]
    timers: list[TimerView]
    events: list[EventView]
    incidents: list[IncidentView]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FormSpec:
    """What a page needs to render a task's or a procedure's form."""

    process_key: str
    element: str
    title: str | None
    documentation: str | None
    lane: str | None
    schema: dict[str, Any] | None


@dataclass(frozen=True)
class DiagramView:
    xml: str
    completed: list[str]
    active: list[str]
    failed: list[str] = field(default_factory=list)  # where an open incident stopped the case
    ended: bool = False  # completed or cancelled: the page opens on the path taken


@dataclass(frozen=True)
class CaseFile:
    """A case as one user may see it: masked data, what they may do, files and documents."""

    detail: InstanceDetail
    access: Any
    fields: dict[str, dict[str, Any]]
    attachments: list[Any]
    documents: list[Any]


def form_spec(key: str, element: str, info: dict[str, Any], parametros: dict[str, Any] | None = None) -> FormSpec:
    """A task's form; with the version's parameters, its limits read from them (``x-maximo-parametro``)."""
    return FormSpec(key, element, info.get("title"), info.get("documentation"), info.get("lane"),
                    form_limits.resolve(info.get("schema"), parametros))


def instance_view(inst: Instance, version: int) -> InstanceView:
    return InstanceView(inst.id, inst.process_key, version, InstanceStatus(inst.status), inst.reference, inst.title,
                        inst.started_at, inst.started_by, inst.updated_at, inst.ended_at, inst.revision)
