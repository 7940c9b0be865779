"""Every state and event kind the engine stores has a Spanish label and an English one, and the case history
shows the label, never the identifier the engine writes."""

from __future__ import annotations

import html
import re
from typing import Any

from engine.store.models import Event
from engine.store.states import EventKind, InstanceStatus, TaskState, TimerStatus
from engine.time import clock
from tests.web.conftest import start_case
from web import views


def _labels(app: Any, lang: str) -> dict[str, str]:
    with app.test_request_context(headers={"Cookie": f"tramita_lang={lang}"}):
        return {**{f"event:{k}": str(v) for k, v in views.EVENT_LABELS.items()},
                **{f"status:{k}": str(v) for k, v in views.STATUS_LABELS.items()}}


def test_every_kind_and_state_has_a_spanish_and_an_english_label(app) -> None:  # type: ignore[no-untyped-def]
    missing = [f"event kind {k}" for k in EventKind if k not in views.EVENT_LABELS]
    missing += [f"{type(v).__name__} {v}" for e in (InstanceStatus, TaskState, TimerStatus) for v in e
                if v not in views.STATUS_LABELS]
    assert not missing, f"no label for: {missing} (web/views.py)"
    spanish, english = _labels(app, "es_MX"), _labels(app, "en")
    untranslated = [f"{key} «{spanish[key]}»" for key in spanish if english[key] == spanish[key] or not english[key]]
    assert not untranslated, f"no English in web/translations/en/LC_MESSAGES/messages.po for: {untranslated}"
    assert spanish["event:term_suspended"] == "Plazo suspendido" and english["event:term_suspended"] == "Term suspended"
    assert spanish["event:case_started"] == "Caso relacionado iniciado"
    assert english["status:READY"] == "open" and spanish["status:running"] == "En trámite"
    # Labels are for people: none of them is the identifier it labels.
    assert not [k for lang in (spanish, english) for k, v in lang.items() if "_" in v or v == k.split(":")[1]]


def _history(page: str) -> str:
    """The visible text of the case history section."""
    section = page[page.index('id="historial"'):]
    section = section[:section.index("</section>")]
    return html.unescape(re.sub(r"<[^>]+>", " ", section))


def test_the_case_history_shows_every_kind_by_its_label_in_the_chosen_language(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    with wt.db.write() as s:  # one event of every kind, as the engine writes them
        for kind in EventKind:
            s.add(Event(instance_id=iid, task_id=None, at=clock.now(), actor="system", kind=kind, detail={}))
    b = browser("ana")
    text = _history(b.get(f"/casos/{iid}").get_data(as_text=True))
    shown = [k for k in EventKind if k != EventKind.CASE_OPENED]  # openings have their own list
    assert [k for k in shown if str(views.EVENT_LABELS[k]) not in text] == []
    assert "Plazo suspendido" in text and "Vencimiento fijado de nuevo" in text and "Caso relacionado iniciado" in text
    assert [k.value for k in EventKind if k.value in text] == [], "a raw event id reached the page"
    b.client.set_cookie("tramita_lang", "en")
    text = _history(b.get(f"/casos/{iid}").get_data(as_text=True))
    assert "Term suspended" in text and "Related case started" in text and "Related case not started" in text
    assert "Plazo suspendido" not in text
    assert [k.value for k in EventKind if k.value in text] == []


def test_an_unknown_kind_in_old_rows_is_shown_generically(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert views.event_label("retired_kind") == "Otro evento"
        assert views.status_label("WAITING") == "Otro estado"
        assert views.event_label("case_started") == "Caso relacionado iniciado"
