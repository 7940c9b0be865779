"""Sign-in, lockout, CSRF, language, security headers and the ``tramita users`` command."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.casework import people as accounts
from engine.time import clock
from engine.store.accounts import User
from tests.web.conftest import PASSWORD, REAL_WORKFLOWS, Browser


def test_sign_in_lands_each_role_on_its_home(browser) -> None:  # type: ignore[no-untyped-def]
    homes = {"ana": "/bandeja", "gerente": "/casos", "admin": "/casos", "disenadora": "/procedimientos"}
    for username, home in homes.items():
        b = browser()
        r = b.login(username)
        assert r.status_code == 302 and r.headers["Location"] == home
        assert b.get("/").headers["Location"] == home


def test_wrong_password_is_refused_in_spanish(browser) -> None:  # type: ignore[no-untyped-def]
    b = browser()
    r = b.login("ana", "equivocada-123")
    assert r.status_code == 401
    assert "Usuario o contraseña incorrectos." in r.get_data(as_text=True)
    r = b.login("nadie", "equivocada-123")
    assert r.status_code == 401
    assert "Usuario o contraseña incorrectos." in r.get_data(as_text=True)


def test_five_failures_lock_the_name_for_fifteen_minutes_known_or_not(browser, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Changed by issue 11 § 4: the lock is Flask-Limiter's, per name typed, so an unknown name locks too, with
    the same answer (before: a known name answered 429 at the 5th failure, an unknown one never locked)."""
    answers = {}
    for name in ["ana", "nadie"]:
        b = browser()
        for _ in range(5):
            assert b.login(name, "equivocada-123").status_code == 401, name
        r = b.login(name, "equivocada-123")
        assert r.status_code == 429 and "Demasiados intentos fallidos" in r.get_data(as_text=True), name
        answers[name] = re.sub(r'name="csrf_token" value="[^"]+"', "", r.get_data(as_text=True).replace(name, "NOMBRE"))
        assert b.login(name).status_code == 429  # even the right password, while locked
    assert answers["ana"] == answers["nadie"]
    # Moving window: the five failures were at one instant; 15 minutes later none is counted.
    frozen_clock.advance(timedelta(minutes=15, seconds=1))
    assert browser().login("ana").status_code == 302


def test_successes_do_not_count_and_a_new_password_lifts_the_lock(browser, wt) -> None:  # type: ignore[no-untyped-def]
    b = browser()
    for _ in range(4):
        b.login("ana", "equivocada-123")
    for _ in range(3):
        assert browser().login("ana").status_code == 302
    assert b.login("ana", "equivocada-123").status_code == 401  # the fifth failure
    assert b.login("ana").status_code == 429
    wt.set_password("ana", "otra-contrasena-larga")
    assert browser().login("ana", "otra-contrasena-larga").status_code == 302


def test_disabled_user_cannot_sign_in_and_is_signed_out(browser, wt) -> None:  # type: ignore[no-untyped-def]
    b = browser("ana")
    wt.set_user_active("ana", False)
    assert b.get("/bandeja").status_code == 302  # the session no longer loads a user
    assert browser().login("ana").status_code == 401


