"""Tests for engine.calendar (días hábiles and deadlines).

Every expected date below was worked out by hand from a printed calendar
(`python -c "import calendar; print(calendar.month(2026, 12))"`) and the
rules in the shared legal README; none is derived from the module under test.
"""

from __future__ import annotations

import json
import time as _time
import tomllib
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.time.calendar import SHIPPED_CALENDAR, UNITS, default_calendar, LegalCalendar
from engine.time.calendar_file import CalendarError
from engine.time.deadline import Deadline, SkippedDay
from engine.time.hermosillo import HERMOSILLO, to_local

H = HERMOSILLO


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=H)


@pytest.fixture(scope="module")
def cal() -> LegalCalendar:
    return LegalCalendar.load()


@pytest.fixture(scope="module")
def bare() -> LegalCalendar:
    """Built-in rules only (no TOML files)."""
    return LegalCalendar.load(include_shipped=False)


# ---------------------------------------------------------------------------
# Which days are inhábiles
# ---------------------------------------------------------------------------

INHABILES = [
    # LFT art. 74 fixed dates
    (date(2026, 1, 1), "Año Nuevo"),  # Thu
    (date(2026, 5, 1), "Día del Trabajo"),  # Fri
    (date(2026, 9, 16), "Día de la Independencia"),  # Wed
    (date(2026, 12, 25), "Navidad"),  # Fri
    (date(2029, 12, 25), "Navidad"),  # Tue
    (date(2031, 12, 25), "Navidad"),  # Thu
    # first Monday of February
    (date(2026, 2, 2), "Día de la Constitución"),
    (date(2027, 2, 1), "Día de la Constitución"),
    (date(2028, 2, 7), "Día de la Constitución"),
    (date(2030, 2, 4), "Día de la Constitución"),
    # third Monday of March
    (date(2026, 3, 16), "Natalicio de Benito Juárez"),
    (date(2027, 3, 15), "Natalicio de Benito Juárez"),
    (date(2029, 3, 19), "Natalicio de Benito Juárez"),
    # third Monday of November
    (date(2026, 11, 16), "Día de la Revolución"),
    (date(2029, 11, 19), "Día de la Revolución"),
    (date(2031, 11, 17), "Día de la Revolución"),
    # transmission of federal executive power (every six years)
    (date(2030, 10, 1), "Transmisión del Poder Ejecutivo Federal"),  # Tue
    # weekends
    (date(2026, 12, 19), "Sábado"),
    (date(2026, 12, 20), "Domingo"),
    (date(2031, 10, 4), "Sábado"),
    # a holiday on a weekend keeps the holiday as its reason
    (date(2027, 5, 1), "Día del Trabajo"),  # Sat
    (date(2027, 12, 25), "Navidad"),  # Sat
]

HABILES = [
    date(2026, 12, 24),  # Thu, Christmas Eve
    date(2026, 12, 28),  # Mon
    date(2026, 2, 5),  # Thu: historic 5 Feb is no longer the holiday
    date(2027, 2, 2),  # Tue after the first Monday
    date(2026, 3, 20),  # Fri
    date(2029, 3, 21),  # Wed: historic 21 March
    date(2026, 11, 20),  # Fri: historic 20 November
    date(2031, 10, 1),  # Wed: 1 Oct is only inhábil in transmission years
    date(2026, 4, 1),  # Holy Wednesday
    date(2026, 4, 6),  # Easter Monday
    date(2030, 4, 17),  # Holy Wednesday
    date(2028, 11, 3),  # Fri after 2 Nov
    # The shipped file's state days are all "pendiente de confirmar": not inhábiles until their acuerdo is
    # cited (issue 10, item 17). Holy week (Easter 2026-04-05, 2027-03-28, 2030-04-21, 2031-04-13) and 2 Nov.
    date(2026, 4, 2), date(2026, 4, 3), date(2027, 3, 25), date(2027, 3, 26), date(2030, 4, 18),
    date(2030, 4, 19), date(2031, 4, 10), date(2031, 4, 11), date(2026, 11, 2), date(2027, 11, 2),
    date(2029, 11, 2),
]

PENDING = {date(2026, 4, 2): "Jueves Santo", date(2026, 4, 3): "Viernes Santo", date(2027, 3, 25): "Jueves Santo",
           date(2031, 4, 11): "Viernes Santo", date(2026, 11, 2): "Día de Muertos", date(2029, 11, 2): "Día de Muertos"}


@pytest.mark.parametrize(("day", "reason"), INHABILES, ids=lambda v: str(v))
def test_inhabil_days(cal: LegalCalendar, day: date, reason: str) -> None:
    assert cal.inhabil_reason(day) == reason
    assert cal.is_business_day(day) is False


