"""Passwords (argon2id), sessions in secure cookies, roles and CSRF tokens.

- A session cookie holds a random token; the store keeps only its SHA-256.
  Cookies are HttpOnly and SameSite=strict, and Secure outside dev mode.
- Every form carries the session's CSRF token (synchroniser token); a POST without
  the right one is refused with 403. The sign-in form has its own token in a
  cookie of its own (double submit), as there is no session yet.
- Sign-in is throttled per user name and per client address.
"""

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vigil.store.users import Role, SessionView

SESSION_COOKIE = "vigil_session"
LOGIN_CSRF_COOKIE = "vigil_login_csrf"
CSRF_FIELD = "csrf"
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD_CHARS = 12

_hasher = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106)


class NotSignedIn(Exception):
    """No live session: the browser is sent to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but the role or the CSRF token does not allow this."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


#: Verified when the user name is unknown, so that a wrong name takes as long as a
#: wrong password and names cannot be found by timing.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def require_role(session: SessionView, needed: Role) -> None:
    if not session.user.role.allows(needed):
        raise Forbidden(f"needs the {needed.value} role")


def check_csrf(session_token: str | None, given: str | None) -> None:
    if (
        not session_token
        or not given
        or not secrets.compare_digest(session_token, given)
    ):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page")


def new_token() -> str:
    return secrets.token_urlsafe(32)
