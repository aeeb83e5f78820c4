"""The admin audit log (who did what, from the web console or the CLI), and the reading side
of the certificate lookup audit that storage.certificates writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AdminAction, CertLookup
from storage.users import as_utc

PAGE = 100


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One row, in the caller's transaction: an action and its audit row commit together."""
    row = AdminAction(actor=actor[:80], action=action, target=target[:300], outcome=outcome, detail=detail or {})
    if at is not None:
        row.at = at
    session.add(row)
    await session.flush()


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # keyset paging: rows older than this one


async def actions(session: AsyncSession, f: AuditFilter, limit: int = PAGE) -> list[AuditRow]:
    """Newest first; `actor` and `action` match exactly, an action ending in "." as a prefix."""
    query = select(AdminAction)
    if f.actor:
        query = query.where(AdminAction.actor == f.actor)
    if f.action:
        column = AdminAction.action
        query = query.where(column.startswith(f.action) if f.action.endswith(".") else column == f.action)
    query = _window(query, AdminAction.at, AdminAction.id, f)
    rows = (await session.scalars(query.order_by(AdminAction.id.desc()).limit(limit))).all()
    return [AuditRow(r.id, as_utc(r.at), r.actor, r.action, r.target, r.outcome, r.detail) for r in rows]


async def last_action(session: AsyncSession, action: str, target: str) -> AuditRow | None:
    """The latest successful `action` on `target` (who revoked this batch, and when)."""
    row = await session.scalar(
        select(AdminAction)
        .where(AdminAction.action == action, AdminAction.target == target, AdminAction.outcome == "ok")
        .order_by(AdminAction.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return AuditRow(row.id, as_utc(row.at), row.actor, row.action, row.target, row.outcome, row.detail)


async def actors(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(AdminAction.actor).distinct().order_by(AdminAction.actor))).all())


@dataclass(frozen=True)
class LookupRow:
    id: int
    at: datetime
    requester: str
    number_hash: str
    result: str


async def lookups(session: AsyncSession, f: AuditFilter, result: str = "", limit: int = PAGE) -> list[LookupRow]:
    """Certificate lookups, newest first; `f.actor` is the requester (web:NAME, tg:ID …)."""
    query = select(CertLookup)
    if f.actor:
        query = query.where(CertLookup.requester == f.actor)
    if result:
        query = query.where(CertLookup.result == result)
    query = _window(query, CertLookup.at, CertLookup.id, f)
    rows = (await session.scalars(query.order_by(CertLookup.id.desc()).limit(limit))).all()
    return [LookupRow(r.id, as_utc(r.at), r.requester, r.number_hash, r.result) for r in rows]


def _window(query: Select, at: Any, id_: Any, f: AuditFilter) -> Select:
    if f.since is not None:
        query = query.where(at >= f.since)
    if f.until is not None:
        query = query.where(at < f.until)
    if f.before_id is not None:
        query = query.where(id_ < f.before_id)
    return query