@pytest.mark.parametrize("day", HABILES, ids=str)
def test_business_days(cal: LegalCalendar, day: date) -> None:
    assert cal.inhabil_reason(day) is None
    assert cal.is_business_day(day) is True


def test_oct_first_2030_vs_2031(cal: LegalCalendar) -> None:
    assert cal.is_business_day(date(2030, 10, 1)) is False
    assert cal.is_business_day(date(2031, 10, 1)) is True
    # 2030-09-30 Mon + 1 business day: Tue 1 Oct is skipped -> Wed 2 Oct
    d = cal.business_days(date(2030, 9, 30), 1)
    assert d.due == eod(2030, 10, 2)
    assert d.skipped == (SkippedDay(date(2030, 10, 1), "Transmisión del Poder Ejecutivo Federal"),)
    # 2031-09-30 Tue + 1 business day: Wed 1 Oct counts
    assert cal.business_days(date(2031, 9, 30), 1).due == eod(2031, 10, 1)


def test_shipped_file_holds_holy_week_and_2_november_all_pending() -> None:
    """Nothing beyond LFT art. 74 is computed in Python: Holy Week comes from the file, with its source."""
    data = tomllib.loads(SHIPPED_CALENDAR.read_text(encoding="utf-8"))
    entries = data["inhabil"]
    assert {e["reason"] for e in entries} == {"Jueves Santo", "Viernes Santo", "Día de Muertos"}
    assert [e["date"] for e in entries if e["reason"] == "Día de Muertos"] == [f"{y}-11-02" for y in range(2026, 2032)]
    assert len([e for e in entries if e["reason"] == "Jueves Santo"]) == 6  # 2026-2031
    for e in entries:
        assert set(e) == {"date", "reason", "source"}
        assert "Boletín Oficial" in e["source"] and "pendiente de confirmar" in e["source"]


def test_pending_days_count_as_habiles_and_are_named(cal: LegalCalendar) -> None:
    for day, reason in PENDING.items():
        assert cal.pending[day] == reason and cal.is_business_day(day)
    # Tue 31 March 2026 + 3 días hábiles: 1, 2 (Jueves Santo, pending), 3 (Viernes Santo, pending) -> Fri 3 April.
    d = cal.business_days(date(2026, 3, 31), 3)
    assert d.due == eod(2026, 4, 3) and d.skipped == ()
    assert d.pending == (SkippedDay(date(2026, 4, 2), "Jueves Santo"), SkippedDay(date(2026, 4, 3), "Viernes Santo"))
    assert "pendiente de confirmar" in d.explain() and d.to_dict()["pending"][0]["reason"] == "Jueves Santo"


def test_a_cited_source_makes_the_day_inhabil(tmp_path: Path) -> None:
    path = tmp_path / "acuerdo.toml"
    path.write_text('[[inhabil]]\ndate = "2026-04-02"\nreason = "Jueves Santo"\n'
                    'source = "Acuerdo publicado en el Boletín Oficial, tomo CCXVII, número 1, 5 de enero de 2026"\n',
                    encoding="utf-8")
    cal = LegalCalendar.load([path])
    assert cal.inhabil_reason(date(2026, 4, 2)) == "Jueves Santo" and date(2026, 4, 2) not in cal.pending
    assert cal.is_business_day(date(2026, 4, 3)) and date(2026, 4, 3) in cal.pending


def test_without_shipped_file_2_nov_is_habil(bare: LegalCalendar) -> None:
    assert bare.is_business_day(date(2026, 11, 2)) is True
    assert bare.is_business_day(date(2026, 12, 25)) is False


def test_inhabil_reason_accepts_datetime_in_local_time(cal: LegalCalendar) -> None:
    # 2026-12-26T05:00Z is 25 Dec 22:00 in Hermosillo
    assert cal.inhabil_reason(datetime(2026, 12, 26, 5, 0, tzinfo=timezone.utc)) == "Navidad"


# ---------------------------------------------------------------------------
# Business-day terms
# ---------------------------------------------------------------------------

