"""Who acts: a signed-in account, or ``SYSTEM`` (installation, operators' commands, the timer service).

Every service method takes one of these, so that the permission for an action is decided in the
service, once, whoever calls it: a page, the API or the CLI.
"""

from __future__ import annotations

from engine.casework.people import ROLES, UserView
from engine.errors import Forbidden

Principal = UserView

SYSTEM_ROLE = "system"
SYSTEM = UserView(id=0, username="sistema", name="Sistema", role=SYSTEM_ROLE, institution="sistema", groups=())

__all__ = ["Principal", "ROLES", "SYSTEM", "SYSTEM_ROLE", "is_system"]


def is_system(user: Principal) -> bool:
    return user.role == SYSTEM_ROLE


def require_role(user: Principal, *roles: str, field: str = "user", message: str | None = None) -> None:
    """Raise ``Forbidden`` unless ``user`` has one of ``roles`` (``SYSTEM`` always may)."""
    if is_system(user) or user.role in roles:
        return
    raise Forbidden(message or "Su rol no permite esta acción.", field=field)
