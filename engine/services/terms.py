"""Legal time as callers need it: a deadline worked out and explained, and instants in Hermosillo time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from engine.errors import InvalidInput
from engine.time.calendar import HERMOSILLO, CalendarError, Deadline, LegalCalendar, to_local

__all__ = ["HERMOSILLO", "DateContext", "date_limits", "deadline", "to_local", "local_instant"]

from engine.run.date_rules import Context as DateContext  # noqa: E402  (pages build one to bound date inputs)
from engine.run.date_rules import limits as date_limits  # noqa: E402


def deadline(start: str, count: int, unit: str, *, calendars: Sequence[str] = (),
             citation: str | None = None) -> Deadline:
    """The ``tramita deadline`` calculator: the legal calendar plus any extra calendar files."""
    try:
        return LegalCalendar.load(calendars).deadline(start, count, unit, citation=citation)
    except CalendarError as exc:
        raise InvalidInput(str(exc), field="deadline") from None


def local_instant(value: date | datetime | str) -> datetime:
    """An instant in Hermosillo time; a bad value is ``InvalidInput`` naming ``as_of``."""
    try:
        return to_local(value)
    except ValueError as exc:
        raise InvalidInput(f"--as-of is not an ISO 8601 instant: {exc}", field="as_of") from None


def now() -> datetime:
    """The engine's current instant (the one clock every deadline and audit row reads)."""
    from engine.time import clock

    return clock.now()