def test_post_without_csrf_token_is_refused(browser, app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    r = b.client.post("/entrar", data={"username": "ana", "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    b = browser("ana")
    for url in ["/salir", "/procedimientos/orden_prueba/iniciar", "/tareas/x/tomar", "/tareas/x/liberar",
                "/casos/1/adjuntos", "/tareas/x"]:
        assert b.client.post(url, data={}).status_code == 400, url


def test_sign_out_needs_post_and_ends_the_session(browser) -> None:  # type: ignore[no-untyped-def]
    b = browser("ana")
    assert b.get("/salir").status_code == 405
    r = b.post("/salir")
    assert r.status_code == 302 and r.headers["Location"] == "/entrar"
    assert b.get("/bandeja").status_code == 302


def test_pages_need_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    for url in ["/", "/bandeja", "/casos", "/casos/1", "/procedimientos", "/tareas/x"]:
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/entrar"), url


def test_next_parameter_only_goes_to_this_site(browser) -> None:  # type: ignore[no-untyped-def]
    b = browser()
    r = b.client.post("/entrar?next=https://evil.example/", data={"username": "ana", "password": PASSWORD,
                                                                  "csrf_token": b.token()})
    assert r.headers["Location"] == "/bandeja"
    b = browser()
    r = b.client.post("/entrar?next=/casos", data={"username": "ana", "password": PASSWORD, "csrf_token": b.token()})
    assert r.headers["Location"] == "/casos"


def test_language_is_spanish_by_default_and_english_selectable(browser) -> None:  # type: ignore[no-untyped-def]
    b = browser("ana")
    page = b.get("/bandeja").get_data(as_text=True)
    assert 'lang="es-MX"' in page and "Mi bandeja" in page
    r = b.get("/idioma/en?next=/bandeja")
    assert r.headers["Location"] == "/bandeja"
    page = b.get("/bandeja").get_data(as_text=True)
    assert 'lang="en"' in page and "My inbox" in page
    assert b.get("/idioma/en?next=//evil.example").headers["Location"] == "/"


def test_security_headers_and_cookie_flags(browser, app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    r = b.get("/entrar")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    r = b.login("ana")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)


def test_secure_cookies_by_default(wt) -> None:  # type: ignore[no-untyped-def]
    from web import create_app

    app = create_app({"TRAMITA": wt, "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_app_signs_with_the_installations_key_from_the_database(wt, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine import config
    from web import create_app

    monkeypatch.delenv("TRAMITA_SECRET_KEY", raising=False)
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setattr(config, "VAR_DIR", var)
    first = create_app({"TRAMITA": wt}).config["SECRET_KEY"]
    assert len(first) == 64 and create_app({"TRAMITA": wt}).config["SECRET_KEY"] == first == wt.secret_key()
    assert list(var.iterdir()) == []  # nothing written under var/
    monkeypatch.setenv("TRAMITA_SECRET_KEY", "clave-de-la-instalacion")
    assert create_app({"TRAMITA": wt}).config["SECRET_KEY"] == "clave-de-la-instalacion"


def test_users_command_adds_lists_and_disables(sqlite_url, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine.cli import main

    monkeypatch.setenv("TRAMITA_DATABASE_URL", sqlite_url)
    assert main(["users", "add", "lucia", "--role", "caseworker", "--institution", "DIF", "--group", "dif_atencion",
                 "--password", "una-clave-larga", "--name", "Lucía"]) == 0
    assert main(["users", "add", "lucia", "--role", "caseworker", "--institution", "DIF",
                 "--password", "una-clave-larga"]) == 2
    assert main(["users", "add", "corta", "--role", "caseworker", "--institution", "DIF", "--password", "x"]) == 2
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "lucia" in out and "dif_atencion" in out
    assert main(["users", "disable", "lucia"]) == 0
    assert main(["users", "list", "--json"]) == 0
    assert '"active": false' in capsys.readouterr().out
    assert main(["users", "disable", "nadie"]) == 2


def test_passwords_are_stored_as_argon2_hashes(wt) -> None:  # type: ignore[no-untyped-def]
    with wt.db.read() as s:
        stored = s.query(User).filter_by(username="ana").one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate(wt.db, "ana", PASSWORD).user is not None


def test_demo_users_one_per_role_and_institution_idempotent(wt) -> None:  # type: ignore[no-untyped-def]
    from web import demo

    users = demo.ensure(wt, REAL_WORKFLOWS)
    again = demo.ensure(wt, REAL_WORKFLOWS)
    assert users == again
    insts = demo.institutions(REAL_WORKFLOWS)
    roles = {(u.role, u.institution) for u in wt.users() if "." in u.username}
    assert {(r, i.code) for r in ("caseworker", "manager") for i in insts} <= roles
    assert ("legal_designer", "ISM") in roles and ("admin", "ISM") in roles
    # Groups come from lanes.toml's [groups.*] institution field, not from lane names.
    fgje = wt.find_user("operativo.fgje")
    assert fgje.institution == "FGJE"
    assert set(fgje.groups) == {"autoridad_emisora_orden", "victima_solicitante"}
    assert wt.find_user("operativo.ism").groups == ("instituto",)
    assert wt.find_user("operativo.policia").groups == ("policia",)
    assert accounts.authenticate(wt.db, "operativo.ism", demo.PASSWORD).user is not None


def test_every_lane_of_the_three_procedures_has_a_demo_user(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from web import demo

    users = demo.demo_users(demo.institutions(REAL_WORKFLOWS))
    lanes = demo.coverage(REAL_WORKFLOWS, users)
    assert {lane.process for lane in lanes} == {"agravio", "auxilio_policial", "orden_proteccion", "sancion"}
    assert demo.uncovered(lanes) == []
    who = {(lane.process, lane.group): lane.users for lane in lanes}
    assert who[("orden_proteccion", "autoridad_emisora_orden")] == ("operativo.fgje",)
    assert who[("agravio", "instituto")] == ("operativo.ism",)
    assert who[("agravio", "sistema_estatal")] == ("operativo.segob",)
    assert who[("sancion", "autoridad_sancionadora")] == ("operativo.autoridad-sancionadora",)
    assert who[("auxilio_policial", "policia")] == who[("orden_proteccion", "policia")]  # Reglamento art. 44
    # A lane whose group belongs to no institution of [groups.*] is reported.
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "p.bpmn").write_text(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">'
        '<bpmn:laneSet><bpmn:lane id="a" name="A"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane>'
        '<bpmn:lane id="b" name="B"/></bpmn:laneSet><bpmn:userTask id="t"/></bpmn:process></bpmn:definitions>')
    (tmp_path / "lanes.toml").write_text('[lanes]\n"A" = "ga"\n"B" = "gb"\n[groups.ga]\ninstitution = "X"\n')
    lanes = demo.coverage(tmp_path, demo.demo_users(demo.institutions(tmp_path)))
    assert [(lane.lane, lane.group) for lane in demo.uncovered(lanes)] == [("B", "gb")]
    assert [lane.steps for lane in lanes] == [("t",), ()]
