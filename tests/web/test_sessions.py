"""Sessions that end on the server and sign-in throttling that reveals nothing (issue 11 § 4).

SQLite and PostgreSQL: the sessions and the throttle's counts live in the database.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from argon2 import PasswordHasher

from engine.casework import people as accounts
from engine.store.accounts import RateLimitHit, UserSession
from tests.web.conftest import PASSWORD, Browser, build_app, make_tramita

COOKIE = "tramita_session"


def _signed_in(app: Any, user: str) -> Browser:
    b = Browser(app)
    assert b.login(user).status_code == 302
    return b


def _replay(app: Any, cookie: str) -> Any:
    """A new browser that presents an old session cookie."""
    c = app.test_client()
    c.set_cookie(COOKIE, cookie)
    return c


def test_sign_out_ends_the_session_on_the_server(app_any) -> None:  # type: ignore[no-untyped-def]
    """Before: the signed cookie alone was the session, so a copy of it still worked after signing out."""
    b = _signed_in(app_any, "ana")
    cookie = b.client.get_cookie(COOKIE).value
    assert _replay(app_any, cookie).get("/bandeja").status_code == 200
    assert b.post("/salir").status_code == 302
    r = _replay(app_any, cookie).get("/bandeja")
    assert r.status_code == 302 and r.headers["Location"].startswith("/entrar")


def test_disabling_enabling_or_a_new_password_ends_earlier_sessions(app_any, wt_any) -> None:  # type: ignore[no-untyped-def]
    """Before: enabling a user again (or changing the password) brought back every earlier cookie."""
    for change in [lambda: (wt_any.set_user_active("ana", False), wt_any.set_user_active("ana", True)),
                   lambda: wt_any.set_password("ana", PASSWORD)]:
        b = _signed_in(app_any, "ana")
        cookie = b.client.get_cookie(COOKIE).value
        change()
        assert b.get("/bandeja").status_code == 302
        assert _replay(app_any, cookie).get("/bandeja").status_code == 302
        assert _signed_in(app_any, "ana").get("/bandeja").status_code == 200  # a new sign-in works
    with wt_any.db.read() as s:
        assert s.query(UserSession).count() == 1


def test_the_session_id_changes_at_sign_in(app_any, wt_any) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app_any)
    b.token()  # an anonymous session (CSRF token) before signing in
    before = b.client.get_cookie(COOKIE).value
    b.login("ana")
    first = b.client.get_cookie(COOKIE).value
    b.post("/salir")
    b.login("ana")
    assert len({before, first, b.client.get_cookie(COOKIE).value}) == 3
    assert _replay(app_any, before).get("/bandeja").status_code == 302
    with wt_any.db.read() as s:
        assert s.query(UserSession).count() == 1  # the first was ended by signing out


def test_the_throttle_is_shared_by_several_web_processes(db_url) -> None:  # type: ignore[no-untyped-def]
    """Two apps over two engines on one database, as two gunicorn workers: their failures add up."""
    t1, t2 = make_tramita(db_url), None
    try:
        from tests.driver import Driver

        t2 = Driver(db_url)
        one, two = Browser(build_app(t1)), Browser(build_app(t2))
        for i in range(5):
            assert (one if i % 2 else two).login("nadie", "equivocada-123").status_code == 401
        assert one.login("nadie", "equivocada-123").status_code == 429
        assert two.login("nadie", "equivocada-123").status_code == 429
        with t1.db.read() as s:
            assert s.query(RateLimitHit).count() == 2 * 5  # per name and per address, no name stored
            assert not s.query(RateLimitHit).filter(RateLimitHit.key.like("%nadie%")).count()
    finally:
        t1.db.dispose()
        if t2 is not None:
            t2.db.dispose()


def test_throttling_by_client_address(app) -> None:  # type: ignore[no-untyped-def]
    """Thirty failures from one address, each with another name, lock the address, not the others."""
    here = Browser(app)
    for i in range(30):
        assert here.client.post("/entrar", data={"username": f"n{i}", "password": "x" * 12,
                                                 "csrf_token": here.token()}).status_code == 401
    assert here.login("ana").status_code == 429
    elsewhere = Browser(app)
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert elsewhere.login("ana").status_code == 302


def _timed(b: Browser, name: str, password: str) -> tuple[int, float]:
    token = b.token()
    started = time.perf_counter()
    r = b.client.post("/entrar", data={"username": name, "password": password, "csrf_token": token})
    return r.status_code, time.perf_counter() - started


def test_unknown_and_known_names_take_about_the_same_time(app, wt, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the real Argon2 cost: a wrong password for a real name and any password for an unknown name
    take about as long (both run one hash check), and a locked name answers as fast for both."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())
    accounts._dummy_hash.cache_clear()
    wt.set_password("ana", PASSWORD)  # hashed at the real cost
    times: dict[str, list[float]] = {"ana": [], "nadie": []}
    locked: dict[str, list[float]] = {"ana": [], "nadie": []}
    for name in times:
        b = Browser(app)
        b.client.environ_base["REMOTE_ADDR"] = f"10.0.1.{len(name)}"
        for _ in range(5):
            status, took = _timed(b, name, "equivocada-123")
            assert status == 401
            times[name].append(took)
        for _ in range(3):
            status, took = _timed(b, name, "equivocada-123")
            assert status == 429
            locked[name].append(took)
    known, unknown = statistics.median(times["ana"]), statistics.median(times["nadie"])
    assert 0.5 < known / unknown < 2, (known, unknown)
    # Locked: no hash check at all, for either (well under one hash check).
    assert max(statistics.median(locked["ana"]), statistics.median(locked["nadie"])) < min(known, unknown)
    accounts._dummy_hash.cache_clear()


def test_a_session_ends_after_a_shift_even_if_used(app, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """The cookie is refreshed on every request; the server-side session still ends after 12 hours."""
    from datetime import timedelta

    b = _signed_in(app, "ana")
    for _ in range(4):
        frozen_clock.advance(timedelta(hours=3) - timedelta(seconds=1))
        assert b.get("/bandeja").status_code == 200
    frozen_clock.advance(timedelta(seconds=5))
    assert b.get("/bandeja").status_code == 302
