"""People and credentials: users with a role, an institution and groups; API tokens.

Passwords are hashed with Argon2id (argon2-cffi). Failed sign-ins are throttled per
account name and per client address by the web (Flask-Limiter over ``engine.store.ratelimit``),
the same for names that exist and names that do not: ``MAX_FAILURES`` failures in ``LOCKOUT``
lock the name. API tokens are random, shown once, and stored as SHA-256.

A browser session is a row of ``user_sessions`` (the SHA-256 of a random id the session cookie
carries): signing out deletes it; disabling a user, enabling them again or changing their password
deletes all of theirs, so an old cookie leads to the sign-in page.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update

from engine.time import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.store.accounts import ApiToken, User, UserSession
from engine.store import ratelimit
from engine.store.db import Database

ROLES = ("caseworker", "legal_designer", "manager", "admin")
ROLE_LABELS = {"caseworker": "Personal operativo", "legal_designer": "Diseño jurídico", "manager": "Coordinación",
               "admin": "Administración"}
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
SESSION_MAX_AGE = timedelta(hours=12)  # a session ends after a working shift even if used all along
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal which usernames are real.


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Hashed on first use, not at import: every ``tramita`` process imports this module."""
    return _hasher.hash("tramita-dummy-password")


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    name: str
    role: str
    institution: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    email: str | None = None

    @property
    def is_caseworker(self) -> bool:
        return self.role == "caseworker"


def _view(u: User) -> UserView:
    return UserView(u.id, u.username, u.name, u.role, u.institution, tuple((u.groups or {}).get("groups", [])),
                    u.active, u.locked_until, u.last_login_at, u.email)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.", field="password")


def add_user(db: Database, username: str, password: str, *, name: str, role: str, institution: str,
             groups: Sequence[str] = ()) -> UserView:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("El usuario debe tener 2 a 64 caracteres: letras minúsculas, números, punto, guion.",
                           field="username")
    if role not in ROLES:
        raise InvalidInput(f"Rol desconocido {role!r}; roles: {', '.join(ROLES)}", field="role")
    if not institution.strip():
        raise InvalidInput("La institución es obligatoria.", field="institution")
    _check_password(password)
    with db.write() as s:
        if s.execute(select(User.id).where(User.username == username)).first():
            raise Conflict(f"El usuario {username} ya existe.", field="username")
        u = User(username=username, name=name.strip() or username, role=role, institution=institution.strip(),
                 groups={"groups": sorted({g.strip() for g in groups if g.strip()})},
                 password_hash=_hasher.hash(password), active=True, failed_logins=0, created_at=clock.now())
        s.add(u)
        s.flush()
        return _view(u)


def set_password(db: Database, username: str, password: str) -> None:
    _check_password(password)
    with db.write() as s:
        u = s.execute(select(User).where(User.username == username)).scalar()
        if u is None:
            raise NotFound(f"El usuario {username} no existe.", field="username")
        u.password_hash, u.failed_logins, u.locked_until = _hasher.hash(password), 0, None
        s.execute(delete(UserSession).where(UserSession.user_id == u.id))  # every earlier session ends
    ratelimit.clear_account(db, username)  # a new password lifts the name's lockout


def set_active(db: Database, username: str, active: bool) -> UserView:
    with db.write() as s:
        u = s.execute(select(User).where(User.username == username)).scalar()
        if u is None:
            raise NotFound(f"El usuario {username} no existe.", field="username")
        u.active = active
        s.execute(delete(UserSession).where(UserSession.user_id == u.id))  # disabling or re-enabling ends them
        if not active:  # a disabled user's API tokens stop working at once
            s.execute(update(ApiToken).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_(None))
                      .values(revoked_at=clock.now()))
        return _view(u)


def set_groups(db: Database, username: str, groups: Sequence[str]) -> None:
    with db.write() as s:
        n = s.execute(update(User).where(User.username == username)
                      .values(groups={"groups": sorted({g.strip() for g in groups if g.strip()})})).rowcount
        if n != 1:
            raise NotFound(f"El usuario {username} no existe.", field="username")


