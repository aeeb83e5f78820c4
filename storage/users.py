"""Web console accounts, their sign-in attempts, and the key the console signs with.

Passwords arrive here already hashed (bot.web.auth): this module only stores and reads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SignInAttempt, WebAccount, WebSecret

ROLES = ("staff", "admin")


class AccountError(ValueError):
    """An account change that cannot be made; the message is shown as is."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    active: bool
    session_epoch: int
    password_hash: str
    last_sign_in_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _account(row: WebAccount) -> Account:
    return Account(
        row.id, row.username, row.role, row.active, row.session_epoch, row.password_hash, row.last_sign_in_at
    )


async def add_account(session: AsyncSession, username: str, role: str, password_hash: str) -> Account:
    if role not in ROLES:
        raise AccountError(f"角色只能是 {' 或 '.join(ROLES)}")
    if await session.scalar(select(WebAccount.id).where(WebAccount.username == username)) is not None:
        raise AccountError(f"用户名 {username} 已存在")
    row = WebAccount(username=username, role=role, password_hash=password_hash, active=True, session_epoch=0)
    session.add(row)
    await session.flush()
    return _account(row)


async def account_by_name(session: AsyncSession, username: str) -> Account | None:
    row = await session.scalar(select(WebAccount).where(WebAccount.username == username))
    return _account(row) if row is not None else None


async def account_by_id(session: AsyncSession, account_id: int) -> Account | None:
    row = await session.get(WebAccount, account_id)
    return _account(row) if row is not None else None


async def list_accounts(session: AsyncSession) -> list[Account]:
    return [_account(r) for r in (await session.scalars(select(WebAccount).order_by(WebAccount.username))).all()]


async def set_password(session: AsyncSession, username: str, password_hash: str) -> None:
    """Replaces the hash and voids every session signed before (epoch + 1)."""
    await _change(session, username, password_hash=password_hash, session_epoch=WebAccount.session_epoch + 1)


async def rehash_password(session: AsyncSession, account_id: int, password_hash: str) -> None:
    """Same password under stronger hashing parameters: sessions stay valid."""
    await session.execute(update(WebAccount).where(WebAccount.id == account_id).values(password_hash=password_hash))


async def set_active(session: AsyncSession, username: str, active: bool) -> None:
    await _change(session, username, active=active, session_epoch=WebAccount.session_epoch + 1)


async def _change(session: AsyncSession, username: str, **values: object) -> None:
    result = await session.execute(update(WebAccount).where(WebAccount.username == username).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise AccountError(f"没有用户名为 {username} 的账号")


async def record_sign_in(session: AsyncSession, username: str, ip: str, ok: bool, at: datetime) -> None:
    session.add(SignInAttempt(username=username[:64], ip=ip[:64], ok=ok, at=at))
    if ok:
        await session.execute(update(WebAccount).where(WebAccount.username == username).values(last_sign_in_at=at))
    await session.flush()


@dataclass(frozen=True)
class Failures:
    by_username: int
    by_ip: int
    # The oldest failure still counted against each: when it ages out, the count drops.
    oldest_by_username: datetime | None
    oldest_by_ip: datetime | None


async def recent_failures(session: AsyncSession, username: str, ip: str, since: datetime) -> Failures:
    """Failed attempts since `since`: for the username only those after its last success
    (someone who finally typed the password right starts afresh), for the address all."""
    last_ok = (
        select(func.max(SignInAttempt.at))
        .where(SignInAttempt.username == username, SignInAttempt.ok.is_(True))
        .scalar_subquery()
    )
    by_name = select(func.count(), func.min(SignInAttempt.at)).where(
        SignInAttempt.username == username,
        SignInAttempt.ok.is_(False),
        SignInAttempt.at > since,
        SignInAttempt.at > func.coalesce(last_ok, since),
    )
    by_ip = select(func.count(), func.min(SignInAttempt.at)).where(
        SignInAttempt.ip == ip, SignInAttempt.ok.is_(False), SignInAttempt.at > since
    )
    name_count, name_oldest = (await session.execute(by_name)).one()
    ip_count, ip_oldest = (await session.execute(by_ip)).one()
    return Failures(
        int(name_count or 0),
        int(ip_count or 0),
        as_utc(name_oldest) if name_oldest else None,
        as_utc(ip_oldest) if ip_oldest else None,
    )


async def prune_sign_ins(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(SignInAttempt).where(SignInAttempt.at < before))


async def shared_secret(session: AsyncSession, name: str) -> str:
    """The named key, created on first use; two instances starting at once agree on one."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    candidate = secrets.token_urlsafe(48)
    await session.execute(
        dialect.insert(WebSecret).values(name=name, value=candidate).on_conflict_do_nothing(index_elements=["name"])
    )
    return str(await session.scalar(select(WebSecret.value).where(WebSecret.name == name)))
