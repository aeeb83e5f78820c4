"""The certificate registry: import 名册 files all-or-nothing, revoke, and look up by number
and holder name with an audit row and rate limits."""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.certno import LEVEL_NAMES, decode, id_number_error, mask_id, mask_name, normalise
from knowledge.extract import level_in
from storage.db import Database
from storage.models import Certificate, CertLookup
from storage.state import sqlite_driver, sqlite_now

# 名册 header → column. Both spellings of 证件号 occur in practice.
HEADERS = {
    "评价机构编码": "org_code",
    "评价机构名称": "org_name",
    "姓名": "name",
    "证件类型": "id_type",
    "证件号": "id_no",
    "证件号码": "id_no",
    "性别": "gender",
    "出生日期": "birth_date",
    "职业编码": "occupation_code",
    "职业名称": "occupation_name",
    "工种名称": "job_name",
    "职业技能等级": "level",
    "证书编号": "cert_no",
    "发证日期": "issue_date",
}
REQUIRED = ("cert_no", "name", "id_type", "id_no", "org_code", "org_name", "occupation_code", "occupation_name")
REQUIRED += ("level", "issue_date")
_HEADER_OF = {column: header for header, column in reversed(list(HEADERS.items()))}
# 名册 columns kept for the record. 联系电话 and 电子邮箱 are personal contact data the
# registry does not need for verification, so they are not stored.
KEPT_EXTRA = ("是否本企业职工", "所在单位", "从事本职业(工种)时间", "从事本职业（工种）时间", "所在岗位", "入职时间")
ID_CARD_TYPES = ("居民身份证", "身份证", "二代身份证")
_OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")
CHUNK = 5000


class RosterError(ValueError):
    """A 名册 file that cannot be read at all (format, headers)."""


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


# -- reading files ----------------------------------------------------------------------


