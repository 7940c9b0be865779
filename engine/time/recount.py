"""A term counted again on another calendar, from its own stored explanation.

When the legal calendar changes (a vacation declared, a day restored), the running terms counted in
days across the changed days end on another day. Their explanation (start, unit, count, rule,
article) is all that is needed to count them again; terms in hours or months do not depend on the
calendar, and a due date a person fixed by hand keeps what that person decided.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.time.calendar import LegalCalendar
from engine.time.deadline import RULE_NATURAL_FIXED, Deadline


def recompute(explanation: Mapping[str, Any], calendar: LegalCalendar) -> Deadline | None:
    """The same term counted on ``calendar``; ``None`` for terms no calendar moves (hours, months)."""
    unit, count, start = explanation.get("unit"), explanation.get("count"), explanation.get("start")
    if not isinstance(count, int) or not isinstance(start, str) or "rearmed" in explanation:
        return None  # a due date fixed by hand keeps what the person decided
    citation = explanation.get("citation")
    if unit == "business":
        return calendar.business_days(start, count, citation=citation)
    if unit == "natural":
        return calendar.natural_days(start, count, citation=citation,
                                     move_if_inhabil=explanation.get("rule") != RULE_NATURAL_FIXED)
    return None
