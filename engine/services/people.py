"""The administrators' service: accounts, groups, passwords and API tokens; and signing in."""

from __future__ import annotations

from typing import Sequence

from engine.casework import audit, directory, people
from engine.casework.audit import AccessReport
from engine.casework.directory import Group
from engine.casework.people import SignIn, UserView
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role

ADMIN_ROLES = ("admin",)


class PeopleService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def directory(self, actor: Principal) -> list[Group]:
        """The organisation's groups (``directory_groups``, edited by the administrator), active or not."""
        self._admin(actor)
        return directory.list_groups(self.db)

    def save_group(self, actor: Principal, code: str, name: str, institution: str, notes: str = "") -> Group:
        """Add a group to the directory or edit its name, institution and notes; audited."""
        self._admin(actor)
        found = directory.save_group(self.db, actor.username, code, name, institution, notes)
        self.rt.forget_latest()  # the labels of groups follow at once
        return found

    def set_group_active(self, actor: Principal, code: str, active: bool) -> Group:
        """Disable or enable a group; refused while a lane of a procedure's newest version maps to it."""
        self._admin(actor)
        found = directory.set_active(self.db, actor.username, code, active)
        self.rt.forget_latest()
        return found

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
