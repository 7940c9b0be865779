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
* A natural-day term that ends on a día inhábil moves to the next business
  day (LFPA art. 29) unless the deadline says otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from engine import config
from engine.time.calendar_file import CalendarError, read_calendar_file, read_calendar_text

import holidays

__all__ = [
    "HERMOSILLO",
    "SHIPPED_CALENDAR",
    "UNITS",
    "CalendarError",
    "SkippedDay",
    "Deadline",
    "LegalCalendar",
    "to_local",
    "default_calendar",
    "calendar_from_texts",
]

HERMOSILLO: ZoneInfo = ZoneInfo("America/Hermosillo")
SHIPPED_CALENDAR: Path = config.WORKFLOWS_DIR / "calendar" / "sonora.toml"
UNITS: tuple[str, ...] = ("business", "natural", "hours")

_END_OF_DAY = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)

_WEEKEND_REASON = {5: "Sábado", 6: "Domingo"}
_WEEKDAY_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTH_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
    "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)
_UNIT_LABEL = {  # (singular, plural)
    "business": ("día hábil", "días hábiles"),
    "natural": ("día natural", "días naturales"),
    "hours": ("hora", "horas"),
    "months": ("mes", "meses"),
}

# Only used if the installed ``holidays`` cannot localise MX names to Spanish
# (older releases); the names match what it returns with language="es".
_MX_NAMES_ES = {
    "New Year's Day": "Año Nuevo",
    "Constitution Day": "Día de la Constitución",
    "Benito Juárez's birthday": "Natalicio de Benito Juárez",
    "Labor Day": "Día del Trabajo",
    "Labour Day": "Día del Trabajo",
    "Independence Day": "Día de la Independencia",
    "Change of Federal Government": "Transmisión del Poder Ejecutivo Federal",
    "Revolution Day": "Día de la Revolución",
    "Christmas Day": "Navidad",
}


@dataclass(frozen=True)
class SkippedDay:
    """A día inhábil that changed a deadline, kept so the result can be justified."""

    day: date
    reason: str


def _long_date(day: date) -> str:
    return f"{_WEEKDAY_ES[day.weekday()]} {day.day} de {_MONTH_ES[day.month - 1]} de {day.year}"


