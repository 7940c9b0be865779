"""The one clock of Tramita, chosen per engine.

Timers, due dates and the audit trail all read time from :func:`now`, so that tests and
operators (``tramita timers fire --as-of``) can act at any instant. Which clock that is
depends on the engine doing the work: an engine built with its own clock (a dry run on a
frozen clock, a test server whose clock the test advances) binds it with :func:`using`
for the duration of its work, in a context variable, so that it never moves the time of
the other engines, threads or requests of the same process. Work outside any binding
reads the process clock (:func:`set_clock`, the system clock by default).

SpiffWorkflow's timer definitions call ``datetime.now(timezone.utc)`` themselves; the
module is pointed once at a ``datetime`` whose ``now()`` is :func:`now`, so Spiff's timers
follow the same per-engine clock (a SpiffWorkflow limitation: it takes no clock).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Iterator, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock:
    """A clock that only moves when told to: tests and catch-up runs use it."""

    def __init__(self, instant: datetime) -> None:
        self._instant = _aware(instant)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = _aware(instant)

    def advance(self, delta: timedelta) -> None:
        self._instant += delta


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("the clock needs an instant with a UTC offset")
    return instant.astimezone(timezone.utc)


_lock = threading.Lock()
_process: Clock = SystemClock()
_bound: ContextVar[Clock | None] = ContextVar("tramita_clock", default=None)


def current() -> Clock:
    """The clock of the engine at work here, or the process clock."""
    return _bound.get() or _process


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return (_bound.get() or _process).now()


def set_clock(clock: Clock) -> Clock:
    """Replace the process clock (what work bound to no engine clock reads); returns the previous one."""
    global _process
    with _lock:
        previous, _process = _process, clock
    return previous


@contextmanager
def using(clock: Clock | None) -> Iterator[Clock]:
    """Run a block on ``clock`` (``None``: the process clock) in this thread or task only."""
    token = _bound.set(clock)
    try:
        yield current()
    finally:
        _bound.reset(token)


@contextmanager
def frozen_at(instant: datetime) -> Iterator[FrozenClock]:
    """Run a block at a fixed instant, then restore the previous clock."""
    clock = FrozenClock(instant)
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


class _ClockDatetime(datetime):
    """A ``datetime`` whose ``now()`` reads Tramita's clock (for SpiffWorkflow's timers)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        instant = now()
        return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)


def install() -> None:
    """Make SpiffWorkflow's timer events take their time from this clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime  # type: ignore[misc]
