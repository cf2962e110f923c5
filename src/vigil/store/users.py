"""Console users, their sessions and failed sign-ins. The store keeps password
hashes and token hashes only; hashing the password (argon2) is the server's."""

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import secrets
import typing as t

from sqlalchemy import Engine, delete, func, or_, select
from sqlalchemy.orm import Session

from vigil.store.models import LoginFailureRow, SessionRow, UserRow, utcnow

#: A session unused this long signs out (a grader's shift, with breaks).
SESSION_IDLE = dt.timedelta(hours=8)
TOKEN_BYTES = 32
MAX_USERNAME_CHARS = 64


class Role(enum.StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: "Role") -> bool:
        """An admin may do what a supervisor may, a supervisor what an analyst may."""
        return self.rank >= needed.rank


class UserError(Exception):
    """A user operation was refused (a name taken, an unknown user)."""


@dataclasses.dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: Role
    disabled: bool
    settings: dict[str, t.Any]
    created_at: dt.datetime
    password_hash: str = dataclasses.field(repr=False, default="")

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role.value,
            "disabled": self.disabled,
            "settings": self.settings,
            "created_at": self.created_at.isoformat(),
        }


@dataclasses.dataclass(frozen=True)
class SessionView:
    id: int
    user: UserView
    csrf_token: str
    created_at: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, username: str, password_hash: str, role: Role) -> UserView:
        name = username.strip()
        if not name or len(name) > MAX_USERNAME_CHARS or not name.isprintable():
            raise UserError(
                f"user name must be 1-{MAX_USERNAME_CHARS} printable characters"
            )
        with Session(self.engine) as session, session.begin():
            taken = session.scalar(select(UserRow.id).where(UserRow.username == name))
            if taken is not None:
                raise UserError(f"user {name!r} exists already")
            row = UserRow(
                username=name,
                password_hash=password_hash,
                role=role.value,
                disabled=False,
                settings="{}",
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return _user(row)

    def get(self, username: str) -> UserView | None:
        with Session(self.engine) as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return _user(row) if row else None

    def list(self) -> list[UserView]:
        with Session(self.engine) as session:
            return [
                _user(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))
            ]

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count(UserRow.id))) or 0)

    def update(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        disabled: bool | None = None,
        role: Role | None = None,
        settings: t.Mapping[str, t.Any] | None = None,
    ) -> UserView:
        """Change a user; disabling or a new password signs them out everywhere."""
        with Session(self.engine) as session, session.begin():
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise UserError(f"no user {username!r}")
            if password_hash is not None:
                row.password_hash = password_hash
            if disabled is not None:
                row.disabled = disabled
            if role is not None:
                row.role = role.value
            if settings is not None:
                row.settings = json.dumps(dict(settings), sort_keys=True)
            if password_hash is not None or disabled:
                for s in session.scalars(
                    select(SessionRow).where(SessionRow.user_id == row.id)
                ):
                    s.revoked = True
            return _user(row)

    # sessions

    def open_session(self, user_id: int) -> tuple[str, SessionView]:
        """A new session; the token is returned once and only its hash is kept."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            row = SessionRow(
                token_sha256=token_hash(token),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
                created_at=now,
                last_seen_at=now,
                revoked=False,
            )
            session.add(row)
            session.flush()
            session_id = row.id
        found = self.session(token)
        if found is None or found.id != session_id:
            raise UserError("the user cannot sign in (disabled)")
        return token, found

    def session(self, token: str) -> SessionView | None:
        """The live session of a token (not revoked, not idle too long, its user
        enabled), marked as seen now."""
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(SessionRow).where(SessionRow.token_sha256 == token_hash(token))
            )
            if row is None or row.revoked:
                return None
            if now - _aware(row.last_seen_at) > SESSION_IDLE:
                row.revoked = True
                return None
            user = session.get(UserRow, row.user_id)
            if user is None or user.disabled:
                return None
            if now - _aware(row.last_seen_at) > dt.timedelta(minutes=1):
                row.last_seen_at = now  # at most one write a minute per session
            return SessionView(
                row.id, _user(user), row.csrf_token, _aware(row.created_at)
            )

    def close_session(self, token: str) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(SessionRow).where(SessionRow.token_sha256 == token_hash(token))
            )
            if row is not None:
                row.revoked = True

    # throttling

    def record_failure(self, username: str, client: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(
                LoginFailureRow(
                    username=username[:MAX_USERNAME_CHARS],
                    client=client[:64],
                    at=utcnow(),
                )
            )

    def recent_failures(self, username: str, client: str, window: dt.timedelta) -> int:
        """Failures for this user name or from this client within the window."""
        since = utcnow() - window
        with Session(self.engine) as session, session.begin():
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < since))
            return int(
                session.scalar(
                    select(func.count(LoginFailureRow.id)).where(
                        LoginFailureRow.at >= since,
                        or_(
                            LoginFailureRow.username == username[:MAX_USERNAME_CHARS],
                            LoginFailureRow.client == client[:64],
                        ),
                    )
                )
                or 0
            )

    def clear_failures(self, username: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(
                delete(LoginFailureRow).where(LoginFailureRow.username == username)
            )


def _user(row: UserRow) -> UserView:
    return UserView(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        disabled=row.disabled,
        settings=json.loads(row.settings or "{}"),
        created_at=_aware(row.created_at),
        password_hash=row.password_hash,
    )


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
