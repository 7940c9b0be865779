"""The Ley Federal del Trabajo art. 74 holidays, the only días inhábiles computed in Python.

Every other día inhábil (Holy Week, vacations, suspensions) comes from the
calendar files with its published source; these come from the ``holidays``
package because the LFT fixes them by rule. Kept apart so that nothing else
computed slips into the calendar (issue 10, item 17).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date

import holidays

__all__ = ["federal_holidays"]

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


def _mx_supports_spanish() -> bool:
    try:
        return "es" in getattr(holidays.MX, "supported_languages", ())
    except Exception:  # pragma: no cover - defensive against odd packaging
        return False


_MX_SPANISH = _mx_supports_spanish()


@functools.lru_cache(maxsize=None)
def federal_holidays(year: int) -> Mapping[date, tuple[str, ...]]:
    """The Ley Federal del Trabajo art. 74 holidays of one year, Spanish names; shared by all calendars."""
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
