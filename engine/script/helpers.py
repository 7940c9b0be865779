"""The helpers diagrams may call, and the script engine that offers them.

Legal deadlines are computed here from case data (never as bare durations, which
SpiffWorkflow counts from whenever the engine reached the timer). Each helper
returns an ISO 8601 string with its offset and records the full explanation of the
deadline, which the engine stores beside the timer and the task's due date.
"""

from __future__ import annotations

import contextvars
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from engine.time import clock
from engine.script.sandbox import RestrictedScriptEngine

_computed: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar("deadlines", default=None)


class DeadlineLog:
    """Collects the explanations of the deadlines computed during one transition, by ISO value."""

    def __enter__(self) -> dict[str, dict[str, Any]]:
        self._entries: dict[str, dict[str, Any]] = {}
        self._token = _computed.set(self._entries)
        return self._entries

    def __exit__(self, *exc: object) -> None:
        _computed.reset(self._token)


def _record(deadline: Any) -> str:
    iso = deadline.iso()
    entries = _computed.get()
    if entries is not None:
        entries[iso] = deadline.to_dict()
    return iso


def _calendar() -> Any:
    from engine.time.calendar import default_calendar

    return default_calendar()


def plazo_habil(inicio: Any, n: int, cita: str | None = None) -> str:
    return _record(_calendar().business_days(inicio, n, citation=cita))


def plazo_natural(inicio: Any, n: int, cita: str | None = None, mover: bool = True) -> str:
    return _record(_calendar().natural_days(inicio, n, citation=cita, move_if_inhabil=mover))


def plazo_horas(inicio: Any, n: int, cita: str | None = None) -> str:
    return _record(_calendar().hours(inicio, n, citation=cita))


_RULE_MONTHS = (
    "Meses: el día de inicio cuenta entero; el plazo se cumple al iniciar (00:00:00, hora de Hermosillo) el "
    "mismo día del mes que corresponda, o el último día de ese mes si no lo tiene. No se recorre por días "
    "inhábiles (p. ej. la prescripción de la facultad de sancionar)."
)


def plazo_meses(inicio: Any, n: int, cita: str | None = None) -> str:
    """A term of ``n`` months (a year is 12): it has run at 00:00 of the same day ``n`` months later.

    For terms counted by months or years from an event, such as the one-year prescription of the
    power to sanction (Ley de Violencia Familiar art. 53); the explanation is recorded like the
    other helpers' so the timer and the due date show how the instant was reached.
    """
    from engine.time.calendar import HERMOSILLO, Deadline, to_local

    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"el número de meses del plazo debe ser un entero positivo, no {n!r}")
    begin = to_local(inicio)
    end = date.fromisoformat(sumar_meses(begin.date().isoformat(), n))
    due = datetime.combine(end, time(0, 0), HERMOSILLO)
    return _record(Deadline(begin, "months", n, _RULE_MONTHS, due, (), cita))


def ahora() -> str:
    from engine.time.calendar import HERMOSILLO

    return clock.now().astimezone(HERMOSILLO).isoformat(timespec="seconds")


def hoy() -> str:
    return ahora()[:10]


def sumar_meses(fecha: str, n: int) -> str:
    """The same day n months later (or the month's last day), for bars such as art. 36's six months."""
    day = date.fromisoformat(str(fecha)[:10])
    month_index = day.month - 1 + n
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day)).isoformat()


# Case-level facts every branch of a case reads (workflow globals, like ``parametros``) and scripts
# write with ``publicar``: the protection order in force, which the parallel branches (violations,
# follow-up, vigencia) must all see as it changes (issue, extension, lifting, a new order).
PUBLISHED = ("orden_vigente",)


def publicar(nombre: str, valor: Any) -> bool:
    """Set a case-level fact that every branch of the case reads (``orden_vigente``).

    Task data is copied per parallel branch in SpiffWorkflow, so a value a branch writes is not
    seen by its siblings; a fact about the whole case (the order now in force) is kept once, in
    the case's own data, and read by every expression as a global.
    """
    from engine.script.sandbox import CURRENT_TASK

    if nombre not in PUBLISHED:
        raise ValueError(f"publicar: {nombre!r} no es un dato del caso; use {', '.join(PUBLISHED)}")
    task = CURRENT_TASK.get()
    if task is None:
        raise ValueError("publicar solo puede usarse en una tarea de script")
    task.workflow.top_workflow.data[nombre] = valor
    return True


def hora_local(valor: Any) -> str:
    """An instant as Hermosillo ISO text (``2026-03-05T22:00:00-07:00``), so instants compare as text."""
    from engine.time.calendar import to_local

    return to_local(valor).isoformat(timespec="seconds")


HELPERS: dict[str, Callable[..., Any]] = {
    "publicar": publicar,
    "hora_local": hora_local,
    "plazo_habil": plazo_habil,
    "plazo_natural": plazo_natural,
    "plazo_horas": plazo_horas,
    "plazo_meses": plazo_meses,
    "ahora": ahora,
    "hoy": hoy,
    "sumar_meses": sumar_meses,
}


def script_engine(db: Any = None) -> RestrictedScriptEngine:
    """Diagrams read the legal parameters in force at start as ``parametros`` (workflow data).

    With the database, diagrams may also reserve folios (``folio("OP", "FGJE", fecha_emision)``,
    Reglamento art. 43) and inscribe acts in the register of orders (``inscribir``, art. 28); see
    ``engine.casework.register`` for why a folio is reserved outside the transition's own write.
    """
    from functools import partial

    from engine.casework import register

    helpers = dict(HELPERS, inscribir=register.inscribir)
    if db is not None:
        helpers["folio"] = partial(register.reserve_folio, db)
    return RestrictedScriptEngine(helpers, workflow_globals=("parametros", *PUBLISHED))
