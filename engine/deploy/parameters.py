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
