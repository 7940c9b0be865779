"""Legal calendar for Sonora: días hábiles and the deadlines counted on them.

Every term a procedure grants (appeal in 5 business days, a protection order
within 24 hours, ...) is computed here so the rule is applied the same way
everywhere and every result can explain itself: which rule was used, which
days were skipped and why, and on what legal basis.

Legal facts implemented (see the shared legal README, "Counting deadlines"):

* Legal dates are America/Hermosillo dates (UTC-7 all year, no DST); instants
  are stored in UTC by the rest of the engine, so they are converted first.
* A term in days runs from the day *after* its starting event (LPA Sonora
  art. 107; LFPA art. 38) and ends at 23:59:59 local time of its last day.
* Días inhábiles: Saturdays, Sundays, the Ley Federal del Trabajo art. 74
  holidays (via the ``holidays`` package), plus whatever the editable TOML
  calendar files declare (Holy Thursday and Good Friday, vacations,
  suspensions, state non-working days), each with its published source (LFPA
  art. 28). A file day whose source is "pendiente de confirmar" is not inhábil
  until its acuerdo is cited; deadlines list it as counted (see
  ``engine.time.calendar_file``).
* Terms in months and years: ``engine.time.months`` (docs/terms.md).

The pieces live apart, each with one job: Hermosillo time (``hermosillo``), the
computed term and its Spanish explanation (``deadline``), the LFT holidays
(``federal_holidays``), the calendar files (``calendar_file``); this module
holds the calendar that combines them and the one bound for the engine at work.
* A natural-day term that ends on a día inhábil moves to the next business
  day (LFPA art. 29) unless the deadline says otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from engine import config
from engine.time.calendar_file import CalendarError, read_calendar_file, read_calendar_text
from engine.time.deadline import (
    RULE_BUSINESS, RULE_HOURS, RULE_NATURAL_FIXED, RULE_NATURAL_MOVE, Deadline, SkippedDay, check_count,
)
from engine.time.federal_holidays import federal_holidays
from engine.time.hermosillo import HERMOSILLO, as_day, end_of_day, to_local

__all__ = [
    "SHIPPED_CALENDAR",
    "UNITS",
    "LegalCalendar",
    "default_calendar",
    "calendar_from_texts",
    "bound_calendar",
    "using",
    "with_days",
]

SHIPPED_CALENDAR: Path = config.WORKFLOWS_DIR / "calendar" / "sonora.toml"
UNITS: tuple[str, ...] = ("business", "natural", "hours")

_ONE_DAY = timedelta(days=1)

_WEEKEND_REASON = {5: "Sábado", 6: "Domingo"}


class LegalCalendar:
    """Which days are días inhábiles, and the deadlines counted over them.

    Built-in días inhábiles (weekends, LFT art. 74 holidays) are always
    present; ``extra`` adds the state's published days (usually loaded from
    TOML files via :meth:`load`, Holy Week included); ``pending`` holds file
    days still "pendiente de confirmar", which count as hábiles but are named
    in explanations. Lookups are cached per year so deadline
    computation stays cheap inside timers and list views.
    """

    def __init__(self, extra: Mapping[date, str] | None = None,
                 pending: Mapping[date, str] | None = None) -> None:
        by_year: dict[int, dict[date, str]] = {}
        for day, reason in (extra or {}).items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise CalendarError(f"día inhábil adicional no es una fecha: {day!r}")
            if not isinstance(reason, str) or not reason.strip():
                raise CalendarError(
                    f"día inhábil adicional {day.isoformat()}: el motivo debe ser un texto no vacío"
                )
            by_year.setdefault(day.year, {})[day] = reason.strip()
        self._extra_by_year = by_year
        self.pending: dict[date, str] = {d: r for d, r in (pending or {}).items() if d not in extra_days(by_year)}
        self._years: dict[int, dict[date, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, files: Sequence[str | Path] = (), include_shipped: bool = True
    ) -> LegalCalendar:
        """Calendar from the shipped Sonora file plus deployment-specific files.

        The same day may appear in several entries/files (e.g. a suspension
        inside a vacation); all distinct reasons are kept so none is lost.
        """
        if isinstance(files, (str, Path)):
            files = [files]
        paths: list[str | Path] = [SHIPPED_CALENDAR] if include_shipped else []
        paths.extend(files)
        return cls._merged(read_calendar_file(path) for path in paths)

    @classmethod
    def _merged(cls, files: Any) -> LegalCalendar:
        merged: dict[date, list[str]] = {}
        pending: dict[date, list[str]] = {}
        for days in files:
            for entry in days:
                reasons = (pending if entry.pending else merged).setdefault(entry.day, [])
                if entry.reason not in reasons:
                    reasons.append(entry.reason)
        return cls({day: "; ".join(reasons) for day, reasons in merged.items()},
                   {day: "; ".join(reasons) for day, reasons in pending.items()})

    # -- día inhábil lookup ---------------------------------------------------

    def _year(self, year: int) -> dict[date, str]:
        table = self._years.get(year)
        if table is None:
            with self._lock:
                table = self._years.get(year)
                if table is None:
                    combined: dict[date, list[str]] = {
                        d: list(names) for d, names in federal_holidays(year).items()
                    }
                    for d, reason in self._extra_by_year.get(year, {}).items():
                        names = combined.setdefault(d, [])
                        if reason not in names:
                            names.append(reason)
                    table = {d: "; ".join(names) for d, names in combined.items()}
                    self._years[year] = table
        return table

    def _reason(self, day: date) -> str | None:
        # The specific reason (holiday, vacation...) wins over "Sábado"/"Domingo"
        # because it is the one an official would cite.
        table = self._years.get(day.year)
        if table is None:
            table = self._year(day.year)
        reason = table.get(day)
        if reason is None:
            return _WEEKEND_REASON.get(day.weekday())
        return reason

    def inhabil_reason(self, day: date) -> str | None:
        """Why ``day`` is inhábil (None if it is a business day), for explanations and UIs."""
        return self._reason(as_day(day))

    def is_business_day(self, day: date) -> bool:
        """Whether acts can be performed and terms run on ``day``."""
        return self._reason(as_day(day)) is None

    # -- deadlines ------------------------------------------------------------

    def business_days(
        self, start: date | datetime | str, count: int, citation: str | None = None
    ) -> Deadline:
        """Term of ``count`` días hábiles counted from the day after ``start``."""
        begin = to_local(start)
        n = check_count(count)
        day = begin.date()
        skipped: list[SkippedDay] = []
        try:
            while n:
                day += _ONE_DAY
                reason = self._reason(day)
                if reason is None:
                    n -= 1
                else:
                    skipped.append(SkippedDay(day, reason))
        except OverflowError:
            raise CalendarError("el plazo excede la última fecha representable") from None
        return Deadline(begin, "business", count, RULE_BUSINESS, end_of_day(day), tuple(skipped), citation,
                        _pending_between(self, begin.date(), day))

    def natural_days(
        self,
        start: date | datetime | str,
        count: int,
        citation: str | None = None,
        move_if_inhabil: bool = True,
    ) -> Deadline:
        """Term of ``count`` calendar days; by default it cannot expire on a día inhábil (LFPA art. 29)."""
        begin = to_local(start)
        n = check_count(count)
        skipped: list[SkippedDay] = []
        try:
            day = begin.date() + timedelta(days=n)
            if move_if_inhabil:
                reason = self._reason(day)
                while reason is not None:
                    skipped.append(SkippedDay(day, reason))
                    day += _ONE_DAY
                    reason = self._reason(day)
        except OverflowError:
            raise CalendarError("el plazo excede la última fecha representable") from None
        rule = RULE_NATURAL_MOVE if move_if_inhabil else RULE_NATURAL_FIXED
        return Deadline(begin, "natural", count, rule, end_of_day(day), tuple(skipped), citation,
                        _pending_between(self, day - _ONE_DAY, day))

    def hours(
        self, start: date | datetime | str, count: int, citation: str | None = None
    ) -> Deadline:
        """Term of exactly ``count`` hours; hours run on días inhábiles too (e.g. protection orders)."""
        begin = to_local(start)
        n = check_count(count)
        try:
            # Arithmetic in UTC so it stays exact even for historical Sonora DST dates.
            due = (begin.astimezone(timezone.utc) + timedelta(hours=n)).astimezone(HERMOSILLO)
        except OverflowError:
            raise CalendarError("el plazo excede la última fecha representable") from None
        return Deadline(begin, "hours", count, RULE_HOURS, due, (), citation)

    def deadline(
        self, start: date | datetime | str, count: int, unit: str, citation: str | None = None
    ) -> Deadline:
        """Dispatch used by workflow definitions, where the unit is data, not code."""
        if unit == "business":
            return self.business_days(start, count, citation)
        if unit == "natural":
            return self.natural_days(start, count, citation)
        if unit == "hours":
            return self.hours(start, count, citation)
        raise CalendarError(
            f"unidad de plazo desconocida: {unit!r}; unidades permitidas: {', '.join(UNITS)}"
        )

    def business_days_left(self, today: date, due: date) -> int:
        """Business days remaining, for "vence en N días hábiles" displays and alerts.

        Counts días hábiles after ``today`` up to and including ``due``; 0 when
        due today. When overdue it is minus the días hábiles elapsed after
        ``due`` up to and including ``today``, but never 0 (at least -1), so
        the sign alone always tells whether the term has expired.
        """
        today_d = as_day(today)
        due_d = as_day(due)
        if due_d == today_d:
            return 0
        low, high = sorted((today_d, due_d))
        n = 0
        day = low
        while day < high:
            day += _ONE_DAY
            if self._reason(day) is None:
                n += 1
        if due_d > today_d:
            return n
        return -max(n, 1)


def calendar_from_texts(texts: Mapping[str, str]) -> LegalCalendar:
    """The calendar a deployed calendar version holds: its files' texts by name (no file is read)."""
    return LegalCalendar._merged(read_calendar_text(text, name) for name, text in sorted(texts.items()))


