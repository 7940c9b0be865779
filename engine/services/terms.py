"""Legal time as callers need it: a deadline worked out and explained, and instants in Hermosillo time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from engine.errors import InvalidInput
from engine.time.calendar import UNITS, LegalCalendar
from engine.time.calendar_file import CalendarError
from engine.time.deadline import Deadline
from engine.time.hermosillo import HERMOSILLO, to_local
from engine.time.months import RULES, months

__all__ = ["HERMOSILLO", "DateContext", "date_limits", "deadline", "to_local", "local_instant"]

from engine.run.date_rules import Context as DateContext  # noqa: E402  (pages build one to bound date inputs)
from engine.run.date_rules import limits as date_limits  # noqa: E402


def deadline(start: str, count: int, unit: str, *, calendars: Sequence[str] = (),
             citation: str | None = None, rule: str | None = None) -> Deadline:
    """The ``tramita deadline`` calculator: the legal calendar plus any extra calendar files.

    A term in months (``unit="months"``) needs the rule that governs it, because which one applies is a
    legal judgement (docs/terms.md): ``administrativa`` (LFPA art. 29) or ``prescripcion`` (Código Civil
    art. 1180); the diagrams take it from a cited parameter, the calculator from ``rule``.
    """
    if unit not in (*UNITS, "months"):
        raise InvalidInput(f"unidad de plazo desconocida: {unit!r}; unidades permitidas: "
                           f"{', '.join((*UNITS, 'months'))}", field="unit")
    if unit == "months" and rule is None:
        raise InvalidInput(f"un plazo en meses necesita la regla de cómputo: --rule {' o '.join(RULES)} "
                           "(docs/terms.md)", field="rule")
    if unit != "months" and rule is not None:
        raise InvalidInput(f"--rule solo aplica a plazos en meses (--unit months), no a {unit!r}", field="rule")
    try:
        cal = LegalCalendar.load(calendars)
        if unit == "months":
            return months(cal, start, count, str(rule), citation)
        return cal.deadline(start, count, unit, citation=citation)
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
