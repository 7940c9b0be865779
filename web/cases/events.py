"""Registering the external events a case waits for (BPMN messages) from the case file or the API.

What each event is called, what the person is asked and what it sets off are legal wording kept in
``workflows/eventos.toml`` (``engine.deploy.eventos``); this module reads the form or the API body,
checks the date and builds the message's payload.

A case waits at a receive task for something that happens outside Tramita: a reported
violation of a protection order (``violacion_orden``, Reglamento arts. 23 IV, 28 and 44),
the end of the state of risk that starts the victim's ratification term
(``fin_estado_riesgo``, art. 41) or the amendment of the norm that caused an agravio
(``norma_reformada``, arts. 39-40). Registering one sends the message with a payload
of what happened and when::

    {"descripcion": "...", "fecha": "2026-03-02T10:00:00-07:00"}

plus the key each diagram reads for its date (``fin_estado_riesgo`` -> ``fecha_cese``,
the start of the five natural days). Dates are Hermosillo wall time (UTC-7 all year).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from engine.services.terms import HERMOSILLO

MAX_DESCRIPTION = 4000
FUTURE_SLACK = timedelta(minutes=5)  # clocks of the caseworker's computer and the server differ a little


def texts(kind: Any) -> Any:
    """The kind's texts in the page's language (``workflows/eventos.toml``), or ``None``."""
    if kind is None:
        return None
    locale = get_locale()
    return kind.text(locale.language if locale else "es")


def label(kind: Any, name: str, title: str | None = None) -> str:
    """What the person does, e.g. «Reportar violación de la orden de protección» (else the element's title)."""
    found = texts(kind)
    return found.accion if found else (title or name)


def local_input(instant: datetime) -> str:
    """An instant as an HTML datetime-local value in Hermosillo time."""
    return instant.astimezone(HERMOSILLO).strftime("%Y-%m-%dT%H:%M")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_when(text: str) -> datetime | None:
    """A datetime-local value (Hermosillo wall time) or an ISO 8601 date-time with offset; None if it is neither."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    if len(text.strip()) <= 10:  # a bare date: the time matters for the terms it starts
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=HERMOSILLO)


def check(description: str, when: datetime | None, *, started_at: datetime | None, now: datetime,
          date_field: str = "fecha") -> dict[str, str]:
    """The errors of a registered event, by field (Spanish)."""
    errors: dict[str, str] = {}
    if not description.strip():
        errors["descripcion"] = _("Describa lo ocurrido.")
    elif len(description) > MAX_DESCRIPTION:
        errors["descripcion"] = _("Máximo %(n)s caracteres.", n=MAX_DESCRIPTION)
    if when is None:
        errors[date_field] = _("Indique la fecha y la hora (hora de Hermosillo).")
    elif when > now + FUTURE_SLACK:
        errors[date_field] = _("La fecha no puede ser posterior al momento actual.")
    elif started_at is not None and when < _aware(started_at).replace(second=0, microsecond=0):
        from web.i18n import fecha

        errors[date_field] = _("La fecha no puede ser anterior al inicio del expediente (%(d)s).",
                               d=fecha(_aware(started_at)))
    return errors


def payload(kind: Any, description: str, when: datetime) -> dict[str, Any]:
    """The message payload: the description and the date under every key the diagram reads."""
    iso = when.astimezone(HERMOSILLO).isoformat(timespec="seconds")
    body: dict[str, Any] = {"descripcion": description.strip()}
    for key in kind.claves_fecha if kind else ("fecha",):
        body[key] = iso
    return body


def from_form(kind: Any, form: Any, *, started_at: datetime | None, now: datetime
              ) -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """(payload or None, typed values to show again, errors by field) from the case page's form."""
    values = {"descripcion": form.get("descripcion", ""), "fecha": form.get("fecha", "")}
    when = parse_when(values["fecha"]) if values["fecha"] else None
    errors = check(values["descripcion"], when, started_at=started_at, now=now)
    if values["fecha"] and when is None:
        errors["fecha"] = _("Fecha y hora no válidas: use el formato AAAA-MM-DD HH:MM (hora de Hermosillo).")
    if errors or when is None:
        return None, values, errors
    return payload(kind, values["descripcion"], when), values, {}


def from_api(kind: Any, body: Any, *, started_at: datetime | None, now: datetime
             ) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(payload, errors by field) from an API payload.

    For the events this module knows, ``descripcion`` and a date (``fecha`` or one of the
    keys the diagram reads) are required and checked like on the page, and the date is
    copied to every key the diagram reads; other keys pass through. Other messages pass
    through as sent.
    """
    if kind is None:
        return dict(body), {}
    errors: dict[str, str] = {}
    description = body.get("descripcion")
    if description is not None and not isinstance(description, str):
        errors["payload.descripcion"] = _("Debe ser texto.")
        description = ""
    given = next((k for k in ("fecha", *kind.claves_fecha) if body.get(k) not in (None, "")), "fecha")
    raw = body.get(given)
    when = parse_when(raw) if isinstance(raw, str) else None
    found = check(description or "", when, started_at=started_at, now=now, date_field=given)
    if raw not in (None, "") and when is None:
        found[given] = _("Fecha y hora ISO 8601 no válida, p. ej. 2026-03-02T10:00:00-07:00.")
    errors.update({f"payload.{k}": v for k, v in found.items()})
    if errors or when is None:
        return None, errors
    return {**body, **payload(kind, description or "", when)}, {}
