"""Sonora's legal time: the Hermosillo zone and the conversion of any start into it.

Legal days are Hermosillo days (UTC-7 all year, no DST) while the rest of the
engine stores instants in UTC, so every term, date rule and document first
converts here; one conversion keeps them all agreeing on which day an act fell.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from engine.time.calendar_file import CalendarError

__all__ = ["HERMOSILLO", "to_local", "as_day", "end_of_day"]

HERMOSILLO: ZoneInfo = ZoneInfo("America/Hermosillo")

_END_OF_DAY = time(23, 59, 59)


def to_local(value: date | datetime | str) -> datetime:
    """Turn any accepted start into an aware Hermosillo datetime.

    Legal days are Hermosillo days, so the calendar day of an event is only
    known after conversion (03:00Z Saturday is still Friday in Sonora).
    Naive values are taken as already local because that is how officials
    write times; a bare date means the start of that local day.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CalendarError(
                f"fecha u hora ISO 8601 no válida: {value!r} "
                "(se espera p. ej. '2026-12-18' o '2026-12-18T10:30:00-07:00')"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=HERMOSILLO)
        try:
            return value.astimezone(HERMOSILLO)
        except OverflowError:
            raise CalendarError(f"fecha fuera del intervalo admitido: {value!r}") from None
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), HERMOSILLO)
    raise CalendarError(
        f"inicio no válido: {value!r} ({type(value).__name__}); "
        "se espera date, datetime o texto ISO 8601"
    )


def as_day(value: date | datetime | str) -> date:
    """The Hermosillo calendar day of ``value`` (a bare date is taken as it is)."""
    if type(value) is date:
        return value
    return to_local(value).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Hermosillo time of ``day``: when a term in days ends (LPA Sonora art. 107)."""
    return datetime.combine(day, _END_OF_DAY, HERMOSILLO)
