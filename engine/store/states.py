"""The names of every state and event Tramita stores: instance statuses, task states, timer
statuses, what a firing did, and the kinds of the audit trail.

They are ``StrEnum``s whose values are the strings the database has always held, so the
columns stay ``String`` (no migration) and a value read back as a plain ``str`` compares
equal to its member (``row.state == TaskState.READY``). Code writes and compares the
members, never the bare strings: a misspelt name fails when the module loads, not as a
state nothing ever matches.

Every :class:`EventKind` is shown to people in the case history, so each has a Spanish and an
English label (``web/views.py``, translated through the Flask-Babel catalogs); a test fails
when a kind has none. ``Event`` rows and the transition's insert refuse a kind that is not a
member (:func:`event_kind`), so the engine cannot write a kind without a label.
"""

from __future__ import annotations

from enum import StrEnum


class InstanceStatus(StrEnum):
    """Where a case stands (``instances.status``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    ERROR = "error"  # a script or expression failed: waits for a retry (an ``incidents`` row says why)

    @property
    def ended(self) -> bool:
        """Whether the case is over: its tasks are closed and its timers cancelled."""
        return self in _ENDED


_ENDED = frozenset({InstanceStatus.COMPLETED, InstanceStatus.CANCELLED})


class TaskState(StrEnum):
    """A user task row (``tasks.state``): open for someone to complete, or closed and how."""

    READY = "READY"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"  # the case moved on without it (a timer, a message, a cancelled case)


class TimerStatus(StrEnum):
    """A row of the timer mirror (``timers.status``)."""

    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"  # the case left the timer behind, ended, or the term was moved (re-armed)


class FiringOutcome(StrEnum):
    """What one attempt to fire a claimed timer did."""

    FIRED = "fired"
    SKIPPED = "skipped"  # fired or moved by someone else, not due by the clock, or the case cannot take it now
    ERROR = "error"  # the case went into error (an incident)


class EventKind(StrEnum):
    """The kinds of the audit trail (``events.kind``)."""

    INSTANCE_STARTED = "instance_started"
    TASK_COMPLETED = "task_completed"
    TIMER_FIRED = "timer_fired"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    ATTACHMENT_ADDED = "attachment_added"
    ATTACHMENT_OPENED = "attachment_opened"
    DOCUMENT_GENERATED = "document_generated"
    CASE_OPENED = "case_opened"
    INSTANCE_CANCELLED = "instance_cancelled"
    INSTANCE_SUSPENDED = "instance_suspended"
    INSTANCE_RESUMED = "instance_resumed"
    INSTANCE_RETRIED = "instance_retried"
    MESSAGE_RECEIVED = "message_received"
    TERM_SUSPENDED = "term_suspended"  # a term extended by días hábiles (engine.run.terms)
    TIMER_REARMED = "timer_rearmed"  # a timer set to a new instant (engine.run.terms)
    TERM_RECALENDARED = "term_recalendared"  # a term counted again on a new calendar version
    INSTANCE_MOVED = "instance_moved"  # a running case moved to another version (engine.run.moving)
    REGISTER_READ = "register_read"  # the register of orders read (Reglamento art. 28)
    REGISTER_EXPORTED = "register_exported"  # ... or exported for the Banco Estatal
    EVALUATION_EXPORTED = "evaluation_exported"  # the annual evaluation exported (art. 23 III-IV)
    DATA_RECTIFIED = "data_rectified"  # a wrong name or date corrected, with the reason (engine.run.rectify)
    CASE_STARTED = "case_started"  # a message this case threw started another case
    MESSAGE_NOT_DELIVERED = "message_not_delivered"  # ... and that case refused to start
    TASK_REASSIGNED = "task_reassigned"  # a coordinator gave an open task to someone of its group, with a reason
    TASK_RELEASED = "task_released"  # ... or returned it to its group's inbox, whoever held it
    DIRECTORY_CHANGED = "directory_changed"  # a group of the directory added, edited, disabled or enabled


def event_kind(kind: str) -> EventKind:
    """The member for ``kind``; ``ValueError`` for a kind that is not one, before anything is written."""
    try:
        return EventKind(kind)
    except ValueError:
        raise ValueError(f"{kind!r} is not an audit event kind (engine.store.states.EventKind)") from None
