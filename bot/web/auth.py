"""Passwords (argon2), the signed session cookie with its idle and absolute expiry, CSRF
tokens, and the sign-in rate limit. Sessions live in the cookie: nothing to share between
instances but the signing key."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from storage.db import Database
from storage.users import Account, account_by_id, recent_failures

COOKIE = "skillbot_session"
MIN_PASSWORD = 10
# A session cookie is re-signed (its idle clock restarted) at most this often.
REFRESH_S = 60.0
# How long a signed-in account's row is trusted before it is read again (a disabled account
# or a changed password ends other processes' sessions within this).
ACCOUNT_TTL_S = 30.0

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"密码至少需要 {MIN_PASSWORD} 个字符"
    if len(set(password)) < 4:
        return "密码太简单：请不要只重复一两个字符"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass
class WebSession:
    csrf: str = field(default_factory=new_token)
    uid: int | None = None
    epoch: int = 0
    signed_in_at: float = 0.0
    flash: list[list[str]] = field(default_factory=list)
    # Not stored: set when the request carried a signed-in session that has run out.
    expired: bool = False
    issued_at: float = 0.0
    changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.uid, "e": self.epoch, "s": self.signed_in_at, "f": self.flash}

    def restart(self, **values: Any) -> None:
        """Becomes a new session (a new CSRF token too): at sign-in, sign-out, or when the
        account no longer holds, so nothing of the old one carries over."""
        self.__dict__.update(WebSession(changed=True, **values).__dict__)

    def say(self, kind: str, text: str) -> None:
        """A message for the next page shown (after a redirect)."""
        self.flash.append([kind, text])
        self.changed = True

    def take_flash(self) -> list[list[str]]:
        messages, self.flash = self.flash, []
        if messages:
            self.changed = True
        return messages


class SessionCodec:
    """The session as a signed, timestamped cookie. A signed-in session ends `idle` after
    the cookie was last re-signed and `max_age` after sign-in, whichever comes first."""

    def __init__(
        self, secret: str, idle: timedelta, max_age: timedelta, clock: Callable[[], float] = time.time
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="skillbot-web-session")
        self.idle = idle.total_seconds()
        self.max_age = max_age.total_seconds()
        self.clock = clock

    def load(self, cookie: str | None) -> WebSession:
        if not cookie:
            return WebSession(changed=True)
        try:
            data, signed = self._serializer.loads(cookie, return_timestamp=True)
            session = WebSession(
                csrf=str(data["c"]),
                uid=data["u"],
                epoch=int(data["e"]),
                signed_in_at=float(data["s"]),
                flash=list(data.get("f") or []),
                issued_at=signed.timestamp(),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return WebSession(changed=True)  # forged or from another key: a fresh anonymous session
        now = self.clock()
        if session.uid is not None and (
            now - session.issued_at > self.idle or now - session.signed_in_at > self.max_age
        ):
            return WebSession(expired=True, changed=True)
        return session

    def dump(self, session: WebSession) -> str:
        return self._serializer.dumps(session.to_json())

    def needs_refresh(self, session: WebSession) -> bool:
        return session.changed or self.clock() - session.issued_at > REFRESH_S


class Accounts:
    """Signed-in accounts, read from the store at most every ACCOUNT_TTL_S: a search request
    then costs no database round trip, and never waits behind a long write."""

    def __init__(self, db: Database, ttl: float = ACCOUNT_TTL_S) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[int, tuple[float, Account | None]] = {}

    async def get(self, account_id: int) -> Account | None:
        now = time.monotonic()
        cached = self._cache.get(account_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        async with self.db.transaction() as session:
            account = await account_by_id(session, account_id)
        self._cache[account_id] = (now, account)
        return account

    def forget(self, account_id: int | None = None) -> None:
        if account_id is None:
            self._cache.clear()
        else:
            self._cache.pop(account_id, None)


@dataclass(frozen=True)
class SignInLimits:
    per_user: int
    per_ip: int
    window: timedelta


async def sign_in_wait(db: Database, username: str, ip: str, now: datetime, limits: SignInLimits) -> int:
    """Seconds until this name and address may try again; 0 if they may now."""
    async with db.transaction() as session:
        failures = await recent_failures(session, username, ip, now - limits.window)
    waits = [
        (oldest or now) + limits.window - now
        for count, limit, oldest in (
            (failures.by_username, limits.per_user, failures.oldest_by_username),
            (failures.by_ip, limits.per_ip, failures.oldest_by_ip),
        )
        if count >= limit
    ]
    return max(int(max(waits).total_seconds()) + 1, 1) if waits else 0
