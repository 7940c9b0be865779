"""Secrets, security headers and the signed-in user as the web sees it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request
from flask_login import UserMixin, current_user

from engine.services import Tramita, UserView, config
from web.extensions import login_manager


def secret_key() -> str:
    """``TRAMITA_SECRET_KEY``, or a random key generated once into ``var/secret_key`` (mode 600)."""
    env = os.environ.get("TRAMITA_SECRET_KEY")
    if env:
        return env
    path = Path(config.VAR_DIR) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def tramita() -> Tramita:
    return current_app.extensions["tramita"]


class WebUser(UserMixin):
    def __init__(self, view: UserView) -> None:
        self.view = view

    def get_id(self) -> str:
        return str(self.view.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    try:
        view = tramita().people.user(int(user_id))
    except ValueError:
        return None
    return WebUser(view) if view is not None else None


def me() -> UserView:
    """The signed-in user as the engine knows it."""
    return current_user.view  # type: ignore[no-any-return]


CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


SERVER_NAME_HEADER = "tramita"


def hide_server_software() -> None:
    """Answer ``Server: tramita`` instead of the web server's name and version (Werkzeug/3.x Python/3.11,
    gunicorn): a version tells an attacker which published flaws to try. Both servers write the
    header themselves, outside the application, so it is changed where they take it from."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = lambda self: SERVER_NAME_HEADER  # type: ignore[method-assign]
    try:
        import gunicorn.http.wsgi as gunicorn_wsgi
    except ImportError:  # gunicorn is only how production serves the app
        return
    gunicorn_wsgi.SERVER = SERVER_NAME_HEADER


def init_app(app: Flask) -> None:
    hide_server_software()

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config.get("SESSION_COOKIE_SECURE"):
            h["Strict-Transport-Security"] = "max-age=31536000"
        if not request.path.startswith(("/static/", "/vendor/")):
            # Case data must not linger in shared browsers' or proxies' caches.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response
