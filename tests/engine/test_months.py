"""The two month rules (docs/terms.md): one implementation each, chosen by a cited parameter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.time.calendar import default_calendar
from engine.time.calendar_file import CalendarError
from engine.time.months import months

H = timezone(timedelta(hours=-7))


@pytest.mark.parametrize(("start", "n", "due", "skipped"), [
    # LFPA art. 29: same day number, 23:59:59. Tuesday 15 December 2026 + 6 -> Tuesday 15 June 2027.
    ("2026-12-15", 6, datetime(2027, 6, 15, 23, 59, 59, tzinfo=H), []),
    # 31 January 2026 + 1: February has no 31st -> first business day of March: 1 March is a Sunday -> Monday 2.
    ("2026-01-31", 1, datetime(2026, 3, 2, 23, 59, 59, tzinfo=H), ["2026-03-01"]),
    # 31 July 2026 + 6 -> 31 January 2027, a Sunday; Monday 1 February is the first Monday of February
    # (LFT art. 74) -> Tuesday 2 February 2027.
    ("2026-07-31", 6, datetime(2027, 2, 2, 23, 59, 59, tzinfo=H), ["2027-01-31", "2027-02-01"]),
    # 12 March 2026 + 6 -> Saturday 12 September -> Monday 14 September.
    ("2026-03-12", 6, datetime(2026, 9, 14, 23, 59, 59, tzinfo=H), ["2026-09-12", "2026-09-13"]),
])
def test_administrativa(start: str, n: int, due: datetime, skipped: list[str]) -> None:
    d = months(default_calendar(), start, n, "administrativa", citation="LFPA art. 29")
    assert d.due == due and [s.day.isoformat() for s in d.skipped] == skipped
    assert d.unit == "months" and "LFPA art. 29" in d.rule


@pytest.mark.parametrize(("start", "n", "due"), [
    # Código Civil art. 1180: 10 March 2026 counts whole; the year has run at 00:00 of 10 March 2027.
    ("2026-03-10", 12, datetime(2027, 3, 10, 0, 0, tzinfo=H)),
    # Not moved by días inhábiles: 25 December 2027 is a Saturday and a holiday.
    ("2026-12-25", 12, datetime(2027, 12, 25, 0, 0, tzinfo=H)),
    # 31 August + 6: February 2027 has no 31st; its last day must be complete -> 00:00 of 1 March.
    ("2026-08-31", 6, datetime(2027, 3, 1, 0, 0, tzinfo=H)),
])
def test_prescripcion(start: str, n: int, due: datetime) -> None:
    d = months(default_calendar(), start, n, "prescripcion")
    assert d.due == due and d.skipped == () and "Código Civil art. 1180" in d.rule


def test_unknown_rule_or_count_is_refused() -> None:
    with pytest.raises(CalendarError, match="regla de meses desconocida"):
        months(default_calendar(), "2026-01-01", 1, "civil")
    with pytest.raises(CalendarError, match="entero positivo"):
        months(default_calendar(), "2026-01-01", 0, "prescripcion")
