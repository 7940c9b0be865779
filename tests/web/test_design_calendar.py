"""The calendar editor's pages: who may use them, a change refused with the message next to its field
(nothing changed), the impact preview, four-eyes approval and the recount shown on the page."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import PASSWORD

SOURCE = "Acuerdo de vacaciones de invierno, Boletín Oficial del Gobierno del Estado de Sonora, número 45, " \
         "3 de diciembre de 2026 (acuerdo de prueba)"
VACATION = {"action": "agregar", "kind": "vacaciones", "first": "2026-12-21", "last": "2027-01-01",
            "reason": "Vacaciones de invierno", "source": SOURCE}


def _second_designer(wt: Any) -> None:
    wt.add_user("revisora", PASSWORD, name="Revisora", role="legal_designer", institution="ISM")


def test_only_legal_designers_see_the_calendar_editor(browser: Any) -> None:
    assert browser("ana").get("/diseno/calendario").status_code == 403
    assert browser("gerente").get("/diseno/calendario").status_code == 403
    page = browser("disenadora").get("/diseno/calendario")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Calendario legal" in text and "Día de Muertos" in text and "Editar el calendario: nuevo borrador" in text
    assert 'href="/diseno/calendario"' in browser("disenadora").get("/diseno").get_data(as_text=True)


def test_a_change_without_its_source_is_refused_next_to_the_field(browser: Any) -> None:
    b = browser("disenadora")
    r = b.post("/diseno/calendario/borrador")
    assert r.status_code == 302
    url = r.headers["Location"]
    r = b.post(url + "/cambios", {**VACATION, "source": "  "})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert 'id="source-error"' in text and "Falta la fuente: cite el acuerdo publicado" in text
    assert 'value="Vacaciones de invierno"' in text  # what she typed is kept
    assert "Todavía no hay cambios." in text  # nothing changed
    r = b.post(url + "/cambios", {**VACATION, "reason": ""})
    assert r.status_code == 422 and "Falta el motivo" in r.get_data(as_text=True)
    r = b.post(url + "/cambios", {**VACATION, "first": "21/12/2026"})
    assert r.status_code == 422 and "La fecha inicial no es válida: escríbala como AAAA-MM-DD." in r.get_data(as_text=True)


def test_draft_impact_approval_and_recount_pages(browser: Any, wt: Any) -> None:
    _second_designer(wt)
    author = browser("disenadora")
    url = author.post("/diseno/calendario/borrador").headers["Location"]
    assert author.post(url + "/cambios", VACATION).status_code == 302
    page = author.get(url).get_data(as_text=True)
    assert "Se agrega: periodo vacacional del 21/12/2026 al 01/01/2027 — Vacaciones de invierno" in page
    assert "Impacto antes de aprobar" in page and "Ningún plazo en curso cambia con este borrador." in page
    r = author.post(url + "/enviar", {"change_note": ""})
    assert r.status_code == 422 and 'id="note-error"' in r.get_data(as_text=True)
    assert author.post(url + "/enviar", {"change_note": "Vacaciones de invierno 2026"}).status_code == 302
    assert "Aprobar y desplegar el calendario" not in author.get(url).get_data(as_text=True)
    assert author.post(url + "/aprobar", {"comment": "yo"}).status_code == 403  # never the author

    reviewer = browser("revisora")
    assert "Borradores del calendario en espera de su aprobación" in reviewer.get("/diseno/calendario").get_data(as_text=True)
    r = reviewer.post(url + "/rechazar", {"comment": ""})
    assert r.status_code == 422 and 'id="review-error"' in r.get_data(as_text=True)
    r = reviewer.post(url + "/aprobar", {"comment": "Conforme con el Boletín"})
    assert r.status_code == 302 and r.headers["Location"].endswith("#recuento")
    page = reviewer.get(url).get_data(as_text=True)
    assert "la versión 1 del calendario está desplegada" in page
    assert "Ningún plazo en curso cambia con esta versión" in page
    r = reviewer.post(url + "/recuento", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="recuento-estado"' in r.get_data(as_text=True)
    assert wt.runtime.calendar()[0] == 1
    assert not wt.runtime.calendar()[1].is_business_day("2026-12-22")


def test_the_editor_speaks_english_too(browser: Any) -> None:
    b = browser("disenadora")
    b.client.set_cookie("tramita_lang", "en")
    text = b.get("/diseno/calendario").get_data(as_text=True)
    assert "Legal calendar" in text and "Edit the calendar: new draft" in text
    url = b.post("/diseno/calendario/borrador").headers["Location"]
    text = b.get(url).get_data(as_text=True)
    assert "Add or remove non-working days" in text and "Source: the published decree" in text
