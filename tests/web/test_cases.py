"""Starting a procedure, task pages with their JSON-Schema forms, the case file, attachments and documents."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from engine.run import firing as timers
from engine.store.models import Event
from tests.web.conftest import SOLICITUD, open_task, start_case

VALORACION = {"nivel_riesgo": "alto", "riesgos": ["vida", "integridad"], "numero_agresiones": "3",
              "requiere_refugio": "true", "contactos_emergencia": "662 000 1111\n662 000 2222",
              "valorada_en": "2026-12-01T09:30"}
EMISION = {"tipo_orden": "emergencia", "vigencia_dias": "30", "autoridad_emisora": "Ministerio Público de Hermosillo",
           "lugar": "Hermosillo, Sonora", "agresor_nombre": "Juan Ruiz Gómez"}


def test_processes_page_lists_deployed_procedures(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser("ana").get("/procedimientos").get_data(as_text=True)
    assert "Orden de protección (prueba)" in page and "/procedimientos/orden_prueba/iniciar" in page
    page = browser("disenadora").get("/procedimientos").get_data(as_text=True)
    assert "Orden de protección (prueba)" in page and "/iniciar" not in page


def test_start_page_renders_the_start_form(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser("ana").get("/procedimientos/orden_prueba/iniciar").get_data(as_text=True)
    assert "Registre la solicitud verbal o escrita" in page  # the start event's documentation
    assert 'name="victima_nombre"' in page and 'type="radio" name="solicitante" value="tercero"' in page
    assert "Un tercero (la víctima está en riesgo)" in page
    assert '<textarea id="f-hechos" name="hechos"' in page and 'type="date"' in page


def test_starting_a_case_records_the_institution_and_opens_it(browser, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    b = browser("ana")
    r = b.post("/procedimientos/orden_prueba/iniciar", {**SOLICITUD, "_reference": "OP-77", "_title": "Caso de prueba"})
    assert r.status_code == 302
    instance_id = int(r.headers["Location"].rsplit("/", 1)[1])
    inst = wt.instances()[0]
    assert inst.id == instance_id and inst.reference == "OP-77" and inst.started_by == "ana"
    assert wt.cases.cases(wt.find_user("gerente"))[1] == 1  # the ISM manager sees it: it is ISM's case
    assert wt.cases.cases(wt.find_user("gerente_dif"))[1] == 0
    page = b.get(r.headers["Location"]).get_data(as_text=True)
    assert "Caso iniciado: OP-77." in page and "Valorar el riesgo" in page


def test_start_without_reference_gets_one(browser, wt) -> None:  # type: ignore[no-untyped-def]
    r = browser("ana").post("/procedimientos/orden_prueba/iniciar", SOLICITUD)
    assert r.status_code == 302
    assert re.fullmatch(r"OP-\d{8}-[0-9A-F]{4}", wt.instances()[0].reference)


def test_start_form_errors_are_shown_by_field_with_input_kept(browser, wt) -> None:  # type: ignore[no-untyped-def]
    r = browser("ana").post("/procedimientos/orden_prueba/iniciar",
                            {"victima_nombre": "Al", "victima_telefono": "abc", "hechos": "Relato conservado"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Debe tener al menos 3 caracteres." in page
    assert "Escriba solo números, espacios, + o - (de 7 a 20)." in page
    assert page.count("Este campo es obligatorio.") == 1  # solicitante
    assert 'value="Al"' in page and "Relato conservado</textarea>" in page
    assert wt.instances() == []


def test_task_page_shows_instructions_deadline_and_form(browser, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    wt.complete(open_task(wt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    task_id = open_task(wt, iid, "emitir_orden")
    page = browser("mario").get(f"/tareas/{task_id}").get_data(as_text=True)
    assert "Emitir la orden de protección" in page
    assert "Reglamento art. 43" in page  # the documentation cites the article
    # Deadline: 2 días hábiles from Tuesday 2026-12-01 09:00 Hermosillo -> Thursday 3 December, 23:59.
    assert "jueves 3 de diciembre de 2026, 23:59" in page
    assert "Reglamento art. 42, párrafo segundo" in page and "Ninguno" in page
    assert "2 días hábiles" in page
    assert '<select id="f-tipo_orden"' not in page and 'type="radio" name="tipo_orden"' in page
    assert 'type="number" inputmode="numeric"' in page and 'min="1"' in page and 'max="60"' in page


def test_form_widgets_for_every_kind(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    page = browser("ana").get(f"/tareas/{open_task(wt, iid, 'valorar_riesgo')}").get_data(as_text=True)
    assert '<select id="f-nivel_riesgo"' in page and ">Extremo</option>" in page  # enum + x-enumTitles, >3: select
    assert 'type="checkbox" name="riesgos" value="patrimonio"' in page  # array of enum
    assert 'type="radio" name="requiere_refugio" value="true"' in page  # boolean as Sí / No
    assert '<textarea id="f-contactos_emergencia"' in page and "Un elemento por renglón." in page
    assert 'type="file"' in page and 'type="datetime-local"' in page
    assert 'enctype="multipart/form-data"' in page


def test_completing_a_task_with_every_kind_of_value(browser, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    b = browser("ana")
    pdf = b"%PDF-1.4\n% dictamen\n"
    r = b.post(f"/tareas/{task_id}", {**VALORACION, "dictamen": (io.BytesIO(pdf), "dictamen.pdf")},
               content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    data = wt.instance(iid).data
    assert data["nivel_riesgo"] == "alto" and data["riesgos"] == ["vida", "integridad"]
    assert data["numero_agresiones"] == 3 and data["requiere_refugio"] is True
    assert data["contactos_emergencia"] == ["662 000 1111", "662 000 2222"]
    assert data["valorada_en"] == "2026-12-01T09:30:00-07:00"
    assert data["dictamen"].startswith("adjunto:") and data["dictamen"].endswith(":dictamen.pdf")
    assert [t.name for t in wt.tasks(instance_id=iid)] == ["emitir_orden"]


def test_invalid_task_input_is_shown_next_to_each_field_and_kept(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    wt.complete(open_task(wt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    task_id = open_task(wt, iid, "emitir_orden")
    r = browser("mario").post(f"/tareas/{task_id}", {**EMISION, "vigencia_dias": "90", "autoridad_emisora": "",
                                                     "medidas": "Prohibición de acercarse"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "La vigencia va de 1 a 60 días (LGAMVLV art. 34 Septies)." in page
    assert re.search(r'id="f-autoridad_emisora-error" role="alert">Este campo es obligatorio.', page)
    assert 'value="90"' in page and 'value="Juan Ruiz Gómez"' in page and 'value="emergencia" checked' in page
    assert wt.task(task_id).state == "READY"


def test_non_numeric_input_is_reported_not_lost(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    r = browser("ana").post(f"/tareas/{task_id}", {**VALORACION, "numero_agresiones": "tres"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "El valor no tiene el tipo esperado (número entero)." in page and 'value="tres"' in page


def test_completing_a_task_already_completed_keeps_the_input(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    b = browser("ana")
    page = b.get(f"/tareas/{task_id}").get_data(as_text=True)  # the page is open...
    assert "Completar tarea" in page
    wt.complete(task_id, {"nivel_riesgo": "bajo", "riesgos": ["vida"]}, "ana")  # ...and someone finishes first
    r = b.post(f"/tareas/{task_id}", {**VALORACION, "nivel_riesgo": "extremo"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "Esta tarea ya no se puede completar" in page
    assert '<option value="extremo" selected>' in page  # nothing lost
    assert wt.instance(iid).data["nivel_riesgo"] == "bajo"


def test_a_task_claimed_by_someone_else_cannot_be_completed(browser, wt) -> None:  # type: ignore[no-untyped-def]
    wt.add_user("beto", "contrasena-de-prueba", name="Beto", role="caseworker", institution="ISM",
                groups=["ism_atencion"])
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    wt.claim(task_id, wt.find_user("beto"))
    b = browser("ana")
    assert "Tomada por beto" in b.get(f"/tareas/{task_id}").get_data(as_text=True)
    r = b.post(f"/tareas/{task_id}", VALORACION)
    assert r.status_code == 409 and "Esta tarea ya no se puede completar" in r.get_data(as_text=True)
    assert wt.task(task_id).state == "READY"


def test_case_file_shows_everything_and_audits_the_opening(browser, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    wt.complete(open_task(wt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    page = browser("ana").get(f"/casos/{iid}").get_data(as_text=True)
    assert "OP-2026-001" in page and "Emitir la orden de protección" in page
    assert "María Pérez Soto" in page  # a caseworker sees the victim's data
    assert "Nivel de riesgo" in page and "Alto" in page  # labels and option titles from the forms
    assert "jueves 3 de diciembre de 2026" in page and "Reglamento art. 42, párrafo segundo" in page
    assert "Caso iniciado" in page and "Tarea completada" in page and "Valorar el riesgo" in page
    assert f'data-src="/casos/{iid}/diagrama.json"' in page
    assert "/vendor/bpmn-js/viewer.js" in page and "/static/js/diagram.js" in page
    with wt.db.read() as s:
        opened = s.query(Event).filter_by(instance_id=iid, kind="case_opened").all()
    assert [(e.actor, e.detail["via"]) for e in opened] == [("ana", "web")]


def test_diagram_json_marks_completed_and_current_elements(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    wt.complete(open_task(wt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    view = browser("ana").get(f"/casos/{iid}/diagrama.json").get_json()
    assert view["xml"].startswith("<?xml") and "bpmndi:BPMNDiagram" in view["xml"]
    assert "valorar_riesgo" in view["completed"] and "inicio" in view["completed"]
    assert "emitir_orden" in view["active"]


def test_missed_deadline_shows_as_overdue_and_escalates(browser, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    wt.complete(open_task(wt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    frozen_clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=timezone.utc))
    timers.fire_due(wt.runtime)
    page = browser("mario").get("/bandeja").get_data(as_text=True)
    assert "badge-overdue" in page and "Vencida" in page
    page = browser("ana").get(f"/casos/{iid}").get_data(as_text=True)
    assert "Plazo cumplido (temporizador)" in page and "Revisar el retraso" in page


def test_protection_order_pdf_from_the_real_case_data(real, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Every art. 43 item of the PDF comes from what orden_proteccion.bpmn writes (documento_orden)."""
    from tests.web.conftest import REAL_ISSUE, REAL_REQUEST, REAL_RISK, Browser, build_app

    frozen_clock.set(datetime(2026, 3, 2, 17, 5, tzinfo=timezone.utc))  # 10:05 in Hermosillo
    iid = real.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-PDF-1", institution="FGJE").instance_id
    real.complete(open_task(real, iid, "valorar_riesgo"), REAL_RISK, "mp")
    b = Browser(build_app(real))
    assert b.login("mp").status_code == 302
    assert b.get(f"/casos/{iid}/documentos/orden-proteccion.pdf").status_code == 404  # not issued yet
    assert "Orden de protección (PDF)" not in b.get(f"/casos/{iid}").get_data(as_text=True)
    real.complete(open_task(real, iid, "emitir_orden"), REAL_ISSUE, "mp")
    data = real.instance(iid).data
    assert data["documento_orden"]["folio"] == data["folio_orden"] == "OP-FGJE-2026-000001"
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    assert "Orden de protección (PDF)" in page and "Reglamento art. 43" in page
    r = b.get(f"/casos/{iid}/documentos/orden-proteccion.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    text = " ".join(_pdf_text(r.data).split())
    for expected in ["ORDEN DE PROTECCI", "Folio OP-FGJE-2026-000001",
                     "Fecha de emisión: 02/03/2026", "Hora de emisión: 10:05 horas (hora de Hermosillo)",
                     "Lugar de emisión: Hermosillo, Sonora",
                     "Vigencia: 60 días naturales (del 02/03/2026 al 01/05/2026)",
                     "Persona protegida: María López Valenzuela", "Pedro Ramírez Soto", "Tipo de orden: De emergencia",
                     "Agente del Ministerio Público especializado",
                     "1. Prohibición de acercarse al domicilio de la víctima", "2. Auxilio policiaco de reacción inmediata",
                     "Reglamento arts. 42 y 43; LGAMVLV art. 28."]:
        assert expected in text, expected
    assert "—" not in text and " - " not in text.split("Folio")[1][:200]  # no item left empty
    # A manager of the institution sees the case, but neither the order nor the names in its data.
    g = Browser(build_app(real))
    assert g.login("gerente_fgje").status_code == 302
    page = g.get(f"/casos/{iid}").get_data(as_text=True)
    assert "María López" not in page and "Pedro Ramírez" not in page and "Orden de protección (PDF)" not in page
    assert g.get(f"/casos/{iid}/documentos/orden-proteccion.pdf").status_code == 403


def test_a_denied_order_produces_no_document(real) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import REAL_REQUEST, REAL_RISK

    iid = real.start("orden_proteccion", dict(REAL_REQUEST), "mp", institution="FGJE").instance_id
    real.complete(open_task(real, iid, "valorar_riesgo"), REAL_RISK, "mp")
    real.complete(open_task(real, iid, "emitir_orden"), {"decision_emision": "negar", "motivo_negativa": "Sin riesgo.",
                                                         "fundamentacion": "Reglamento art. 42."}, "mp")
    cf = real.case_file(real.find_user("mp"), iid)
    assert cf.detail.instance.status == "completed" and cf.documents == []


def _pdf_text(data: bytes) -> str:
    import shutil
    import subprocess
    import tempfile

    if shutil.which("pdftotext"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(data)
            f.flush()
            return subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True).stdout
    import zlib

    chunks = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
    out = []
    for c in chunks:
        try:
            out.append(zlib.decompress(c).decode("latin-1"))
        except zlib.error:
            pass
    return " ".join(out)


def test_attachments_upload_limits_and_download(browser, wt, _attachments_dir) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    b = browser("ana")
    r = b.post(f"/casos/{iid}/adjuntos", {"archivo": (io.BytesIO(b"%PDF-1.4 acta"), "acta.pdf")},
               content_type="multipart/form-data")
    assert r.status_code == 303
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    assert "Archivo «acta.pdf» agregado." in page
    [att] = wt.case_file(wt.find_user("ana"), iid).attachments
    assert not _attachments_dir.exists()  # in the database, not on this node's disk
    r = b.get(f"/casos/{iid}/adjuntos/{att.id}")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 acta"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # A disguised executable, a forbidden type and an empty file are refused.
    for name, content, message in [("foto.png", b"MZ\x90\x00", "no corresponde a un PNG"),
                                   ("script.exe", b"MZ", "Tipo de archivo no permitido"),
                                   ("vacio.pdf", b"", "vacío")]:
        r = b.post(f"/casos/{iid}/adjuntos", {"archivo": (io.BytesIO(content), name)},
                   content_type="multipart/form-data", follow_redirects=True)
        assert message in r.get_data(as_text=True), name
    assert len(wt.case_file(wt.find_user("ana"), iid).attachments) == 1


def test_attachment_size_limit(browser, wt, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.casework import attachments

    monkeypatch.setattr(attachments, "MAX_BYTES", 1024)
    iid = start_case(wt)
    r = browser("ana").post(f"/casos/{iid}/adjuntos", {"archivo": (io.BytesIO(b"%PDF-" + b"x" * 2000), "g.pdf")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "excede el tamaño máximo" in r.get_data(as_text=True)


def test_attachments_are_served_only_to_who_may_see_them(browser, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    att = wt.add_attachment(wt.find_user("ana"), iid, "acta.pdf", b"%PDF-1.4 acta")
    url = f"/casos/{iid}/adjuntos/{att.id}"
    assert browser("ana").get(url).status_code == 200
    # Another institution's caseworkers: 404, as for a file that does not exist (issue 11 § 4; was 403).
    assert browser("dora").get(url).status_code == 404  # another institution
    assert browser("mario").get(url).status_code == 404  # holds no task of the case (yet)
    assert browser("gerente").get(url).status_code == 403  # sees the case, not the victim's files
    assert browser("disenadora").get(url).status_code == 403
    assert browser("ana").get(f"/casos/{iid + 1}/adjuntos/{att.id}").status_code == 404
    with wt.db.read() as s:
        kinds = [e.kind for e in s.query(Event).filter_by(instance_id=iid)]
    assert kinds.count("attachment_opened") == 1


def test_attachments_round_trip_through_the_database(app_any, wt_any, _attachments_dir) -> None:  # type: ignore[no-untyped-def]
    """Uploaded through the page, the bytes are a row of ``attachment_contents`` (SQLite BLOB, PostgreSQL
    bytea), byte for byte, so any node on the same database serves them; nothing is written to disk."""
    from engine.store.accounts import AttachmentContent
    from tests.web.conftest import Browser

    iid = start_case(wt_any)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # every byte value, NULs included
    b = Browser(app_any)
    assert b.login("ana").status_code == 302
    r = b.post(f"/casos/{iid}/adjuntos", {"archivo": (io.BytesIO(png), "foto.png")}, content_type="multipart/form-data")
    assert r.status_code == 303
    [att] = wt_any.case_file(wt_any.find_user("ana"), iid).attachments
    assert (att.filename, att.content_type, att.size) == ("foto.png", "image/png", len(png))
    with wt_any.db.read() as s:
        assert bytes(s.get(AttachmentContent, att.id).content) == png
    r = b.get(f"/casos/{iid}/adjuntos/{att.id}")
    assert r.status_code == 200 and r.data == png and r.headers["Content-Type"] == "image/png"
    # Another process on the same database (another node) serves the same bytes.
    from tests.driver import Driver

    other = Driver(wt_any.db.url)
    try:
        meta, content = other.attachment(other.find_user("ana"), att.id, iid)
        assert content == png and meta.sha256 == att.sha256
    finally:
        other.db.dispose()
    # A refused file writes neither a row nor bytes.
    r = b.post(f"/casos/{iid}/adjuntos", {"archivo": (io.BytesIO(b"MZ\x90"), "foto.png")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "no corresponde a un PNG" in r.get_data(as_text=True)
    with wt_any.db.read() as s:
        assert s.query(AttachmentContent).count() == 1
    assert not _attachments_dir.exists()


def test_vendor_assets_are_served_from_node_modules_only_by_name(app) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    assert c.get("/vendor/../package.json").status_code == 404
    assert c.get("/vendor/bpmn-js/package.json").status_code == 404
    r = c.get("/vendor/bpmn-js/viewer.js")
    assert r.status_code in (200, 404)  # 404 only where npm install has not run
    if r.status_code == 200:
        assert b"BpmnJS" in r.data or len(r.data) > 10000


def _risk_assessed(real, reference: str):  # type: ignore[no-untyped-def]
    """A real protection-order case past its risk assessment, and the issuing authority signed in."""
    from tests.web.conftest import REAL_REQUEST, REAL_RISK, Browser, build_app

    iid = real.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference=reference, institution="FGJE").instance_id
    real.complete(open_task(real, iid, "valorar_riesgo"), REAL_RISK, "mp")
    b = Browser(build_app(real))
    b.login("mp")
    return iid, b


def test_task_page_shows_the_case_data_so_far_and_audits_it(real) -> None:  # type: ignore[no-untyped-def]
    """Issuing an order, the authority sees the risk table's recommendation (DMN) next to the form."""
    from tests.web.conftest import REAL_REQUEST, Browser, build_app

    iid, b = _risk_assessed(real, "OP-DMN")
    page = b.get(f"/tareas/{open_task(real, iid, 'emitir_orden')}").get_data(as_text=True)
    assert 'id="datos-caso"' in page and "Reglamento art. 42, fracción I: riesgo de perder la vida" in page
    assert "Obligatorio si «Decisión» es «Otorgar la orden»." in page
    datos = page[page.index('id="datos-caso"'):]
    victim = datos[:datos.index(REAL_REQUEST["nombre_victima"])]  # the name's label, just before it, is tagged
    assert victim.rindex("<dt>") < victim.rindex('class="tag tag-private"')
    assert "Tipo de orden recomendado</dt><dd>De emergencia" in datos
    assert '<p class="muted">Ciclo de vida de la orden de protección · ' in page  # the name, not the key
    assert "Grupo: Agente del Ministerio Público o autoridad emisora de órdenes de protección" in page
    with real.db.read() as s:
        opened = s.query(Event).filter_by(instance_id=iid, kind="case_opened").one()
    assert opened.actor == "mp" and opened.detail["via"] == "tarea"
    # Another institution's caseworker, who cannot see the case, is refused the task page altogether.
    other = Browser(build_app(real))
    other.login("ism")
    assert other.get(f"/tareas/{open_task(real, iid, 'emitir_orden')}").status_code == 403


def test_the_history_shows_data_as_the_forms_name_them(real) -> None:  # type: ignore[no-untyped-def]
    """The timeline's data changes read like the case data: option titles and Sí/No, not stored codes."""
    iid, b = _risk_assessed(real, "OP-HIST")
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    history = page[page.index('id="historial"'):]
    assert "<dt>¿Quién solicita?</dt><dd>La persona afectada</dd>" in history
    assert "<dt>¿Riesgo de perder la vida?</dt><dd>Sí</dd>" in history
    assert "<dd>true</dd>" not in history and "<dd>victima</dd>" not in history
    assert "— mp (Personal operativo)" in history  # who opened the file, with the role's Spanish name


def test_rectifying_a_name_from_the_case_page(real) -> None:  # type: ignore[no-untyped-def]
    """Item 22: the caseworker holding the case corrects a wrong name with its reason; both values are kept."""
    from tests.web.conftest import REAL_REQUEST

    iid, b = _risk_assessed(real, "OP-RECT")
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    assert "Rectificar un nombre o una fecha" in page and 'name="campo"' in page
    # No reason: refused next to the field, nothing written.
    r = b.post(f"/casos/{iid}/rectificar", {"campo": "nombre_victima", "valor": "María Pérez Soto", "motivo": ""})
    assert r.status_code == 422
    assert "Escriba el motivo de la rectificación" in r.get_data(as_text=True)
    with real.db.read() as s:
        assert not s.query(Event).filter_by(instance_id=iid, kind="data_rectified").count()
    r = b.post(f"/casos/{iid}/rectificar", {"campo": "nombre_victima", "valor": "María Pérez Soto",
                                            "motivo": "La credencial de elector dice Soto, no Sota."})
    assert r.status_code == 303
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    history = page[page.index('id="historial"'):]
    assert "Dato rectificado" in history and "La credencial de elector dice Soto" in history
    assert f"antes: {REAL_REQUEST['nombre_victima']}; ahora: María Pérez Soto" in history
    with real.db.read() as s:
        event = s.query(Event).filter_by(instance_id=iid, kind="data_rectified").one()
    assert event.actor == "mp" and event.detail["before"] == {"nombre_victima": REAL_REQUEST["nombre_victima"]}
    # A manager sees the case but may not rectify it.
    from tests.web.conftest import Browser, build_app

    boss = Browser(build_app(real))
    boss.login("gerente_fgje")
    assert "Rectificar un nombre o una fecha" not in boss.get(f"/casos/{iid}").get_data(as_text=True)
    assert boss.post(f"/casos/{iid}/rectificar", {"campo": "nombre_victima", "valor": "X", "motivo": "Y"}
                     ).status_code == 403


def test_the_art_40_term_shows_under_plazos_and_money_and_dates_read_as_people_write_them(
        real, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Item 23: while the case waits for the reform, the 90-day term of art. 40 is under Plazos."""
    from tests.procedures.conftest import Case, hmo
    from tests.procedures.test_agravio import hasta_remision
    from tests.web.conftest import Browser, build_app

    def start(t, key, data, at):  # type: ignore[no-untyped-def]
        frozen_clock.set(hmo(at))
        return Case(t, frozen_clock, t.start(key, data, "ism", institution="ISM").instance_id, key)

    c = hasta_remision(real, start, "2026-05-18")
    b = Browser(build_app(real))
    b.login("ism")
    page = b.get(f"/casos/{c.id}").get_data(as_text=True)
    plazos = page[page.index('id="plazos"'):page.index('id="datos"')]
    # Received Monday 18 May 2026: 90 natural days -> Sunday 16 August -> Monday 17 August (LFPA art. 29).
    assert "Noventa días naturales sin reforma" in plazos and "Reglamento art. 40" in plazos
    assert "17 de agosto de 2026" in plazos
    datos = page[page.index('id="datos"'):page.index('id="documentos"')]
    assert "18 de mayo de 2026" in datos and "2026-05-18" not in datos


def test_managers_are_warned_from_january_that_next_years_uma_is_missing(real, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Item 18: parameters.toml holds the UMA up to 2027-01-31; from 1 January 2027 the 2027 value is due."""
    from tests.procedures.conftest import hmo
    from tests.web.conftest import Browser, build_app

    boss = Browser(build_app(real))
    boss.login("gerente_fgje")
    frozen_clock.set(hmo("2026-12-31T12:00:00"))
    assert "Falta el valor de la UMA" not in boss.get("/casos").get_data(as_text=True)
    frozen_clock.set(hmo("2027-01-02T09:00:00"))
    boss.login("gerente_fgje")  # a session lasts at most 12 hours
    page = boss.get("/casos").get_data(as_text=True)
    assert "Falta el valor de la UMA del periodo 2027-02-01 al 2028-01-31" in page and "[uma.periodos]" in page
    worker = Browser(build_app(real))
    worker.login("mp")
    assert "Falta el valor de la UMA" not in worker.get("/casos").get_data(as_text=True)
