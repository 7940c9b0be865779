"""The administrator's access report and the inbox search that keeps names out of URLs (issue 11 § 5).
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from engine.store.accounts import AccessLog
from tests.web.conftest import Browser, open_task, start_case


def _login(app, user: str) -> Browser:  # type: ignore[no-untyped-def]
    b = Browser(app)
    assert b.login(user).status_code == 302
    return b


def test_the_admin_lists_openings_with_their_channel_and_every_refusal(app_any, wt_any) -> None:  # type: ignore[no-untyped-def]
    """Before: there was no such page; refusals were written nowhere."""
    iid = start_case(wt_any)
    att = wt_any.add_attachment(wt_any.find_user("ana"), iid, "INE_Maria.pdf", b"%PDF-1.4 acta")
    ana = _login(app_any, "ana")
    ana.get(f"/casos/{iid}")
    ana.get(f"/casos/{iid}/adjuntos/{att.id}")
    ana.get(f"/tareas/{open_task(wt_any, iid, 'valorar_riesgo')}")  # shows the case data: an opening via a task
    token = wt_any.create_token("gerente", "pruebas")
    app_any.test_client().get(f"/api/v1/instances/{iid}", headers={"Authorization": f"Bearer {token}"})
    dora = _login(app_any, "dora")
    assert dora.get(f"/casos/{iid}").status_code == 404
    assert dora.get(f"/casos/{iid}/adjuntos/{att.id}").status_code == 404

    assert _login(app_any, "gerente").get("/administracion/accesos").status_code == 403
    page = _login(app_any, "admin").get("/administracion/accesos")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    refusals = text[text.index('id="rechazos"'):text.index('id="consultas"')]
    assert refusals.count("dora") == 2 and "Abrir expediente" in refusals and "Abrir archivo" in refusals
    openings = text[text.index('id="consultas"'):text.index('id="listas"')]
    for via in ["Página del expediente", "Página de una tarea", "API"]:
        assert via in openings, via
    assert "Archivo consultado" in openings and f"archivo {att.id}" in openings
    assert "INE_Maria" not in text  # a file's name may name the victim
    only = _login(app_any, "admin").get(f"/administracion/accesos?usuario=dora").get_data(as_text=True)
    assert "ana" not in only[only.index('id="rechazos"'):]
    bad = _login(app_any, "admin").get("/administracion/accesos?expediente=uno")
    assert bad.status_code == 422 and "Número de expediente no válido" in bad.get_data(as_text=True)


def test_the_inbox_search_is_posted_and_never_put_in_a_link(app_any, wt_any) -> None:  # type: ignore[no-untyped-def]
    """Before: the filter form used GET, so a searched victim's name was in the URL (and the access log)."""
    for n in range(30):  # enough tasks for two pages
        start_case(wt_any, reference=f"OP-{n:03d}", title="Caso de María Pérez")
    ana = _login(app_any, "ana")
    page = ana.get("/bandeja").get_data(as_text=True)
    form = re.search(r'<form class="filters"[^>]*>', page).group(0)
    assert 'method="post"' in form and "hx-post" in form and "hx-get" not in form
    r = ana.post("/bandeja", {"q": "María Pérez"})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "30 tareas" in text
    links = re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', text)
    assert not [u for u in links if "Mar" in u or "q=" in u], links
    assert 'name="q" value="María Pérez"' in text  # the next page posts the search again
    second = ana.post("/bandeja", {"q": "María Pérez", "page": "2"}).get_data(as_text=True)
    assert "página 2 de 2" in second
    with wt_any.db.read() as s:
        logged = [r.detail for r in s.query(AccessLog).filter_by(action="inbox_search")]
    assert logged == [{"texto": "(texto omitido)"}] * 2


def test_the_case_list_search_is_posted_too(app_any, wt_any) -> None:  # type: ignore[no-untyped-def]
    for n in range(30):
        start_case(wt_any, reference=f"OP-{n:03d}", title="Caso de María Pérez")
    ana = _login(app_any, "ana")
    form = re.search(r'<form class="filters"[^>]*>', ana.get("/casos").get_data(as_text=True)).group(0)
    assert 'method="post"' in form
    text = ana.post("/casos", {"q": "OP-0", "estado": "running"}).get_data(as_text=True)
    assert "30 casos" in text
    links = re.findall(r'(?:href|action)="([^"]*)"', text)
    assert not [u for u in links if "q=" in u], links
    assert "OP-004" in ana.post("/casos", {"q": "OP-0", "page": "2"}).get_data(as_text=True)