BUSINESS_TABLE = [
    # start, count, expected due date, expected skipped days
    # README example: notified Fri 18 Dec 2026, 5 business days -> Mon 28 Dec
    (date(2026, 12, 18), 5, date(2026, 12, 28),
     [date(2026, 12, 19), date(2026, 12, 20), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 27)]),
    # Holy week (pending confirmation, so hábil): Tue 31 Mar 2026 + 3 -> 1, 2, 3 Apr
    (date(2026, 3, 31), 3, date(2026, 4, 3), []),
    # Wed 24 Mar 2027 + 1 -> Thu 25 Mar (Jueves Santo, pending)
    (date(2027, 3, 24), 1, date(2027, 3, 25), []),
    # Mon 15 Apr 2030 + 5 -> 16, 17, 18, 19, (20-21 weekend), Mon 22
    (date(2030, 4, 15), 5, date(2030, 4, 22), [date(2030, 4, 20), date(2030, 4, 21)]),
    # First Monday of February 2027 (1 Feb): Fri 29 Jan + 1 -> Tue 2 Feb
    (date(2027, 1, 29), 1, date(2027, 2, 2),
     [date(2027, 1, 30), date(2027, 1, 31), date(2027, 2, 1)]),
    # First Monday of February 2028 (7 Feb): Fri 4 Feb + 1 -> Tue 8 Feb
    (date(2028, 2, 4), 1, date(2028, 2, 8),
     [date(2028, 2, 5), date(2028, 2, 6), date(2028, 2, 7)]),
    # Third Monday of March 2026 (16 Mar): Fri 13 + 2 -> Tue 17(1), Wed 18(2)
    (date(2026, 3, 13), 2, date(2026, 3, 18),
     [date(2026, 3, 14), date(2026, 3, 15), date(2026, 3, 16)]),
    # Third Monday of November 2029 (19 Nov): Fri 16 + 1 -> Tue 20
    (date(2029, 11, 16), 1, date(2029, 11, 20),
     [date(2029, 11, 17), date(2029, 11, 18), date(2029, 11, 19)]),
    # Third Monday of November 2031 (17 Nov): Fri 14 + 1 -> Tue 18
    (date(2031, 11, 14), 1, date(2031, 11, 18),
     [date(2031, 11, 15), date(2031, 11, 16), date(2031, 11, 17)]),
    # Shipped 2 Nov 2026 (Mon) is pending confirmation, so it counts: Fri 30 Oct + 1 -> Mon 2 Nov
    (date(2026, 10, 30), 1, date(2026, 11, 2), [date(2026, 10, 31), date(2026, 11, 1)]),
    # Christmas and New Year on Saturdays 2027/28: Fri 24 Dec 2027 + 1 -> Mon 27
    (date(2027, 12, 24), 1, date(2027, 12, 27), [date(2027, 12, 25), date(2027, 12, 26)]),
    # No inhábil in between: Mon 5 Oct 2026 + 4 -> Fri 9 Oct
    (date(2026, 10, 5), 4, date(2026, 10, 9), []),
]


@pytest.mark.parametrize(("start", "count", "due", "skipped"), BUSINESS_TABLE, ids=lambda v: str(v))
def test_business_days_table(cal: LegalCalendar, start: date, count: int, due: date, skipped: list[date]) -> None:
    d = cal.business_days(start, count)
    assert d.due == eod(due.year, due.month, due.day)
    assert [s.day for s in d.skipped] == skipped
    assert d.unit == "business" and d.count == count
    assert d.start == datetime(start.year, start.month, start.day, tzinfo=H)


def test_readme_example_appeal(cal: LegalCalendar) -> None:
    d = cal.business_days("2026-12-18", 5, citation="LPA Sonora, art. 107")
    assert d.iso() == "2026-12-28T23:59:59-07:00"
    assert [(s.day, s.reason) for s in d.skipped] == [
        (date(2026, 12, 19), "Sábado"),
        (date(2026, 12, 20), "Domingo"),
        (date(2026, 12, 25), "Navidad"),
        (date(2026, 12, 26), "Sábado"),
        (date(2026, 12, 27), "Domingo"),
    ]
    # only 25 Dec besides weekends: the shipped file adds nothing in December
    assert [s.day for s in d.skipped if s.day.weekday() < 5] == [date(2026, 12, 25)]


def test_default_calendar_is_cached_and_uses_shipped_file() -> None:
    assert default_calendar() is default_calendar()
    assert default_calendar().pending[date(2026, 11, 2)] == "Día de Muertos"
    assert default_calendar().business_days(date(2026, 12, 18), 5).iso() == "2026-12-28T23:59:59-07:00"


# ---------------------------------------------------------------------------
# Time zone: where the start day is
# ---------------------------------------------------------------------------


def test_saturday_in_utc_is_friday_in_hermosillo(cal: LegalCalendar) -> None:
    start = "2026-12-19T03:00:00Z"  # Saturday in UTC, Friday 20:00 in Hermosillo
    assert to_local(start) == datetime(2026, 12, 18, 20, 0, tzinfo=H)
    assert to_local(start).date().weekday() == 4  # Friday
    d = cal.business_days(start, 5)
    assert d.start == datetime(2026, 12, 18, 20, 0, tzinfo=H)
    assert d.iso() == "2026-12-28T23:59:59-07:00"
    # natural days without moving tell Friday from Saturday: Fri + 1 = Sat 19
    assert cal.natural_days(start, 1, move_if_inhabil=False).due == eod(2026, 12, 19)
    # the same instant as an aware datetime
    aware = datetime(2026, 12, 19, 3, 0, tzinfo=timezone.utc)
    assert cal.natural_days(aware, 1, move_if_inhabil=False).due == eod(2026, 12, 19)