def read_roster(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    """(row count if cheap to know, rows as {header: value}) with 1-based file line numbers."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, lines = _scan_csv(path)
        return max(lines - 1, 0), _read_csv(path, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise RosterError(f"不支持的文件类型“{path.suffix}”：请使用 .csv 或 .xlsx")


def _scan_csv(path: Path) -> tuple[str, int]:
    """The file's encoding, UTF-8 (with or without BOM) or GB18030, and its line count, in one
    pass without loading it (a newline byte never occurs inside a character of either)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    lines += chunk.count(b"\n")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding, lines
        except UnicodeDecodeError:
            continue
    raise RosterError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")


def _read_csv(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        header = _header(next(reader, []))
        for line_no, values in enumerate(reader, start=2):
            if any(values):
                yield line_no, dict(zip(header, values, strict=False))


def _read_xlsx(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (in English) for a damaged file
        raise RosterError(
            "无法打开 Excel 文件：文件是空的、已损坏，或不是 .xlsx 格式。请用 Excel 另存为 .xlsx 后重试。"
        ) from exc
    sheet = book.active
    rows = sheet.iter_rows(values_only=True)
    header = _header(["" if v is None else str(v) for v in next(rows, ())])
    total = (sheet.max_row or 1) - 1

    def generate() -> Iterator[tuple[int, dict[str, Any]]]:
        for line_no, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield line_no, dict(zip(header, values, strict=False))
        book.close()

    return total, generate()


def _header(cells: list[str]) -> list[str]:
    header = [unicodedata.normalize("NFKC", c).strip() for c in cells]
    missing = [h for h, col in HEADERS.items() if col in REQUIRED and h not in header and h != "证件号码"]
    if "证件号码" in header and "证件号" in missing:
        missing.remove("证件号")
    if missing:
        raise RosterError("表头缺少这些列：" + "、".join(missing) + "（表头应与《职业技能等级认定人员名册》一致）")
    return header


# -- validating rows --------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # NFKC only where needed: most cells are ASCII or plain CJK, and NFKC costs on every cell.
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()


def parse_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    m = _DATE.match(_text(value))
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def parse_level(value: Any) -> int | None:
    text = _text(value)
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    return level_in(text)


def validate_row(raw: dict[str, Any], today: date) -> tuple[dict[str, Any], list[str]]:
    """A registry record from one 名册 row, and every problem found in it."""
    values: dict[str, Any] = {}
    for header, value in raw.items():
        column = HEADERS.get(header)
        if column is not None:
            # Dates may arrive as Excel date objects; everything else is read as text.
            values[column] = (
                value if column in ("issue_date", "birth_date") and not isinstance(value, str) else _text(value)
            )
    errors = [f"“{_HEADER_OF[col]}”为空" for col in REQUIRED if not values.get(col)]
    if errors:
        return {}, errors
    decoded = decode(values["cert_no"], today)
    if not decoded.valid:
        errors.append("证书编号不符合全国统一编码规则：" + ("；".join(decoded.errors) or "应为22位（S/Y开头）"))
    id_no = normalise(values["id_no"])
    if values["id_type"] in ID_CARD_TYPES and (problem := id_number_error(id_no)):
        errors.append(problem)
    issue = parse_date(values["issue_date"])
    if issue is None:
        errors.append(f"发证日期“{_text(values['issue_date'])}”无法识别（应为 YYYY-MM-DD）")
    elif issue > today.isoformat():
        errors.append(f"发证日期{issue}晚于今天")
    elif decoded.valid and int(issue[:4]) != decoded.fields["year"]:
        errors.append(f"发证日期{issue}与证书编号中的年份{decoded.fields['year']}不一致")
    birth = parse_date(values.get("birth_date")) if _text(values.get("birth_date")) else None
    if _text(values.get("birth_date")) and birth is None:
        errors.append(f"出生日期“{_text(values.get('birth_date'))}”无法识别")
    level = parse_level(values["level"])
    if level is None:
        errors.append(f"职业技能等级“{values['level']}”无法识别（应为1–5级或五级/初级工…一级/高级技师）")
    elif decoded.valid and level != decoded.fields["level"]:
        errors.append(f"职业技能等级{LEVEL_NAMES[level]}与证书编号第16位（{decoded.fields['level']}级）不一致")
    if not _OCCUPATION_CODE.match(values["occupation_code"]):
        errors.append(f"职业编码“{values['occupation_code']}”格式不对（应像 6-18-01-01）")
    if errors:
        return {}, errors
    record = {
        "cert_no": decoded.number,
        "org_code": values["org_code"],
        "org_name": values["org_name"],
        "name": values["name"],
        "id_type": values["id_type"],
        "id_no_masked": mask_id(id_no),
        "gender": values.get("gender") or None,
        "birth_date": birth,
        "occupation_code": values["occupation_code"],
        "occupation_name": values["occupation_name"],
        "job_name": values.get("job_name") or None,
        "level": level,
        "issue_date": issue,
        "extra": {k: _text(raw[k]) for k in KEPT_EXTRA if k in raw and _text(raw[k])},
    }
    return record, []


# -- importing --------------------------------------------------------------------------


async def import_roster(
    db: Database,
    path: Path,
    batch: str,
    today: date,
    on_progress: Callable[[int, int | None], None] | None = None,
    replace: bool = False,
) -> ImportReport:
    """Every row or none: rows are written in chunks inside one transaction that is rolled
    back if any row is invalid, so a bad row in the middle leaves the registry untouched.

    A number already in the registry is refused (another organisation's roster must not
    silently take it over) unless `replace` is asked for; a revocation survives either way."""
    total, rows = read_roster(path)
    report = ImportReport()
    seen: dict[str, int] = {}
    pending: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    async with db.transaction() as session:
        existing: dict[str, str] = {}
        if not replace:
            rows_in_store = await session.execute(select(Certificate.cert_no, Certificate.batch))
            existing = {number: held_by for number, held_by in rows_in_store}
        # The previous chunk is written while the next one is validated: SQLite works in
        # aiosqlite's thread without the GIL, so the two overlap on a 2-core machine.
        writing: asyncio.Task[int] | None = None
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
                    errors = [f"证书编号已在登记库中（批次 {existing[record['cert_no']]}）；确需替换请加 --replace"]
            if errors:
                report.errors += [(line_no, e) for e in errors]
                continue
            if report.errors:
                continue  # nothing will be kept; keep validating to report every bad row
            pending.append(record | {"batch": batch, "status": "有效", "updated_at": now})
            if len(pending) >= CHUNK:
                if writing is not None:
                    report.inserted_or_updated += await writing
                writing = asyncio.create_task(_upsert(session, pending, db.is_sqlite))
                pending = []
                for _ in range(3):  # let the task hand its chunk to the driver before we go on
                    await asyncio.sleep(0)
        if writing is not None:
            report.inserted_or_updated += await writing
        if report.errors:
            await session.rollback()
            return report
        if pending:
            report.inserted_or_updated += await _upsert(session, pending, db.is_sqlite)
        if on_progress is not None:
            on_progress(report.rows, total)
    return report


REVOKED = "注销"

_COLUMNS = (
    "cert_no", "org_code", "org_name", "name", "id_type", "id_no_masked", "gender", "birth_date",
    "occupation_code", "occupation_name", "job_name", "level", "issue_date", "extra", "batch", "status", "updated_at",
)  # fmt: skip


def _upsert_sql(is_sqlite: bool) -> str:
    marks = ", ".join("?" if is_sqlite else f"${i}" for i in range(1, len(_COLUMNS) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("cert_no", "status"))
    # An explicit replacement updates the holder's data; a revoked certificate stays revoked.
    return (
        f"INSERT INTO certificates ({', '.join(_COLUMNS)}) VALUES ({marks}) "
        f"ON CONFLICT (cert_no) DO UPDATE SET {updates}, "
        f"status = CASE WHEN certificates.status = '{REVOKED}' THEN certificates.status ELSE excluded.status END"
    )


async def _upsert(session: AsyncSession, records: list[dict[str, Any]], is_sqlite: bool) -> int:
    """Insert the rows; with an explicit replacement, update existing numbers (never un-revoking).

    Written straight to the driver's executemany on the session's own connection (so inside
    the same transaction): SQLAlchemy's per-row parameter processing cost ten times the
    insert itself, and a million-row 名册 must import in two minutes."""
    rows = [
        tuple(
            json.dumps(r["extra"], ensure_ascii=False)
            if c == "extra"
            else (sqlite_now(r[c]) if is_sqlite and c == "updated_at" else r[c])
            for c in _COLUMNS
        )
        for r in records
    ]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.executemany(_upsert_sql(is_sqlite), rows)
    return len(records)


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
    if value is None:
        return None
    return value[:10] if isinstance(value, str) else value.date().isoformat()


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
