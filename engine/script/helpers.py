"""The helpers diagrams may call, and the script engine that offers them.

Legal deadlines are computed here from case data (never as bare durations, which
SpiffWorkflow counts from whenever the engine reached the timer). Each helper
returns an ISO 8601 string with its offset and records the full explanation of the
deadline, which the engine stores beside the timer and the task's due date.
"""

from __future__ import annotations

import contextvars
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


def plazo_meses(inicio: Any, n: int, regla: str, cita: str | None = None) -> str:
    """A term of ``n`` months (a year is 12) by ``regla``: "administrativa" (LFPA art. 29) or "prescripcion"
    (Código Civil art. 1180). The rule is a cited parameter, never chosen here; see docs/terms.md."""
    from engine.time.months import months

    return _record(months(_calendar(), inicio, n, regla, citation=cita))


def dia_siguiente(fecha: Any) -> str:
    """The calendar day after ``fecha`` (its Hermosillo date), e.g. the first day a barred request is admissible."""
    from datetime import timedelta

    from engine.time.calendar import to_local

    return (to_local(fecha).date() + timedelta(days=1)).isoformat()


def uma_vigente(periodos: Any, fecha: Any) -> float | None:
    """The daily UMA in force on ``fecha`` (periods of ``[uma.periodos]``), or None when no period holds it.

    Looked up, never indexed: a date outside the loaded periods is a message on the task, not an error.
    The case's own copy of the parameters is read first; a period loaded after the case started is then
    read from the parameters in force (a published UMA value never changes), so loading it lets the case go on.
    """
    day = str(fecha)[:10]

    def find(items: Any) -> float | None:
        for p in items or []:
            if isinstance(p, dict) and str(p.get("desde")) <= day <= str(p.get("hasta")):
                return p.get("valor")
        return None

    found = find(periodos)
    if found is None:
        from engine import config
        from engine.deploy.parameters import load_parameters

        found = find(load_parameters(config.WORKFLOWS_DIR / "parameters.toml").get("uma", {}).get("periodos"))
    return found


def ahora() -> str:
    from engine.time.calendar import HERMOSILLO

    return clock.now().astimezone(HERMOSILLO).isoformat(timespec="seconds")


def hoy() -> str:
    return ahora()[:10]


HELPERS: dict[str, Callable[..., Any]] = {
    "plazo_habil": plazo_habil,
    "plazo_natural": plazo_natural,
    "plazo_horas": plazo_horas,
    "plazo_meses": plazo_meses,
    "dia_siguiente": dia_siguiente,
    "uma_vigente": uma_vigente,
    "ahora": ahora,
    "hoy": hoy,
}


def script_engine() -> RestrictedScriptEngine:
    """Diagrams read the legal parameters in force at start as ``parametros`` (workflow data)."""
    return RestrictedScriptEngine(HELPERS, workflow_globals=("parametros",))
