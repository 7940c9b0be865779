"""Bounds of the page numbers lists accept.

A page number is a user's number that ends up in SQL's ``OFFSET``: an unbounded one
(``page=99999999999999999999``) overflows the database driver. Every list refuses a number
out of range with a message, before any query runs.
"""

from __future__ import annotations

from typing import Any

from engine.errors import BadParameter

MAX_PAGE = 100_000
MAX_PER_PAGE = 100


def bounded(value: Any, name: str, top: int) -> int:
    """``value`` if it is a whole number from 1 to ``top``; else :class:`BadParameter` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise BadParameter(f"«{name}» debe ser un número entero entre 1 y {top:,}.".replace(",", " "), field=name)
    return value


def page_bounds(page: Any, per_page: Any) -> tuple[int, int]:
    return bounded(page, "page", MAX_PAGE), bounded(per_page, "per_page", MAX_PER_PAGE)
