"""The one clock of Tramita.

Timers, due dates and the audit trail all read time from here, so that tests and
operators (``tramita timers fire --as-of``) can act at any instant. SpiffWorkflow's
timer definitions call ``datetime.now(timezone.utc)`` themselves; :func:`install`
points them at this clock too.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
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
_current: Clock = SystemClock()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return _current.now()


def set_clock(clock: Clock) -> Clock:
    """Replace the process clock; returns the previous one."""
    global _current
    with _lock:
        previous, _current = _current, clock
    return previous


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
        instant = _current.now()
        return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)


def install() -> None:
    """Make SpiffWorkflow's timer events take their time from this clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime  # type: ignore[misc]