_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def set_email(db: Database, username: str, email: str | None) -> UserView:
    """Where the user's deadline e-mails go; empty clears it (no e-mails)."""
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        raise InvalidInput("El correo electrónico no es válido: escríbalo como nombre@dominio.mx.", field="email")
    with db.write() as s:
        u = s.execute(select(User).where(User.username == username)).scalar()
        if u is None:
            raise NotFound(f"El usuario {username} no existe.", field="username")
        u.email = email
        return _view(u)


def list_users(db: Database) -> list[UserView]:
    with db.read() as s:
        return [_view(u) for u in s.execute(select(User).order_by(User.institution, User.username)).scalars()]


def get_user(db: Database, user_id: int) -> UserView | None:
    with db.read() as s:
        u = s.get(User, user_id)
        return _view(u) if u is not None and u.active else None


def find_user(db: Database, username: str) -> UserView | None:
    with db.read() as s:
        u = s.execute(select(User).where(User.username == username.strip().lower())).scalar()
        return _view(u) if u is not None else None


@dataclass(frozen=True)
class SignIn:
    user: UserView | None
    reason: str | None = None  # bad_credentials | locked | disabled


def authenticate(db: Database, username: str, password: str) -> SignIn:
    """Check a password. A name that does not exist costs the same hash check and gets the same answer
    as a wrong password or a disabled account, so the answer does not tell which accounts exist; the
    throttling of failures (per name, per address) is the web's, before this is called."""
    now = clock.now()
    with db.write() as s:
        u = s.execute(select(User).where(User.username == (username or "").strip().lower())).scalar()
        if u is None:
            _safe_verify(_dummy_hash(), password)
            return SignIn(None, "bad_credentials")
        if not _safe_verify(u.password_hash, password):
            return SignIn(None, "bad_credentials")
        if not u.active:
            return SignIn(None, "disabled")
        u.last_login_at = now
        if _hasher.check_needs_rehash(u.password_hash):
            u.password_hash = _hasher.hash(password)
        return SignIn(_view(u))


def open_session(db: Database, user_id: int) -> str:
    """A new session for a user who just signed in: a random id (for the cookie) whose digest is stored.
    Sessions past ``SESSION_MAX_AGE`` are swept on the way."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with db.write() as s:
        s.execute(delete(UserSession).where(UserSession.created_at < now - SESSION_MAX_AGE))
        s.add(UserSession(id=_digest(token), user_id=user_id, created_at=now))
    return token


def session_user(db: Database, user_id: int, token: str | None) -> UserView | None:
    """The active user of a live session, or None (signed out, ended by an admin, too old, forged)."""
    if not token:
        return None
    with db.read() as s:
        row = s.execute(select(User, UserSession.created_at).join(UserSession, UserSession.user_id == User.id)
                        .where(UserSession.id == _digest(token), User.id == user_id)).first()
        if row is None or not row[0].active or row[1] < clock.now() - SESSION_MAX_AGE:
            return None
        return _view(row[0])


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.write() as s:
            s.execute(delete(UserSession).where(UserSession.id == _digest(token)))


def _safe_verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- API tokens -----------------------------------------------------------------------------------

TOKEN_PREFIX = "trm_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, username: str, label: str = "") -> str:
    """A new bearer token for the user; the clear text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        u = s.execute(select(User).where(User.username == username)).scalar()
        if u is None or not u.active:
            raise NotFound(f"El usuario {username} no existe o está deshabilitado.", field="username")
        s.add(ApiToken(user_id=u.id, token_hash=_digest(token), label=label, created_at=clock.now()))
    return token


def user_for_token(db: Database, token: str) -> UserView | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    with db.write() as s:
        row = s.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                        .where(ApiToken.token_hash == _digest(token))).first()
        if row is None:
            return None
        tok, u = row
        if tok.revoked_at is not None or not u.active:
            return None
        tok.last_used_at = clock.now()
        return _view(u)
