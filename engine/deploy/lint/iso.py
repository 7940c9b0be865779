"""ISO 8601 timer literals (PT1H, P7D, R6/P1D, 2027-01-04T09:00:00-07:00), as every BPMN engine reads them.

SpiffWorkflow evaluates a timer's text as a Python expression, so a bare ``PT1H`` would be a name
that fails in every instance. A text that is an ISO 8601 literal is quoted at deploy instead.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from engine.deploy.lint.model import BPMN

_DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
DURATION = re.compile(rf"^{_DURATION}$")
DATETIME = re.compile(rf"^{_DATETIME}$")
CYCLE = re.compile(rf"^R(\d*)/(({_DATETIME})/)?{_DURATION}(/{_DATETIME})?$")
TIMER_TAGS = (BPMN + "timeDate", BPMN + "timeDuration", BPMN + "timeCycle")


def literal_kind(text: str) -> str | None:
    """'duration', 'date' or 'cycle' when ``text`` is a bare ISO 8601 literal; None otherwise."""
    text = text.strip()
    if DURATION.match(text):
        return "duration"
    if DATETIME.match(text):
        return "date"
    if CYCLE.match(text):
        return "cycle"
    return None


def literal_problem(text: str, tag: str) -> str | None:
    """Why an ISO literal cannot serve as this kind of timer (Spanish), or None."""
    kind = literal_kind(text)
    wanted = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}[tag]
    if kind != wanted and not (wanted == "date" and kind == "date"):
        names = {"date": "una fecha", "duration": "una duración", "cycle": "un ciclo"}
        return (f"«{text}» es {names.get(kind or '', 'otro valor')} y el temporizador espera {names[wanted]}: "
                "cambie el tipo del temporizador o el valor.")
    if kind == "date":
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return f"«{text}» no es una fecha ISO 8601 válida: escríbala como 2027-01-04T09:00:00-07:00."
        if parsed.tzinfo is None:
            return (f"«{text}» no dice su desfase horario: agregue -07:00 (hora de Hermosillo) para que el "
                    "plazo no dependa del reloj del servidor.")
    if kind == "cycle":
        start = CYCLE.match(text.strip()).group(3)  # type: ignore[union-attr]
        if start and "T" in start and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", start):
            return f"el inicio del ciclo «{start}» no dice su desfase horario: agregue -07:00."
    return None


def quote_literals(root: etree._Element) -> None:
    """Turn every bare ISO 8601 timer literal into the Python string the engine evaluates."""
    for tag in TIMER_TAGS:
        for node in root.iter(tag):
            text = (node.text or "").strip()
            if text and literal_kind(text):
                node.text = repr(text)