def test_utc_thursday_is_wednesday_locally(cal: LegalCalendar) -> None:
    # Thu 24 Dec 03:00Z = Wed 23 Dec 20:00 local; +1 business = Thu 24 (from Thu it would be Mon 28)
    assert cal.business_days("2026-12-24T03:00:00Z", 1).due == eod(2026, 12, 24)
    assert cal.business_days(datetime(2026, 12, 24, 3, 0, tzinfo=timezone.utc), 1).due == eod(2026, 12, 24)


def test_other_offset_converted_first(cal: LegalCalendar) -> None:
    # 00:30 at UTC-6 on Thu 24 Dec = 06:30Z = Wed 23 Dec 23:30 in Hermosillo
    start = datetime(2026, 12, 24, 0, 30, tzinfo=timezone(timedelta(hours=-6)))
    assert to_local(start) == datetime(2026, 12, 23, 23, 30, tzinfo=H)
    assert cal.business_days(start, 1).due == eod(2026, 12, 24)
    assert cal.business_days("2026-12-24T00:30:00-06:00", 1).due == eod(2026, 12, 24)


def test_naive_datetime_is_local(cal: LegalCalendar) -> None:
    start = datetime(2026, 12, 23, 23, 30)  # naive -> Hermosillo wall clock
    assert to_local(start) == datetime(2026, 12, 23, 23, 30, tzinfo=H)
    assert cal.business_days(start, 1).due == eod(2026, 12, 24)
    assert cal.business_days("2026-12-23T23:30:00", 1).due == eod(2026, 12, 24)


def test_to_local_forms() -> None:
    expected_midnight = datetime(2026, 12, 18, 0, 0, tzinfo=H)
    assert to_local(date(2026, 12, 18)) == expected_midnight
    assert to_local("2026-12-18") == expected_midnight
    out = to_local("2026-12-18T10:00:00+00:00")
    assert out == datetime(2026, 12, 18, 3, 0, tzinfo=H)
    assert out.utcoffset() == timedelta(hours=-7)
    assert out.tzinfo is H


# ---------------------------------------------------------------------------
# Natural-day terms
# ---------------------------------------------------------------------------

NATURAL_TABLE = [
    # start, count, due with move, skipped with move, due without move
    # Fri 18 Dec 2026 + 7 = Fri 25 Dec (Navidad) -> Mon 28
    (date(2026, 12, 18), 7, date(2026, 12, 28),
     [date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 27)], date(2026, 12, 25)),
    # Fri 18 Dec 2026 + 1 = Sat 19 -> Mon 21
    (date(2026, 12, 18), 1, date(2026, 12, 21), [date(2026, 12, 19), date(2026, 12, 20)], date(2026, 12, 19)),
    # Tue 31 Mar 2026 + 2 = Thu 2 Apr (Jueves Santo, pending confirmation: hábil) -> no move
    (date(2026, 3, 31), 2, date(2026, 4, 2), [], date(2026, 4, 2)),
    # Mon 30 Sep 2030 + 1 = Tue 1 Oct 2030 -> Wed 2 Oct
    (date(2030, 9, 30), 1, date(2030, 10, 2), [date(2030, 10, 1)], date(2030, 10, 1)),
    # Tue 30 Sep 2031 + 1 = Wed 1 Oct 2031, hábil: no move
    (date(2031, 9, 30), 1, date(2031, 10, 1), [], date(2031, 10, 1)),
    # Fri 18 Dec 2026 + 3 = Mon 21 Dec, hábil; weekends inside the term still count
    (date(2026, 12, 18), 3, date(2026, 12, 21), [], date(2026, 12, 21)),
    # Sat 31 Jan 2026 + 30 = Mon 2 Mar 2026 (Feb 2026 has 28 days), hábil
    (date(2026, 1, 31), 30, date(2026, 3, 2), [], date(2026, 3, 2)),
]


@pytest.mark.parametrize(("start", "count", "due", "skipped", "fixed_due"), NATURAL_TABLE, ids=lambda v: str(v))
def test_natural_days_table(
    cal: LegalCalendar, start: date, count: int, due: date, skipped: list[date], fixed_due: date
) -> None:
    moved = cal.natural_days(start, count)
    assert moved.due == eod(due.year, due.month, due.day)
    assert [s.day for s in moved.skipped] == skipped
    fixed = cal.natural_days(start, count, move_if_inhabil=False)
    assert fixed.due == eod(fixed_due.year, fixed_due.month, fixed_due.day)
    assert fixed.skipped == ()
    assert moved.rule != fixed.rule


