"""A computed term and the Spanish words that justify it.

Every calendar rule (days, hours, months) returns a :class:`Deadline`, so an
official always gets the same account of a due date: start, count, rule,
skipped días inhábiles with their reasons, and the article. The rule texts live
here, beside the result that quotes them, so a recount can tell which rule a
stored explanation used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.time.calendar_file import CalendarError

__all__ = [
    "SkippedDay", "Deadline", "long_date", "check_count",
    "RULE_BUSINESS", "RULE_NATURAL_MOVE", "RULE_NATURAL_FIXED", "RULE_HOURS",
]

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

RULE_BUSINESS = (
    "Días hábiles: se cuenta a partir del día siguiente al inicio, sin computar "
    "sábados, domingos ni días inhábiles; vence a las 23:59:59 (hora de Hermosillo) "
    "del último día hábil."
)
RULE_NATURAL_MOVE = (
    "Días naturales: se cuenta a partir del día siguiente al inicio, computando todos "
    "los días; vence a las 23:59:59 (hora de Hermosillo) del último día y, si este es "
    "inhábil, el siguiente día hábil."
)
RULE_NATURAL_FIXED = (
    "Días naturales: se cuenta a partir del día siguiente al inicio, computando todos "
    "los días; vence a las 23:59:59 (hora de Hermosillo) del último día aunque sea inhábil."
)
RULE_HOURS = "Horas: vence exactamente ese número de horas después del momento de inicio."


@dataclass(frozen=True)
class SkippedDay:
    """A día inhábil that changed a deadline, kept so the result can be justified."""

    day: date
    reason: str


def long_date(day: date) -> str:
    """«viernes 18 de diciembre de 2026»: how an acuerdo writes a day."""
    return f"{_WEEKDAY_ES[day.weekday()]} {day.day} de {_MONTH_ES[day.month - 1]} de {day.year}"


def check_count(count: object) -> int:
    """The number of units of a term, refused unless a positive int (a bool is a bug upstream)."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise CalendarError(
            f"el número de unidades del plazo debe ser un entero positivo, no {count!r} "
            f"({type(count).__name__})"
        )
    if count <= 0:
        raise CalendarError(f"el número de unidades del plazo debe ser un entero positivo, no {count}")
    return count


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
            f"Inicio: {long_date(self.start.date())}, {self.start:%H:%M:%S} "
            f"({self.start.isoformat()})",
            f"Plazo: {self.count} {label}",
            f"Regla: {self.rule}",
            f"Vencimiento: {long_date(self.due.date())}, {self.due:%H:%M:%S} "
            f"({self.due.isoformat()})",
        ]
        if self.unit == "natural":
            heading = "Días inhábiles por los que se recorrió el vencimiento"
        else:
            heading = "Días inhábiles no computados"
        if self.skipped:
            lines.append(f"{heading}:")
            lines.extend(f"  - {long_date(s.day)}: {s.reason}" for s in self.skipped)
        elif self.unit != "hours":
            lines.append(f"{heading}: ninguno")
        if self.pending:
            lines.append("Días con inhabilidad pendiente de confirmar (se computaron como hábiles):")
            lines.extend(f"  - {long_date(s.day)}: {s.reason}" for s in self.pending)
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
