"""The administrators' service: accounts, groups, passwords and API tokens; and signing in."""

from __future__ import annotations

from typing import Sequence

from engine.casework import audit, people
from engine.casework.audit import AccessReport
from engine.casework.people import SignIn, UserView
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role

ADMIN_ROLES = ("admin",)


class PeopleService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def directory(self, actor: Principal) -> list[dict[str, str]]:
        """The user groups (``[groups]`` of the deployed ``lanes`` part, newest version of every procedure) with
        their names and institutions, for the pages."""
        self._admin(actor)
        groups = self.rt.newest_part("lanes").get("groups", {})
        return [{"group": str(g), "name": str((info or {}).get("name") or g),
                 "institution": str((info or {}).get("institution") or "")} for g, info in groups.items()]

    def _admin(self, actor: Principal) -> None:
        require_role(actor, *ADMIN_ROLES, field="user", message="Solo la administración gestiona cuentas.")

    def add_user(self, actor: Principal, username: str, password: str, *, name: str, role: str, institution: str,
                 groups: Sequence[str] = ()) -> UserView:
        self._admin(actor)
        return people.add_user(self.db, username, password, name=name, role=role, institution=institution,
                               groups=groups)

    def users(self, actor: Principal) -> list[UserView]:
        self._admin(actor)
        return people.list_users(self.db)

    def set_user_active(self, actor: Principal, username: str, active: bool) -> UserView:
        self._admin(actor)
        return people.set_active(self.db, username, active)

    def set_user_groups(self, actor: Principal, username: str, groups: Sequence[str]) -> None:
        self._admin(actor)
        people.set_groups(self.db, username, groups)

    def set_password(self, actor: Principal, username: str, password: str) -> None:
        if actor.username != username:
            self._admin(actor)
        people.set_password(self.db, username, password)

    def set_email(self, actor: Principal, username: str, email: str | None) -> UserView:
        """The administrator sets anyone's address; a user their own."""
        if actor.username != username:
            self._admin(actor)
        return people.set_email(self.db, username, email)

    def create_token(self, actor: Principal, username: str, label: str = "") -> str:
        if actor.username != username:
            self._admin(actor)
        return people.create_token(self.db, username, label)

    def access_report(self, actor: Principal, *, username: str | None = None, instance_id: int | None = None,
                      limit: int = 200) -> AccessReport:
        """Who opened which case file (when, through what) and every refused access: for administrators."""
        self._admin(actor)
        return audit.report(self.db, actor=username or None, instance_id=instance_id, limit=limit)

    # --- signing in: no actor yet ---
    def authenticate(self, username: str, password: str) -> SignIn:
        return people.authenticate(self.db, username, password)

    def user(self, user_id: int) -> UserView | None:
        return people.get_user(self.db, user_id)

    def open_session(self, user: UserView) -> str:
        """A server-side session for who just signed in; the returned id goes in the session cookie."""
        return people.open_session(self.db, user.id)

    def session_user(self, user_id: int, session_id: str | None) -> UserView | None:
        """The user of a live session (None once signed out, disabled, re-enabled or the password changed)."""
        return people.session_user(self.db, user_id, session_id)

    def end_session(self, session_id: str | None) -> None:
        people.end_session(self.db, session_id)

    def find_user(self, username: str) -> UserView | None:
        return people.find_user(self.db, username)

    def user_for_token(self, token: str) -> UserView | None:
        return people.user_for_token(self.db, token)