def bound_calendar() -> LegalCalendar | None:
    """The calendar an engine bound for this thread (:func:`using`), if any."""
    return _bound.get()


def extra_days(by_year: Mapping[int, Mapping[date, str]]) -> set[date]:
    """Every additional día inhábil of a calendar, whatever its year."""
    return {d for days in by_year.values() for d in days}


def _pending_between(cal: LegalCalendar, first: date, last: date) -> tuple[SkippedDay, ...]:
    """The pending file days a term ran over (first exclusive, last inclusive) that fell on a weekday."""
    return tuple(SkippedDay(d, r) for d, r in sorted(cal.pending.items())
                 if first < d <= last and cal.is_business_day(d))


def default_calendar() -> LegalCalendar:
    """The calendar in use: the one bound by the engine at work (:func:`using`), else the shipped file's."""
    return _bound.get() or _shipped()


@functools.lru_cache(maxsize=1)
def _shipped() -> LegalCalendar:
    return LegalCalendar.load()


_bound: contextvars.ContextVar[LegalCalendar | None] = contextvars.ContextVar("tramita_calendar", default=None)


@contextlib.contextmanager
def using(calendar: LegalCalendar | None) -> Iterator[LegalCalendar]:
    """Count terms on ``calendar`` in this thread for a block (an engine's own, a dry run's with a
    declared vacation); ``None``: the shipped calendar."""
    token = _bound.set(calendar)
    try:
        yield default_calendar()
    finally:
        _bound.reset(token)


def with_days(base: LegalCalendar, extra: Mapping[date, str]) -> LegalCalendar:
    """``base`` plus more días inhábiles (each with its reason)."""
    merged = {day: reason for table in base._extra_by_year.values() for day, reason in table.items()}
    for day, reason in extra.items():
        merged[day] = f"{merged[day]}; {reason}" if day in merged and merged[day] != reason else reason
    return LegalCalendar(merged, {d: r for d, r in base.pending.items() if d not in merged})
