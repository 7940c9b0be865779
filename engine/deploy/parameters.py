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


# --- the parameters editor (a draft's parameters.toml) ----------------------------------------------

EDITABLE_TYPES = (int, float, str)


def parameter_rows(text: str) -> list[dict[str, Any]]:
    """Every legal parameter a designer can edit in the browser: a table with a number or a text
    ``value`` and its ``citation`` (lists and dates are edited in the file)."""
    rows: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, dict):
            return
        if "value" in node and ("citation" in node or "cita" in node):
            value = node["value"]
            if isinstance(value, EDITABLE_TYPES) and not isinstance(value, bool):
                rows.append({"path": ".".join(path), "value": value, "unit": str(node.get("unit", "")),
                             "citation": str(node.get("citation", node.get("cita", ""))),
                             "notes": str(node.get("notes", ""))})
            return
        for key, child in node.items():
            walk(child, [*path, key])

    walk(tomllib.loads(text), [])
    return rows


def edit_parameters(text: str, changes: dict[str, tuple[str, str]]) -> str:
    """``text`` with the values and citations of ``changes`` (path -> (value as typed, citation)).

    Every field is checked before anything is written, and each error is named by its field
    (``<path>.value``, ``<path>.citation``) in Spanish: a citation is required (a figure without
    its article is not law), and a value keeps its type (a number stays a number). Comments and
    notes in the file are kept: only the two lines change.
    """
    from engine.errors import InvalidInput

    rows = {r["path"]: r for r in parameter_rows(text)}
    fields: dict[str, str] = {}
    parsed: dict[str, tuple[Any, str]] = {}
    for path, (raw, citation) in changes.items():
        row = rows.get(path)
        if row is None:
            fields[f"{path}.value"] = f"No existe el parámetro «{path}»."
            continue
        citation = citation.strip()
        if not citation:
            fields[f"{path}.citation"] = ("Escriba el fundamento del parámetro (el artículo que fija la cifra): "
                                          "una cifra legal sin su artículo no puede desplegarse.")
        value = _typed(raw.strip(), row["value"])
        if value is None:
            kind = "un número entero" if isinstance(row["value"], int) else \
                "un número" if isinstance(row["value"], float) else "un texto"
            fields[f"{path}.value"] = f"El valor de «{path.rsplit('.', 1)[-1]}» debe ser {kind}."
        if path not in {f.rsplit(".", 1)[0] for f in fields}:
            parsed[path] = (value, citation)
    if fields:
        first = next(iter(fields))
        raise InvalidInput(fields[first], field=first, fields=fields)
    lines = text.splitlines(keepends=True)
    for path, (value, citation) in parsed.items():
        if value == rows[path]["value"] and citation == rows[path]["citation"]:
            continue
        _rewrite(lines, path, value, citation)
    out = "".join(lines)
    check = {r["path"]: (r["value"], r["citation"]) for r in parameter_rows(out)}
    for path, wanted in parsed.items():
        if check.get(path) != wanted:  # a table written in a way the editor cannot rewrite line by line
            raise InvalidInput(f"El parámetro «{path}» no puede editarse aquí: edítelo en parameters.toml.",
                               field=f"{path}.value")
    return out


def _typed(raw: str, old: Any) -> Any:
    if isinstance(old, int):
        try:
            return int(raw)
        except ValueError:
            return None
    if isinstance(old, float):
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            return None
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    return raw or None


def _toml(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _rewrite(lines: list[str], path: str, value: Any, citation: str) -> None:
    """Replace ``value = `` and ``citation = `` in the table ``[path]`` (up to the next table)."""
    header = f"[{path}]"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == header)
    except StopIteration:
        return
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        key = stripped.split("=", 1)[0].strip()
        if key == "value":
            lines[i] = f"value = {_toml(value)}\n"
        elif key in ("citation", "cita"):
            lines[i] = f"{key} = {_toml(citation)}\n"


def parameter_changes(old: str, new: str) -> list[str]:
    """What a draft changes in the parameters, in words (the approver reads it)."""
    before = {r["path"]: r for r in parameter_rows(old)}
    out = []
    for row in parameter_rows(new):
        was = before.get(row["path"])
        if was is None:
            continue
        if was["value"] != row["value"]:
            out.append(f"Parámetro «{row['path']}»: {was['value']} → {row['value']} ({row['citation']})")
        elif was["citation"] != row["citation"]:
            out.append(f"Parámetro «{row['path']}»: fundamento «{was['citation']}» → «{row['citation']}»")
    return out