def test_natural_days_skipped_reasons(cal: LegalCalendar) -> None:
    d = cal.natural_days(date(2026, 12, 18), 7)
    assert [s.reason for s in d.skipped] == ["Navidad", "Sábado", "Domingo"]


# ---------------------------------------------------------------------------
# Hours
# ---------------------------------------------------------------------------

HOURS_TABLE = [
    ("2026-12-18T20:00:00-07:00", 24, datetime(2026, 12, 19, 20, 0, tzinfo=H)),
    # across midnight and into a holiday (hours run on inhábiles too)
    ("2026-12-31T22:30:00-07:00", 3, datetime(2027, 1, 1, 1, 30, tzinfo=H)),
    # UTC input (Fri 20:00 local) + 5h crosses local midnight
    ("2026-12-19T03:00:00Z", 5, datetime(2026, 12, 19, 1, 0, tzinfo=H)),
    # a date means 00:00 local
    (date(2026, 12, 18), 30, datetime(2026, 12, 19, 6, 0, tzinfo=H)),
    # 72 hours over a weekend
    (datetime(2026, 12, 18, 9, 15), 72, datetime(2026, 12, 21, 9, 15, tzinfo=H)),
]


@pytest.mark.parametrize(("start", "count", "due"), HOURS_TABLE, ids=lambda v: str(v))
def test_hours_table(cal: LegalCalendar, start: object, count: int, due: datetime) -> None:
    d = cal.hours(start, count)
    assert d.due == due
    assert d.due.utcoffset() == timedelta(hours=-7)
    assert d.skipped == ()
    assert d.due - d.start == timedelta(hours=count)


def test_hours_iso(cal: LegalCalendar) -> None:
    assert cal.hours("2026-12-31T22:30:00-07:00", 3).iso() == "2027-01-01T01:30:00-07:00"


# ---------------------------------------------------------------------------
# Dispatch, Deadline helpers
# ---------------------------------------------------------------------------


def test_deadline_dispatch(cal: LegalCalendar) -> None:
    assert UNITS == ("business", "natural", "hours")
    assert cal.deadline(date(2026, 12, 18), 5, "business").due == eod(2026, 12, 28)
    assert cal.deadline(date(2026, 12, 18), 7, "natural").due == eod(2026, 12, 28)
    assert cal.deadline(date(2026, 12, 18), 30, "hours").due == datetime(2026, 12, 19, 6, 0, tzinfo=H)
    assert cal.deadline(date(2026, 12, 18), 5, "business", citation="X") == cal.business_days(
        date(2026, 12, 18), 5, citation="X"
    )


def test_deadline_to_dict_and_explain(cal: LegalCalendar) -> None:
    d = cal.business_days("2026-12-19T03:00:00Z", 5, citation="LPA Sonora, art. 107")
    data = d.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "start": "2026-12-18T20:00:00-07:00",
        "unit": "business",
        "count": 5,
        "rule": d.rule,
        "due": "2026-12-28T23:59:59-07:00",
        "skipped": [
            {"day": "2026-12-19", "reason": "Sábado"},
            {"day": "2026-12-20", "reason": "Domingo"},
            {"day": "2026-12-25", "reason": "Navidad"},
            {"day": "2026-12-26", "reason": "Sábado"},
            {"day": "2026-12-27", "reason": "Domingo"},
        ],
        "citation": "LPA Sonora, art. 107",
    }
    text = d.explain()
    assert len(text.splitlines()) > 5
    for piece in ("viernes 18 de diciembre de 2026", "5 días hábiles", d.rule,
                  "lunes 28 de diciembre de 2026", "Navidad", "Sábado", "Domingo",
                  "LPA Sonora, art. 107", "2026-12-28T23:59:59-07:00"):
        assert piece in text
    assert "1 hora" in cal.hours(date(2026, 12, 18), 1).explain()
    assert "Fundamento: no indicado" in cal.natural_days(date(2026, 12, 18), 3).explain()
    with pytest.raises(FrozenInstanceError):
        d.count = 6  # type: ignore[misc]


def test_rules_are_spanish_descriptions(cal: LegalCalendar) -> None:
    assert "hábiles" in cal.business_days(date(2026, 12, 18), 1).rule
    assert "naturales" in cal.natural_days(date(2026, 12, 18), 1).rule
    assert "horas" in cal.hours(date(2026, 12, 18), 1).rule.lower()


