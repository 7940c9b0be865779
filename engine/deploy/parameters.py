"""Legal parameters: every figure the procedures use, with the article that sets it.

They live in ``workflows/parameters.toml`` so legal designers can change them, and
their values in force are copied onto each instance when it starts, so that a
later change never rewrites a running case.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def load_parameters(path: Path) -> dict[str, Any]:
    """The values alone (``parametros["agravio"]["plazo"]``), with the citations left in the file."""
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return parameter_values(tomllib.load(f))


def parameter_values(data: dict[str, Any]) -> dict[str, Any]:
    """The values of a parsed ``parameters.toml`` (as a deployed version holds it), citations left out."""
    return _values(data)


def _values(node: Any) -> Any:
    if isinstance(node, dict):
        if "value" in node and ("citation" in node or "cita" in node):
            return _values(node["value"])
        return {k: _values(v) for k, v in node.items() if k not in {"citation", "cita", "notes", "unit"}}
    if isinstance(node, list):
        return [_values(v) for v in node]
    if hasattr(node, "isoformat"):
        return node.isoformat()
    return node


def uma_warnings(parameters: dict[str, Any], today: Any) -> list[str]:
    """What managers must be told about ``[uma.periodos]``: from January, next period's value not loaded yet.

    A UMA value rules from 1 February to 31 January (INEGI publishes it in the DOF in January). A fine is
    computed with the UMA in force on the day of the infraction (Ley de Violencia Familiar art. 47, fracción I),
    so a missing period stops every sanction for an infraction from its first day.
    """
    periods = (parameters.get("uma") or {}).get("periodos") or []
    loaded = {str(p.get("desde")) for p in periods if isinstance(p, dict)}
    year = today.year if today.month >= 2 else today.year - 1  # the period in force today starts 1 February
    wanted = [year] + ([year + 1] if today.month == 1 else [])
    out = []
    for y in wanted:
        if f"{y}-02-01" not in loaded:
            out.append(f"Falta el valor de la UMA del periodo {y}-02-01 al {y + 1}-01-31 en workflows/periodos/uma.toml, "
                       f"[uma.periodos]: agréguelo con el valor que publique el INEGI en el DOF (rige desde el 1 de "
                       f"febrero de {y}); sin él no pueden calcularse las multas por infracciones desde esa fecha "
                       "(Ley de Violencia Familiar art. 47, fracción I).")
    return out
