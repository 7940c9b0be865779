"""Languages and dates: es-MX by default, English selectable; every date shown in Hermosillo time."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel, format_date, format_datetime, get_locale

from engine.services.terms import HERMOSILLO, to_local

LANGUAGES = {"es_MX": "Español", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
COOKIE = "tramita_lang"


def select_locale() -> str:
    lang = request.cookies.get(COOKIE)
    return lang if lang in LANGUAGES else "es_MX"


def compile_catalogs() -> None:
    """Compile ``messages.po`` to ``.mo`` when missing or older (``.mo`` files are build products)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo)


def local(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.astimezone(HERMOSILLO) if value.tzinfo else value.replace(tzinfo=HERMOSILLO)
    return to_local(value)


def fecha(value: Any, style: str = "dd/MM/yyyy HH:mm") -> str:
    """A date-time in Hermosillo time, e.g. 01/12/2026 09:00."""
    if value in (None, ""):
        return "—"
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, "dd/MM/yyyy")
    if isinstance(value, str) and len(value) == 10:
        return format_date(date.fromisoformat(value), "dd/MM/yyyy")
    return format_datetime(local(value), style)


def fecha_larga(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str) and len(value) == 10:
        return format_date(date.fromisoformat(value), "full")
    return format_datetime(local(value), "EEEE d 'de' MMMM 'de' yyyy, HH:mm" if str(get_locale()).startswith("es")
                           else "EEEE, MMMM d, yyyy, HH:mm")


def init_app(app: Flask) -> None:
    try:
        compile_catalogs()
    except OSError:  # a read-only install ships its .mo files
        pass
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["fecha"] = fecha
    app.jinja_env.filters["fecha_larga"] = fecha_larga
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.add_extension("jinja2.ext.do")