def test_deadline_fields_are_hermosillo_aware(cal: LegalCalendar) -> None:
    for d in (cal.business_days("2026-12-19T03:00:00Z", 1),
              cal.natural_days("2026-12-19T03:00:00Z", 1),
              cal.hours("2026-12-19T03:00:00Z", 1)):
        assert isinstance(d, Deadline)
        assert d.start.tzinfo is H and d.due.tzinfo is H


# ---------------------------------------------------------------------------
# business_days_left
# ---------------------------------------------------------------------------

LEFT_TABLE = [
    # due Mon 28 Dec 2026
    (date(2026, 12, 18), date(2026, 12, 28), 5),  # 21,22,23,24,28
    (date(2026, 12, 24), date(2026, 12, 28), 1),
    (date(2026, 12, 25), date(2026, 12, 28), 1),
    (date(2026, 12, 26), date(2026, 12, 28), 1),
    (date(2026, 12, 28), date(2026, 12, 28), 0),
    (date(2026, 12, 29), date(2026, 12, 28), -1),
    (date(2026, 12, 31), date(2026, 12, 28), -3),  # 29,30,31 elapsed
    (date(2027, 1, 2), date(2026, 12, 28), -3),  # 1 Jan holiday, 2 Jan Sat
    (date(2027, 1, 4), date(2026, 12, 28), -4),
    # overdue but only inhábiles elapsed: still negative
    (date(2026, 12, 19), date(2026, 12, 18), -1),
]


@pytest.mark.parametrize(("today", "due", "left"), LEFT_TABLE, ids=lambda v: str(v))
def test_business_days_left(cal: LegalCalendar, today: date, due: date, left: int) -> None:
    assert cal.business_days_left(today, due) == left


# ---------------------------------------------------------------------------
# Calendar files
# ---------------------------------------------------------------------------

WINTER = """
[[inhabil]]
start = "2026-12-21"
end = "2027-01-01"
reason = "Vacaciones de invierno"
source = "Acuerdo de prueba (ficticio) para tests"

[[inhabil]]
date = 2027-11-03
reason = "Suspensión de labores"
source = "Acuerdo de prueba (ficticio) con fecha TOML nativa"

[[inhabil]]
start = 2027-07-19
end = "2027-07-20"
reason = "Vacaciones de verano"
source = "Acuerdo de prueba (ficticio), fechas mixtas"
"""


def write(tmp_path: Path, text: str, name: str = "extra.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_range_from_file(tmp_path: Path) -> None:
    path = write(tmp_path, WINTER)
    cal = LegalCalendar.load([path])
    # every day of the range, inclusive
    for day in (date(2026, 12, 21), date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 1)):
        assert cal.is_business_day(day) is False
    assert cal.inhabil_reason(date(2026, 12, 21)) == "Vacaciones de invierno"
    assert cal.inhabil_reason(date(2026, 12, 26)) == "Vacaciones de invierno"  # Sat inside the range
    assert cal.inhabil_reason(date(2026, 12, 25)) == "Navidad; Vacaciones de invierno"
    assert cal.inhabil_reason(date(2027, 1, 1)) == "Año Nuevo; Vacaciones de invierno"
    assert cal.is_business_day(date(2026, 12, 18)) is True
    assert cal.is_business_day(date(2027, 1, 4)) is True
    # Fri 18 Dec + 5: 21 Dec-1 Jan vacation, 2-3 Jan weekend, then Mon 4 .. Fri 8 Jan
    d = cal.business_days(date(2026, 12, 18), 5)
    assert d.due == eod(2027, 1, 8)
    assert d.skipped[0] == SkippedDay(date(2026, 12, 19), "Sábado")
    assert len(d.skipped) == 2 + 12 + 2  # 19-20 Dec, 21 Dec-1 Jan, 2-3 Jan
    # native TOML date and mixed native/string range
    assert cal.inhabil_reason(date(2027, 11, 3)) == "Suspensión de labores"
    assert cal.inhabil_reason(date(2027, 7, 19)) == "Vacaciones de verano"
    assert cal.inhabil_reason(date(2027, 7, 20)) == "Vacaciones de verano"
    assert cal.is_business_day(date(2027, 7, 21)) is True
    # shipped file still included
    assert cal.pending[date(2027, 11, 2)] == "Día de Muertos"


def test_load_without_shipped_and_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, WINTER)
    cal = LegalCalendar.load([str(path)], include_shipped=False)
    assert cal.is_business_day(date(2027, 11, 2)) is True
    assert cal.is_business_day(date(2027, 11, 3)) is False


def test_empty_file_is_fine(tmp_path: Path) -> None:
    cal = LegalCalendar.load([write(tmp_path, "# nothing yet\n")], include_shipped=False)
    assert cal.is_business_day(date(2026, 12, 24)) is True


