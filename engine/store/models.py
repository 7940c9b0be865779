"""The database schema: what Tramita keeps about diagrams, cases, tasks, timers and who did what.

Workflow state is stored without its spec (a reference to the deployed version
instead), and tasks and timers are materialized in their own tables so inboxes
and schedulers never deserialize a workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from datetime import timezone

from engine.store.states import EventKind, TaskState, event_kind


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType}


class Deployment(Base):
    """One act of deploying a bundle of files: who, when and what."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class DeployedFile(Base):
    """The exact text of each deployed file, kept so any version can be shown or re-parsed."""

    __tablename__ = "deployed_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # bpmn | dmn | form | datos | calendar | part
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class Definition(Base):
    """An immutable version of a process or decision, addressed by key and version number."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("kind", "key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # process | decision | calendar
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    executable: Mapped[bool] = mapped_column(default=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("deployed_files.id"))
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))
    # Serialized SpiffWorkflow spec (with called subprocesses), so instances need not embed it.
    spec: Mapped[dict[str, Any] | None]
    # Task name -> {form schema, lane, documentation, due date expression}: read by forms and inboxes.
    task_info: Mapped[dict[str, Any] | None]


class DefinitionPart(Base):
    """A file a version pins besides its diagram: lanes, message routes, parameters, data names (for a
    procedure), or one file of the legal calendar (for a calendar version). Several versions may share
    one deployed file, so a part carried over to a new version is not stored twice."""

    __tablename__ = "definition_parts"

    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("deployed_files.id"), index=True)


# Columns after ``state`` sit on SQLite overflow pages behind the serialized workflow: reading them
# from the row walks its whole chain. The manager console (migration 0012) reaches a case by id for its
# scope and status, and counts open cases by institution, through these two indexes instead; both
# change only when a case's status does.
CONSOLE_INDEX = "ix_instances_console"


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (Index("ix_instances_status_key", "status", "process_key"),
                      Index(CONSOLE_INDEX, "id", "institution", "status", "definition_id", "process_key", "reference"),
                      Index("ix_instances_institution_status", "institution", "status", "process_key"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    title: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # an InstanceStatus
    state: Mapped[str] = mapped_column(Text)  # serialized workflow without its spec
    revision: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    institution: Mapped[str | None] = mapped_column(String(120), index=True)


# Scope (assignee, then the offering group), the sort keys, then what filters, badges and facets read.
INBOX_INDEX_COLUMNS = ("state", "assignee", "candidate_group", "due_at", "created_at", "id", "instance_id", "overdue",
                       "process_key", "name", "title")


class Task(Base):
    """Materialized view of a workflow's user tasks (open and finished) for inbox queries."""

    __tablename__ = "tasks"
    __table_args__ = (
        # The open tasks' only index (migrations 0003, 0004): open tasks only, and every column the
        # inbox, its filter menus and ``tramita tasks`` read, so they never touch the table.
        Index("ix_tasks_ready_inbox", *INBOX_INDEX_COLUMNS, sqlite_where=text(f"state = '{TaskState.READY}'"),
              postgresql_where=text(f"state = '{TaskState.READY}'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))  # BPMN element id
    title: Mapped[str | None] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # a TaskState
    assignee: Mapped[str | None] = mapped_column(String(120))
    candidate_group: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    deadline: Mapped[dict[str, Any] | None]  # the due date's explanation
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(120))
    overdue: Mapped[bool] = mapped_column(default=False)


class Event(Base):
    """The append-only audit trail: who did what, when, and the data it changed."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  # an EventKind: every kind has a label on the pages
    detail: Mapped[dict[str, Any] | None]

    @validates("kind")
    def _known_kind(self, _key: str, kind: str) -> EventKind:
        """Refuse a kind that is not an :class:`EventKind` (it would reach a page with no label)."""
        return event_kind(kind)


class Incident(Base):
    """A failed script or expression: the instance waits in ``error`` until retried."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_name: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Timer(Base):
    """A waiting timer event, so the scheduler can find due work without loading workflows."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))  # date | duration | cycle
    interrupting: Mapped[bool] = mapped_column(default=True)
    attached_to: Mapped[str | None] = mapped_column(String(255))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # a TimerStatus
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    deadline: Mapped[dict[str, Any] | None]


class FolioCounter(Base):
    """The last folio number given per series (e.g. ``OP-FGJE``) and year (Reglamento art. 43; migration 0008).

    One row per series and year, bumped by a single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``:
    the primary key makes two issuing transactions that race for the same number queue on that row, so
    two orders never share a folio, on SQLite (one writer) and on PostgreSQL (row lock) alike.
    """

    __tablename__ = "folio_counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class RegisterEntry(Base):
    """One entry of the register of protection orders and their violations (Reglamento arts. 23 IV, 28).

    Written by the transition that performs the act (issue, extension, lifting, violation...), in the same
    transaction as the case's new state, from what the diagram's scripts inscribe (``inscribir``).
    ``kind`` is ``orden`` (one row per order, keyed by its folio, updated by each later act) or
    ``violacion`` (one row per report).
    """

    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_register_entries_kind_key"),
                      Index("ix_register_entries_year_kind", "year", "kind"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))
    folio: Mapped[str] = mapped_column(String(40), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class Alert(Base):
    """A deadline e-mail, recorded before it is handed to SMTP: one per task and kind, ever."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("kind", "target", name="uq_alerts_kind_target"),
                      Index("ix_alerts_pending", "sent_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # digest | overdue | opened | expiring
    target: Mapped[str] = mapped_column(String(255))  # the task id, or ``<day>/<username>`` for a digest
    recipients: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class MessageWait(Base):
    """A message catch event a case waits at, and since when (kept by each transition)."""

    __tablename__ = "message_waits"
    __table_args__ = (UniqueConstraint("instance_id", "task_id", name="uq_message_waits_instance_task"),
                      Index("ix_message_waits_since", "since"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str] = mapped_column(String(36))  # the waiting SpiffWorkflow task: a new wait, a new row
    element: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(String(255))
    since: Mapped[datetime]


class StepStat(Base):
    """Completed tasks per version, element and duration bucket (``engine.oversight.hooks``): the heatmap's
    median, p90 and share within term without reading every finished task. Kept by each completion."""

    __tablename__ = "step_stats"
    __table_args__ = (UniqueConstraint("definition_id", "institution", "element", "bucket", name="uq_step_stats"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    institution: Mapped[str] = mapped_column(String(120), default="")  # the case's ("" when it has none)
    element: Mapped[str] = mapped_column(String(255))
    term_unit: Mapped[str | None] = mapped_column(String(16))  # the step's legal term: business|natural|hours
    term_count: Mapped[int | None] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(Integer)  # index into engine.oversight.hooks.BUCKET_HOURS
    completed: Mapped[int] = mapped_column(Integer, default=0)
    with_term: Mapped[int] = mapped_column(Integer, default=0)  # of which had a due date
    within_term: Mapped[int] = mapped_column(Integer, default=0)  # of which were completed by it


class DirectoryGroup(Base):
    """The organisation's directory: a user group (the code lanes map to and users belong to), its name and
    institution. Data the administrator edits (``PeopleService``); a deploy only inserts the
    ``[groups.*]`` codes of ``lanes.toml`` the table lacks (``engine.deploy.directory``)."""

    __tablename__ = "directory_groups"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    institution: Mapped[str] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))
