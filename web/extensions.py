"""The Flask extensions shared by the blueprints."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the sign-in page explains itself
login_manager.session_protection = "strong"
