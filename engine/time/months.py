"""Terms in months and years: the two rules of Mexican law, one implementation each.

Which rule governs a term is a legal judgement, so diagrams never choose it in code: they pass
the rule's name from a parameter that cites its source (``workflows/parameters.toml``), e.g.
``plazo_meses(fecha, parametros["sancion"]["prescripcion_meses"], parametros["sancion"]["prescripcion_regla"], ...)``.
docs/terms.md gives both rules with worked examples.

- ``administrativa`` (federal LFPA art. 29, the model the Sonora administrative procedure law
  follows): the term ends on the same day number of the corresponding month or year; when that month
  has no such day, on the first business day of the following month; when the last day is inhábil,
  on the next business day. It ends at 23:59:59 (Hermosillo) of that day, like every term in days.
- ``prescripcion`` (federal Código Civil art. 1180 and its Sonora counterpart): the first day counts
  whole even if it is not, and the last day must be complete, so the term has run at 00:00 of the
  same day number n months later (if that month has no such day, once its last day is complete: at
  00:00 of the first day of the following month). It is not moved by días inhábiles.
"""

from __future__ import annotations

import calendar as _gregorian
from datetime import date, datetime, time, timedelta

from engine.time.calendar import LegalCalendar
from engine.time.calendar_file import CalendarError
from engine.time.deadline import Deadline, SkippedDay
from engine.time.hermosillo import HERMOSILLO, to_local

__all__ = ["RULES", "ADMINISTRATIVA", "PRESCRIPCION", "months"]

ADMINISTRATIVA = "administrativa"
PRESCRIPCION = "prescripcion"
RULES = (ADMINISTRATIVA, PRESCRIPCION)

_RULE_TEXT = {
    ADMINISTRATIVA: (
        "Meses (regla administrativa, LFPA art. 29): vence el mismo día del mes que corresponda; si ese mes no "
        "tiene ese día, el primer día hábil del mes siguiente; si el último día es inhábil, el siguiente día "
        "hábil. Vence a las 23:59:59 (hora de Hermosillo)."
    ),
    PRESCRIPCION: (
        "Meses (regla de la prescripción, Código Civil art. 1180): el día de inicio cuenta entero y el último "
        "día debe ser completo; se cumple a las 00:00:00 (hora de Hermosillo) del mismo día del mes que "
        "corresponda (si ese mes no tiene ese día, al completarse su último día). No se recorre por días "
        "inhábiles."
    ),
}


def _same_day(start: date, n: int) -> tuple[date, bool]:
    """The same day number ``n`` months later, and whether that month has it (else its last day)."""
    index = start.month - 1 + n
    year, month = start.year + index // 12, index % 12 + 1
    last = _gregorian.monthrange(year, month)[1]
    return date(year, month, min(start.day, last)), start.day <= last


def _check(n: object, rule: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise CalendarError(f"el número de meses del plazo debe ser un entero positivo, no {n!r}")
    if rule not in RULES:
        raise CalendarError(f"regla de meses desconocida: {rule!r}; reglas: {', '.join(RULES)} (docs/terms.md)")
    return n


def months(cal: LegalCalendar, start: date | datetime | str, n: int, rule: str,
           citation: str | None = None) -> Deadline:
    """A term of ``n`` months (a year is 12) from ``start`` by the named rule, with its explanation."""
    _check(n, rule)
    begin = to_local(start)
    target, exists = _same_day(begin.date(), n)
    skipped: list[SkippedDay] = []
    if rule == PRESCRIPCION:
        end_day = target if exists else target + timedelta(days=1)
        due = datetime.combine(end_day, time(0, 0), HERMOSILLO)
        return Deadline(begin, "months", n, _RULE_TEXT[rule], due, (), citation)
    day = target
    if not exists:  # the month lacks the day: the first business day of the following month
        day = target + timedelta(days=1)
    reason = cal.inhabil_reason(day)
    while reason is not None:
        skipped.append(SkippedDay(day, reason))
        day += timedelta(days=1)
        reason = cal.inhabil_reason(day)
    due = datetime.combine(day, time(23, 59, 59), HERMOSILLO)
    return Deadline(begin, "months", n, _RULE_TEXT[rule], due, tuple(skipped), citation)


def explain_rule(rule: str) -> str:
    """The rule's text as explanations show it (for docs and designer tools)."""
    return _RULE_TEXT[rule]
