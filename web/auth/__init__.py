"""Signing in and out, and choosing the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.services import LOCKOUT, MAX_FAILURES
from web.i18n import COOKIE, LANGUAGES
from web.security import WebUser, tramita

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
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(WebUser(result.user))
            session.permanent = True
            return redirect(safe_next(request.args.get("next"), home_for(result.user.role)))
        status = 401
        if result.reason == "locked":
            error = _("Cuenta bloqueada temporalmente por %(n)s intentos fallidos. Intente de nuevo en %(m)s "
                      "minutos o pida ayuda a la administración.", n=MAX_FAILURES,
                      m=int(LOCKOUT.total_seconds() // 60))
            status = 429
        else:
            error = _("Usuario o contraseña incorrectos.")
    return render_template("auth/login.html", error=error, username=username), status


@bp.post("/salir")
@login_required
def logout():  # type: ignore[no-untyped-def]
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
