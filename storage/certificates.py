"""The certificate registry: import 名册 files all-or-nothing, revoke, and look up by number
and holder name with an audit row and rate limits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.certno import LEVEL_NAMES, mask_name, normalise
from knowledge.roster import read_roster, validate_row
from storage.db import Database
from storage.models import Certificate, CertLookup, StagedCertificate
from storage.state import sqlite_driver, sqlite_now

CHUNK = 5000
REPLACE_HINT = "确需替换，请选择允许替换（命令行加 --replace，网页勾选“允许替换已有的证书编号”）"


@dataclass
class ImportReport:
    rows: int = 0
    inserted_or_updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def number_hash(number: str) -> str:
    return hashlib.sha256(normalise(number).encode()).hexdigest()


# -- importing --------------------------------------------------------------------------


async def import_roster(
    db: Database,
    path: Path,
    batch: str,
    today: date,
    on_progress: Callable[[int, int | None], None] | None = None,
    replace: bool = False,
) -> ImportReport:
    """Every row or none, without holding the database while the file is read: valid rows are
    staged in short transactions, then published into the registry in one; an invalid row, a
    collision or a failure discards what was staged, so the registry is as it was.

    A number already in the registry is refused (another organisation's roster must not
    silently take it over) unless `replace` is asked for; a revocation survives either way."""
    total, rows = read_roster(path)
    report = ImportReport()
    import_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    existing = {} if replace else await _numbers_in_registry(db)
    await _discard_abandoned(db, now)
    published = False
    try:
        await _stage_valid_rows(db, import_id, rows, existing, report, today, batch, now, on_progress, total)
        if not report.errors:
            report.inserted_or_updated = await _publish(db, import_id, replace)
            published = True
    except _Collision as exc:
        report.errors.append((0, str(exc)))
    finally:
        if not published:
            await _discard(db, import_id)
    if on_progress is not None and published:
        on_progress(report.rows, total)
    return report


class _Collision(Exception):
    """A number another import published while this one was being read."""


async def _numbers_in_registry(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        rows = await session.execute(select(Certificate.cert_no, Certificate.batch))
        return {number: held_by for number, held_by in rows}


async def _stage_valid_rows(
    db: Database,
    import_id: str,
    rows: Iterator[tuple[int, dict[str, Any]]],
    existing: dict[str, str],
    report: ImportReport,
    today: date,
    batch: str,
    now: datetime,
    on_progress: Callable[[int, int | None], None] | None,
    total: int | None,
) -> None:
    """Validates every row (to report every bad one) and stages the valid ones in chunks."""
    seen: dict[str, int] = {}
    pending: list[dict[str, Any]] = []
    # The previous chunk is written while the next one is validated: SQLite works in
    # aiosqlite's thread without the GIL, so the two overlap on a 2-core machine.
    writing: asyncio.Task[None] | None = None
    for line_no, raw in rows:
        report.rows += 1
        if on_progress is not None and report.rows % 1000 == 0:
            on_progress(report.rows, total)
        record, errors = validate_row(raw, today)
        if record:
            first = seen.setdefault(record["cert_no"], line_no)
            if first != line_no:
                errors = [f"证书编号与第{first}行重复"]
            elif record["cert_no"] in existing:
                held_by = existing[record["cert_no"]]
                errors = [f"证书编号已在登记库中（批次 {held_by}）；{REPLACE_HINT}"]
        if errors:
            report.errors += [(line_no, e) for e in errors]
            continue
        if report.errors:
            continue  # nothing will be kept; keep validating to report every bad row
        pending.append(record | {"batch": batch, "status": "有效", "updated_at": now})
        if len(pending) >= CHUNK:
            if writing is not None:
                await writing
            writing = asyncio.create_task(_stage(db, import_id, pending, now))
            pending = []
            for _ in range(3):  # let the task hand its chunk to the driver before we go on
                await asyncio.sleep(0)
    if writing is not None:
        await writing
    if pending and not report.errors:
        await _stage(db, import_id, pending, now)


REVOKED = "注销"
CHINA = ZoneInfo("Asia/Shanghai")
# Staged rows older than this belong to an import that died (kill -9, power cut).
ABANDONED_AFTER = timedelta(days=1)

_COLUMNS = (
    "cert_no", "org_code", "org_name", "name", "id_type", "id_no_masked", "gender", "birth_date",
    "occupation_code", "occupation_name", "job_name", "level", "issue_date", "extra", "batch", "status", "updated_at",
)  # fmt: skip


async def _stage(db: Database, import_id: str, records: list[dict[str, Any]], now: datetime) -> None:
    """One chunk in one short transaction, straight to the driver's executemany: SQLAlchemy's
    per-row parameter processing cost ten times the insert itself, and a million-row 名册
    must import in two minutes."""
    columns = ("import_id", "staged_at", *_COLUMNS)
    is_sqlite = db.is_sqlite
    marks = ", ".join("?" if is_sqlite else f"${i}" for i in range(1, len(columns) + 1))
    sql = f"INSERT INTO certificate_staging ({', '.join(columns)}) VALUES ({marks})"
    staged_at = sqlite_now(now) if is_sqlite else now
    rows = [
        (
            import_id,
            staged_at,
            *(
                json.dumps(r["extra"], ensure_ascii=False)
                if c == "extra"
                else (sqlite_now(r[c]) if is_sqlite and c == "updated_at" else r[c])
                for c in _COLUMNS
            ),
        )
        for r in records
    ]
    async with db.transaction() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.executemany(sql, rows)


async def _publish(db: Database, import_id: str, replace: bool) -> int:
    """The staged rows into the registry, and out of staging, in one transaction."""
    columns = ", ".join(_COLUMNS)
    sql = (
        f"INSERT INTO certificates ({columns}) SELECT {columns} FROM certificate_staging "
        "WHERE import_id = :import_id ORDER BY id"
    )
    if replace:
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("cert_no", "status"))
        # An explicit replacement updates the holder's data; a revoked certificate stays revoked.
        sql += (
            f" ON CONFLICT (cert_no) DO UPDATE SET {updates}, status = CASE WHEN certificates.status = "
            f"'{REVOKED}' THEN certificates.status ELSE excluded.status END"
        )
    try:
        async with db.transaction() as session:
            result = await session.execute(text(sql), {"import_id": import_id})
            await session.execute(delete(StagedCertificate).where(StagedCertificate.import_id == import_id))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
    except IntegrityError as exc:
        raise _Collision("有证书编号在本次导入期间已被另一批次登记；未导入任何记录，请核对后重试") from exc


async def _discard(db: Database, import_id: str) -> None:
    async with db.transaction() as session:
        await session.execute(delete(StagedCertificate).where(StagedCertificate.import_id == import_id))


async def _discard_abandoned(db: Database, now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(delete(StagedCertificate).where(StagedCertificate.staged_at < now - ABANDONED_AFTER))


# -- revoking ---------------------------------------------------------------------------


async def revoke(
    session: AsyncSession, reason: str, at: datetime, numbers: list[str] | None = None, batch: str | None = None
) -> int:
    """Mark certificates 注销 by number or by whole import batch (苏人社办函〔2022〕54号 五)."""
    stmt = update(Certificate).values(status=REVOKED, revoke_reason=reason, revoked_at=at)
    if numbers:
        stmt = stmt.where(Certificate.cert_no.in_([normalise(n) for n in numbers]))
    elif batch:
        stmt = stmt.where(Certificate.batch == batch)
    else:
        raise ValueError("revoke needs numbers or a batch")
    result = await session.execute(stmt.where(Certificate.status != REVOKED))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- looking up -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimits:
    per_user: int = 10
    window: timedelta = timedelta(minutes=10)
    overall_per_minute: int = 600


@dataclass
class LookupResult:
    result: str  # found | not_found | rate_limited_user | rate_limited_overall
    holder: dict[str, Any] | None = None
    retry_after_s: int = 0

    @property
    def found(self) -> bool:
        return self.result == "found"


def same_name(a: str, b: str) -> bool:
    def clean(s: str) -> str:
        return re.sub(r"[\s·•.．]", "", unicodedata.normalize("NFKC", s))

    return clean(a) == clean(b)


async def lookup(
    session: AsyncSession,
    number: str,
    name: str,
    requester: str,
    now: datetime,
    limits: RateLimits | None = None,
) -> LookupResult:
    """The holder's masked record if number and name both match; otherwise "not_found",
    whether the number is unknown or the name is wrong, so guesses learn nothing."""
    if limits is not None:
        limited = await _rate_limited(session, requester, now, limits)
        if limited is not None:
            await _audit(session, requester, number, limited.result, now)
            return limited
    row = await _holder_row(session, normalise(number))
    result = LookupResult("not_found")
    if row is not None and same_name(row.name, name):
        result = LookupResult("found", holder=_holder(row))
    await _audit(session, requester, number, result.result, now)
    return result


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def _holder_row(session: AsyncSession, number: str) -> Any:
    # A lookup is one indexed read and one audit insert, and the hotline expects it in
    # milliseconds: on SQLite both go straight to the driver (see storage.state).
    if _is_sqlite(session):
        driver = await sqlite_driver(session)
        columns = ", ".join(c.key for c in _HOLDER_COLUMNS)
        rows = await driver.execute_fetchall(f"SELECT {columns} FROM certificates WHERE cert_no = ?", (number,))
        return SimpleNamespace(**dict(zip([c.key for c in _HOLDER_COLUMNS], rows[0], strict=True))) if rows else None
    return (await session.execute(select(*_HOLDER_COLUMNS).where(Certificate.cert_no == number))).first()


async def _audit(session: AsyncSession, requester: str, number: str, result: str, now: datetime) -> None:
    if _is_sqlite(session):
        driver = await sqlite_driver(session)
        await driver.execute(
            "INSERT INTO cert_lookups (requester, number_hash, result, at) VALUES (?, ?, ?, ?)",
            (requester, number_hash(number), result, sqlite_now(now)),
        )
        return
    values = {"requester": requester, "number_hash": number_hash(number), "result": result, "at": now}
    await session.execute(insert(CertLookup).values(**values))


async def _rate_limited(
    session: AsyncSession, requester: str, now: datetime, limits: RateLimits
) -> LookupResult | None:
    """Counts this requester's lookups in the window, everyone's in the last minute, and the
    requester's oldest one in the window (for "try again in N minutes"), in one statement.
    Refused attempts do not count towards everyone's budget: one account hammering the bot
    spends at most its own allowance of it, so it cannot lock the others out."""
    since, minute_ago = now - limits.window, now - timedelta(minutes=1)
    if _is_sqlite(session):
        driver = await sqlite_driver(session)
        rows = await driver.execute_fetchall(
            "SELECT count(*), min(at), "
            "(SELECT count(*) FROM cert_lookups WHERE at > ? AND result NOT LIKE 'rate_limited%') "
            "FROM cert_lookups WHERE requester = ? AND at > ?",
            (sqlite_now(minute_ago), requester, sqlite_now(since)),
        )
        mine, oldest_text, overall = rows[0]
        oldest = datetime.fromisoformat(oldest_text).replace(tzinfo=UTC) if oldest_text else None
    else:
        overall_q = (
            select(func.count())
            .select_from(CertLookup)
            .where(CertLookup.at > minute_ago, CertLookup.result.not_like("rate_limited%"))
            .scalar_subquery()
        )
        query = select(func.count(), func.min(CertLookup.at), overall_q).where(
            CertLookup.requester == requester, CertLookup.at > since
        )
        mine, oldest, overall = (await session.execute(query)).one()
    if (mine or 0) >= limits.per_user:
        wait = (oldest + limits.window - now).total_seconds() if oldest else limits.window.total_seconds()
        return LookupResult("rate_limited_user", retry_after_s=max(int(wait) + 1, 1))
    if (overall or 0) >= limits.overall_per_minute:
        return LookupResult("rate_limited_overall", retry_after_s=60)
    return None


_HOLDER_COLUMNS = (
    Certificate.name,
    Certificate.id_no_masked,
    Certificate.occupation_name,
    Certificate.occupation_code,
    Certificate.job_name,
    Certificate.level,
    Certificate.issue_date,
    Certificate.org_name,
    Certificate.status,
    Certificate.revoke_reason,
    Certificate.revoked_at,
)


def _day(value: datetime | str | None) -> str | None:
    """The calendar day in China of a moment stored in UTC (a revocation at 02:30 Beijing time
    is the previous day in UTC)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date().isoformat()


def _holder(row: Any) -> dict[str, Any]:
    return {
        "name": mask_name(row.name),
        "id_no": row.id_no_masked,
        "occupation": row.occupation_name,
        "occupation_code": row.occupation_code,
        "job": row.job_name,
        "level": row.level,
        "level_name": LEVEL_NAMES.get(row.level, str(row.level)),
        "issue_date": row.issue_date,
        "org_name": row.org_name,
        "status": row.status,
        "revoke_reason": row.revoke_reason,
        "revoked_at": _day(row.revoked_at),
    }
