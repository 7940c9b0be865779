"""Security headers and the signed-in user as the web sees it (the secret key is ``Tramita.secret_key()``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_login import UserMixin, current_user

from engine.services import Tramita, UserView
from web.extensions import login_manager


def tramita() -> Tramita:
    return current_app.extensions["tramita"]


class WebUser(UserMixin):
    def __init__(self, view: UserView) -> None:
        self.view = view

    def get_id(self) -> str:
        return str(self.view.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


# The session cookie's key for the server-side session id (``user_sessions``; see engine.casework.people).
SESSION_ID = "sid"


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    """The user of a session that is still open on the server: signing out, disabling the user, enabling
    them again or changing their password ends it, whatever the cookie says."""
    try:
        view = tramita().people.session_user(int(user_id), session.get(SESSION_ID))
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