def test_duplicate_entries_keep_both_reasons(tmp_path: Path) -> None:
    a = write(tmp_path, '[[inhabil]]\ndate = "2027-06-07"\nreason = "A"\nsource = "s"\n', "a.toml")
    b = write(tmp_path, '[[inhabil]]\ndate = "2027-06-07"\nreason = "B"\nsource = "s"\n'
                        '[[inhabil]]\ndate = "2027-06-07"\nreason = "A"\nsource = "s"\n', "b.toml")
    cal = LegalCalendar.load([a, b], include_shipped=False)
    assert cal.inhabil_reason(date(2027, 6, 7)) == "A; B"


def test_extra_mapping_in_constructor() -> None:
    cal = LegalCalendar({date(2027, 6, 7): "Suspensión por contingencia"})
    assert cal.inhabil_reason(date(2027, 6, 7)) == "Suspensión por contingencia"
    assert cal.inhabil_reason(date(2027, 6, 8)) is None
    # no TOML at all: built-in rules still apply
    assert cal.inhabil_reason(date(2027, 12, 24)) is None
    assert cal.inhabil_reason(date(2026, 12, 25)) == "Navidad"
    with pytest.raises(CalendarError, match="no es una fecha"):
        LegalCalendar({"2027-06-07": "x"})  # type: ignore[dict-item]
    with pytest.raises(CalendarError, match="motivo"):
        LegalCalendar({date(2027, 6, 7): ""})


BAD_FILES = [
    # (toml text, entry marker or None, problem fragment)
    ('[[inhabil]\ndate = "2027-11-02"', None, "no es TOML válido"),
    ('[[inhabil]]\ndate = "2027-11-02"\nreason = "x"\nsource = "s"\nfecha = "2027-11-02"\n',
     "entrada 1", "clave desconocida 'fecha'"),
    ('[[inhabil]]\ndate = "2027-11-02"\nreason = "x"\nsource = "s"\n'
     '[[inhabil]]\ndate = "2027-11-03"\nstart = "2027-11-03"\nend = "2027-11-04"\nreason = "x"\nsource = "s"\n',
     "entrada 2", "no ambos"),
    ('[[inhabil]]\nreason = "x"\nsource = "s"\n', "entrada 1", "falta la fecha"),
    ('[[inhabil]]\nstart = "2027-11-05"\nreason = "x"\nsource = "s"\n', "entrada 1", "falta 'end'"),
    ('[[inhabil]]\nend = "2027-11-05"\nreason = "x"\nsource = "s"\n', "entrada 1", "falta 'start'"),
    ('[[inhabil]]\nstart = "2027-11-05"\nend = "2027-11-04"\nreason = "x"\nsource = "s"\n',
     "entrada 1", "'end' (2027-11-04) es anterior a 'start' (2027-11-05)"),
    ('[[inhabil]]\ndate = "2027-13-01"\nreason = "x"\nsource = "s"\n', "entrada 1", "'date' no es una fecha válida"),
    ('[[inhabil]]\ndate = "02/11/2027"\nreason = "x"\nsource = "s"\n', "entrada 1", "'date' no es una fecha válida"),
    ('[[inhabil]]\ndate = 20271102\nreason = "x"\nsource = "s"\n', "entrada 1", "'date' no es una fecha válida"),
    ('[[inhabil]]\ndate = 2027-11-02T10:00:00\nreason = "x"\nsource = "s"\n', "entrada 1",
     "'date' no es una fecha válida"),
    ('[[inhabil]]\nstart = "2027-11-02"\nend = "mañana"\nreason = "x"\nsource = "s"\n', "entrada 1",
     "'end' no es una fecha válida"),
    ('[[inhabil]]\ndate = "2027-11-02"\nsource = "s"\n', "entrada 1", "falta 'reason'"),
    ('[[inhabil]]\ndate = "2027-11-02"\nreason = "  "\nsource = "s"\n', "entrada 1", "'reason' debe ser un texto"),
    ('[[inhabil]]\ndate = "2027-11-02"\nreason = "x"\n', "entrada 1", "falta 'source'"),
    ('[[inhabil]]\ndate = "2027-11-02"\nreason = "x"\nsource = 3\n', "entrada 1", "'source' debe ser un texto"),
    ('[[inhabiles]]\ndate = "2027-11-02"\nreason = "x"\nsource = "s"\n', None, "clave de primer nivel desconocida"),
    ('inhabil = "2027-11-02"\n', None, "lista de tablas"),
]


