"""Signing in and out, and choosing the language.

Sign-in is throttled by Flask-Limiter (counts in our database, ``engine.services.throttle``): failed
attempts per account name, whether the account exists or not, and per client address. A throttled
attempt gets the same answer, as fast, for every name: it never reaches the password check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from engine.services import throttle
from web.i18n import COOKIE, LANGUAGES
from web.security import SESSION_ID, WebUser, tramita

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never an absolute or protocol-relative URL (open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def home_for(role: str) -> str:
    if role == "caseworker":
        return url_for("inbox.index")
    if role in ("manager", "admin"):
        return url_for("cases.case_list")
    return url_for("cases.processes")


@bp.route("/entrar", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    error = None
    username = ""
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        result = tramita().people.authenticate(username, request.form.get("password") or "")
        if result.user is not None:
            session.clear()  # a fresh session on sign-in (no fixation), with a new server-side id
            session[SESSION_ID] = tramita().people.open_session(result.user)
            login_user(WebUser(result.user))
            session.permanent = True
            return redirect(safe_next(request.args.get("next"), home_for(result.user.role)))
        status = 401
        error = _("Usuario o contraseña incorrectos.")
    return render_template("auth/login.html", error=error, username=username), status


def _locked_out() -> tuple[str, int]:
    """The one answer to a throttled sign-in, whatever the name (existing, unknown, disabled)."""
    error = _("Demasiados intentos fallidos con este usuario o desde este equipo. Intente de nuevo en %(m)s "
              "minutos o pida ayuda a la administración.", m=int(throttle.LOCKOUT.total_seconds() // 60))
    return render_template("auth/login.html", error=error, username=(request.form.get("username") or "").strip()), 429


def _account() -> str:
    return throttle.account_key(request.form.get("username"))


def _failed(response: Response) -> bool:
    """Only failed attempts count: a sign-in that lands somewhere (302) does not."""
    return response.status_code != 302


def init_app(app: Flask) -> None:
    """Throttle ``/entrar`` for this app: one limiter per app, its counts in the app's database, so that
    several web processes (and the tests' many apps) each count in the right place."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=throttle.STORAGE_URI,
                      storage_options=throttle.storage_options(app.extensions["tramita"]),
                      strategy="moving-window", headers_enabled=False)
    view = app.view_functions["auth.login"]
    view = limiter.limit(throttle.ACCOUNT_LIMIT, key_func=_account, methods=["POST"], deduct_when=_failed)(view)
    view = limiter.limit(throttle.ADDRESS_LIMIT, key_func=get_remote_address, methods=["POST"],
                         deduct_when=_failed)(view)
    app.view_functions["auth.login"] = view
    app.extensions["tramita_limiter"] = limiter

    @app.errorhandler(429)
    def _too_many(exc: Exception):  # type: ignore[no-untyped-def]
        if request.endpoint == "auth.login":
            return _locked_out()
        return render_template("errors/error.html", status=429, message=_("Demasiadas solicitudes.")), 429


@bp.post("/salir")
@login_required
def logout():  # type: ignore[no-untyped-def]
    tramita().people.end_session(session.get(SESSION_ID))  # replaying this cookie leads to sign-in
    logout_user()
    session.clear()
    flash(_("Sesión cerrada."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/idioma/<lang>")
def language(lang: str):  # type: ignore[no-untyped-def]
    response = redirect(safe_next(request.args.get("next"), "/"))
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response
