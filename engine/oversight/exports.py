"""Lists as CSV (UTF-8 with a byte-order mark, so Excel shows accents) and XLSX (openpyxl).

No victim-identifying or sensitive data leaves through an export: a case data field is exported
only when the classification of its form (``x-clasificacion``, read by
``engine.casework.classification``) makes it ``general``. A field without one is judged by its shape
as everywhere else: free text is ``sensible``; a choice from a list, a yes/no, a number or a date is
general.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from engine.casework import classification as classes
from engine.time.calendar import HERMOSILLO

BOM = "\ufeff"


def classification(schema: dict[str, Any] | None) -> str:
    """``identificativo``, ``sensible`` or ``general`` for one top-level field of a form: its schema decides,
    by the same rule as the case pages' masking (``None``, a field no form describes, is sensible)."""
    return str(classes.of(schema))


def general_fields(properties: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(name for name, sub in properties.items() if classification(sub) == "general")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(HERMOSILLO).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, (list, dict)):
        return str(value)
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = title[:31] or "Datos"
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render(fmt: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, str, str]:
    """(body, mimetype, file extension) for ``csv`` or ``xlsx``."""
    if fmt == "csv":
        return to_csv(headers, rows), "text/csv; charset=utf-8", "csv"
    return (to_xlsx(title, headers, rows),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