@dataclass(frozen=True)
class Deadline:
    """A computed term with everything needed to show an official why it ends when it does."""

    start: datetime
    unit: str
    count: int
    rule: str
    due: datetime
    skipped: tuple[SkippedDay, ...]
    citation: str | None = None
    pending: tuple[SkippedDay, ...] = ()  # file days still "pendiente de confirmar", counted as hábiles

    def iso(self) -> str:
        """The due instant as stored/shown: local Hermosillo time with its offset."""
        return self.due.isoformat()

    def explain(self) -> str:
        """Spanish text an official can read (or paste into an acuerdo) to justify the due date."""
        singular, plural = _UNIT_LABEL.get(self.unit, (self.unit, self.unit))
        label = singular if self.count == 1 else plural
        lines = [
            f"Inicio: {_long_date(self.start.date())}, {self.start:%H:%M:%S} "
            f"({self.start.isoformat()})",
            f"Plazo: {self.count} {label}",
            f"Regla: {self.rule}",
            f"Vencimiento: {_long_date(self.due.date())}, {self.due:%H:%M:%S} "
            f"({self.due.isoformat()})",
        ]
        if self.unit == "natural":
            heading = "Días inhábiles por los que se recorrió el vencimiento"
        else:
            heading = "Días inhábiles no computados"
        if self.skipped:
            lines.append(f"{heading}:")
            lines.extend(f"  - {_long_date(s.day)}: {s.reason}" for s in self.skipped)
        elif self.unit != "hours":
            lines.append(f"{heading}: ninguno")
        if self.pending:
            lines.append("Días con inhabilidad pendiente de confirmar (se computaron como hábiles):")
            lines.extend(f"  - {_long_date(s.day)}: {s.reason}" for s in self.pending)
        lines.append(f"Fundamento: {self.citation if self.citation else 'no indicado'}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, so deadlines can be persisted in workflow data and audit logs."""
        return {
            "start": self.start.isoformat(),
            "unit": self.unit,
            "count": self.count,
            "rule": self.rule,
            "due": self.due.isoformat(),
            "skipped": [{"day": s.day.isoformat(), "reason": s.reason} for s in self.skipped],
            "citation": self.citation,
            **({"pending": [{"day": s.day.isoformat(), "reason": s.reason} for s in self.pending]}
               if self.pending else {}),
        }


# --------------------------------------------------------------------------
# Conversions and validation
# --------------------------------------------------------------------------


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


def _as_day(value: date | datetime | str) -> date:
    if type(value) is date:
        return value
    return to_local(value).date()


def _check_count(count: object) -> int:
    # bool is an int subclass; "True days" is always a bug upstream.
    if isinstance(count, bool) or not isinstance(count, int):
        raise CalendarError(
            f"el número de unidades del plazo debe ser un entero positivo, no {count!r} "
            f"({type(count).__name__})"
        )
    if count <= 0:
        raise CalendarError(f"el número de unidades del plazo debe ser un entero positivo, no {count}")
    return count


def _end_of(day: date) -> datetime:
    return datetime.combine(day, _END_OF_DAY, HERMOSILLO)


# --------------------------------------------------------------------------
# Built-in días inhábiles (LFT art. 74 holidays), cached per year
# --------------------------------------------------------------------------


def _mx_supports_spanish() -> bool:
    try:
        return "es" in getattr(holidays.MX, "supported_languages", ())
    except Exception:  # pragma: no cover - defensive against odd packaging
        return False


_MX_SPANISH = _mx_supports_spanish()


@functools.lru_cache(maxsize=None)
def _builtin_reasons(year: int) -> Mapping[date, tuple[str, ...]]:
    """The Ley Federal del Trabajo art. 74 holidays of one year; shared by all calendars."""
    reasons: dict[date, list[str]] = {}
    try:
        if _MX_SPANISH:
            mx = holidays.country_holidays("MX", years=year, language="es")
            items = [(d, str(n)) for d, n in mx.items()]
        else:  # pragma: no cover - only with very old `holidays`
            mx = holidays.country_holidays("MX", years=year)
            items = [
                (d, "; ".join(_MX_NAMES_ES.get(p.strip(), p.strip()) for p in str(n).split(";")))
                for d, n in mx.items()
            ]
    except (NotImplementedError, ValueError, OverflowError):  # pragma: no cover
        items = []
    for day, name in items:
        if day.year == year:
            reasons.setdefault(day, []).append(name)
    return {d: tuple(names) for d, names in reasons.items()}


# --------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------


_RULE_BUSINESS = (
    "Días hábiles: se cuenta a partir del día siguiente al inicio, sin computar "
    "sábados, domingos ni días inhábiles; vence a las 23:59:59 (hora de Hermosillo) "
    "del último día hábil."
)
_RULE_NATURAL_MOVE = (
    "Días naturales: se cuenta a partir del día siguiente al inicio, computando todos "
    "los días; vence a las 23:59:59 (hora de Hermosillo) del último día y, si este es "
    "inhábil, el siguiente día hábil."
)
_RULE_NATURAL_FIXED = (
    "Días naturales: se cuenta a partir del día siguiente al inicio, computando todos "
    "los días; vence a las 23:59:59 (hora de Hermosillo) del último día aunque sea inhábil."
)
_RULE_HOURS = "Horas: vence exactamente ese número de horas después del momento de inicio."


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
                        d: list(names) for d, names in _builtin_reasons(year).items()
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
        return self._reason(_as_day(day))

    def is_business_day(self, day: date) -> bool:
        """Whether acts can be performed and terms run on ``day``."""
        return self._reason(_as_day(day)) is None

    # -- deadlines ------------------------------------------------------------

    def business_days(
        self, start: date | datetime | str, count: int, citation: str | None = None
    ) -> Deadline:
        """Term of ``count`` días hábiles counted from the day after ``start``."""
        begin = to_local(start)
        n = _check_count(count)
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
        return Deadline(begin, "business", count, _RULE_BUSINESS, _end_of(day), tuple(skipped), citation,
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
        n = _check_count(count)
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
        rule = _RULE_NATURAL_MOVE if move_if_inhabil else _RULE_NATURAL_FIXED
        return Deadline(begin, "natural", count, rule, _end_of(day), tuple(skipped), citation,
                        _pending_between(self, day - _ONE_DAY, day))

    def hours(
        self, start: date | datetime | str, count: int, citation: str | None = None
    ) -> Deadline:
        """Term of exactly ``count`` hours; hours run on días inhábiles too (e.g. protection orders)."""
        begin = to_local(start)
        n = _check_count(count)
        try:
            # Arithmetic in UTC so it stays exact even for historical Sonora DST dates.
            due = (begin.astimezone(timezone.utc) + timedelta(hours=n)).astimezone(HERMOSILLO)
        except OverflowError:
            raise CalendarError("el plazo excede la última fecha representable") from None
        return Deadline(begin, "hours", count, _RULE_HOURS, due, (), citation)

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
        today_d = _as_day(today)
        due_d = _as_day(due)
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