@pytest.mark.parametrize(("text", "entry", "problem"), BAD_FILES, ids=lambda v: str(v)[:40])
def test_bad_calendar_files(tmp_path: Path, text: str, entry: str | None, problem: str) -> None:
    path = write(tmp_path, text, "malo.toml")
    with pytest.raises(CalendarError) as info:
        LegalCalendar.load([path])
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(path) in message
    if entry is not None:
        assert entry in message
    assert problem in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no-existe.toml"
    with pytest.raises(CalendarError, match="no se pudo leer") as info:
        LegalCalendar.load([path])
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1, -5, True, False, 1.5, 5.0, "5", None])
@pytest.mark.parametrize("unit", UNITS)
def test_bad_count(cal: LegalCalendar, unit: str, count: object) -> None:
    with pytest.raises(CalendarError, match="entero positivo"):
        cal.deadline(date(2026, 12, 18), count, unit)  # type: ignore[arg-type]


def test_bad_count_direct_methods(cal: LegalCalendar) -> None:
    for method in (cal.business_days, cal.natural_days, cal.hours):
        with pytest.raises(CalendarError, match="entero positivo"):
            method(date(2026, 12, 18), 0)


@pytest.mark.parametrize("unit", ["weeks", "Business", "días", ""])
def test_unknown_unit(cal: LegalCalendar, unit: str) -> None:
    with pytest.raises(CalendarError) as info:
        cal.deadline(date(2026, 12, 18), 5, unit)
    message = str(info.value)
    assert repr(unit) in message
    for allowed in UNITS:
        assert allowed in message


@pytest.mark.parametrize("start", ["not a date", "2026-13-01", "", 12345, None, 1.5])
def test_bad_start(cal: LegalCalendar, start: object) -> None:
    with pytest.raises(CalendarError):
        cal.business_days(start, 1)  # type: ignore[arg-type]
    with pytest.raises(CalendarError):
        to_local(start)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Performance
# ---------------------------------------------------------------------------


def test_business_days_is_fast(cal: LegalCalendar) -> None:
    start = date(2027, 3, 1)
    cal.business_days(start, 45)  # warm-up (loads the year's holidays)
    rounds = 200
    t0 = _time.perf_counter()
    for _ in range(rounds):
        cal.business_days(start, 45)
    per_call = (_time.perf_counter() - t0) / rounds
    assert per_call < 0.001


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

starts = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(timezone.utc)
    ),
)
counts = st.integers(min_value=1, max_value=120)
PROPS = settings(max_examples=150, deadline=None)


@PROPS
@given(start=starts, n=counts)
def test_prop_business_deadline_lands_on_business_day(start: date, n: int) -> None:
    cal = default_calendar()
    d = cal.business_days(start, n)
    assert cal.is_business_day(d.due.date())
    assert d.due.timetz().replace(tzinfo=None).isoformat() == "23:59:59"
    assert d.due.utcoffset() == timedelta(hours=-7)
    # days after the start day = counted business days + skipped inhábiles
    assert (d.due.date() - d.start.date()).days == n + len(d.skipped)
    for s in d.skipped:
        assert d.start.date() < s.day < d.due.date()
        assert cal.inhabil_reason(s.day) == s.reason


@PROPS
@given(start=starts, n=counts)
def test_prop_business_strictly_increasing(start: date, n: int) -> None:
    cal = default_calendar()
    assert cal.business_days(start, n).due < cal.business_days(start, n + 1).due


@PROPS
@given(start=starts, n=counts, move=st.booleans())
def test_prop_natural_non_decreasing(start: date, n: int, move: bool) -> None:
    cal = default_calendar()
    a = cal.natural_days(start, n, move_if_inhabil=move)
    b = cal.natural_days(start, n + 1, move_if_inhabil=move)
    assert a.due <= b.due
    nominal = to_local(start).date() + timedelta(days=n)
    if move:
        assert a.due.date() >= nominal
        assert cal.is_business_day(a.due.date())
    else:
        assert a.due.date() == nominal


@PROPS
@given(start=starts, n=counts)
def test_prop_hours_strictly_increasing(start: date, n: int) -> None:
    cal = default_calendar()
    assert cal.hours(start, n).due < cal.hours(start, n + 1).due


@PROPS
@given(start=starts, n=counts, unit=st.sampled_from(UNITS))
def test_prop_never_before_start(start: date, n: int, unit: str) -> None:
    d = default_calendar().deadline(start, n, unit)
    assert d.due > d.start
    assert d.due >= to_local(start)


@PROPS
@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_prop_weekends_never_business_days(day: date) -> None:
    cal = default_calendar()
    if day.weekday() >= 5:
        assert not cal.is_business_day(day)
    assert cal.is_business_day(day) == (cal.inhabil_reason(day) is None)
