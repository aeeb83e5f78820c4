"""Read-only views the web console needs beyond storage.reports: the knowledge gaps still
open, the usage overview, and the registry's import batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.certno import normalise
from storage.models import AddedQuestion, Certificate, Feedback, QaLog
from storage.users import as_utc

REVOKED = "注销"


@dataclass(frozen=True)
class GapQuestion:
    """A question users asked that the knowledge base did not serve: refused, or answered
    and voted 👎. Questions an operator has since added to the bank are no longer gaps."""

    question: str
    refused: int
    disliked: int
    last_at: datetime
    # The clause the 👎 answers came from, when there were any.
    answered_with: tuple[str, str] | None = None

    @property
    def count(self) -> int:
        return self.refused + self.disliked


async def open_gaps(session: AsyncSession, since: datetime | None = None, limit: int = 2000) -> list[GapQuestion]:
    in_bank = select(AddedQuestion.question)
    refused = (
        select(QaLog.question, func.count(), func.max(QaLog.created_at))
        .where(QaLog.answered.is_(False), QaLog.question.not_in(in_bank))
        .group_by(QaLog.question)
        .order_by(func.count().desc())
        .limit(limit)
    )
    disliked = (
        select(QaLog.question, QaLog.doc_no, QaLog.clause_path, func.count(), func.max(QaLog.created_at))
        .join(Feedback, Feedback.qa_id == QaLog.id)
        .where(Feedback.vote < 0, QaLog.question.not_in(in_bank))
        .group_by(QaLog.question, QaLog.doc_no, QaLog.clause_path)
        .order_by(func.count().desc())
        .limit(limit)
    )
    if since is not None:
        refused = refused.where(QaLog.created_at >= since)
        disliked = disliked.where(QaLog.created_at >= since)
    gaps: dict[str, GapQuestion] = {}
    for question, n, last in await session.execute(refused):
        gaps[question] = GapQuestion(question, int(n), 0, as_utc(last))
    for question, doc_no, path, n, last in await session.execute(disliked):
        before = gaps.get(question)
        gaps[question] = GapQuestion(
            question,
            before.refused if before else 0,
            (before.disliked if before else 0) + int(n),
            max(as_utc(last), before.last_at) if before else as_utc(last),
            (doc_no or "", path or ""),
        )
    return sorted(gaps.values(), key=lambda g: (-g.count, g.question))


@dataclass(frozen=True)
class DayCount:
    day: str
    asked: int
    answered: int


@dataclass(frozen=True)
class Overview:
    days: list[DayCount]
    up: int
    down: int
    top_clauses: list[tuple[str, str, int]]
    top_refusals: list[tuple[str, int]]

    @property
    def asked(self) -> int:
        return sum(d.asked for d in self.days)

    @property
    def answered(self) -> int:
        return sum(d.answered for d in self.days)


def _local_day(session: AsyncSession, zone: str):
    """The calendar day of a question where the hotline is, not in UTC (07:00 in Beijing is
    the previous day in UTC). SQLite knows no zones: it shifts by the zone's offset now."""
    if session.get_bind().dialect.name == "sqlite":
        offset = datetime.now(ZoneInfo(zone)).utcoffset() or timedelta()
        return func.date(QaLog.created_at, f"{int(offset.total_seconds()) // 60:+d} minutes")
    return func.date(func.timezone(zone, QaLog.created_at))


async def overview(session: AsyncSession, since: datetime, top: int = 10, zone: str = "UTC") -> Overview:
    day = _local_day(session, zone)
    answered = func.sum(case((QaLog.answered.is_(True), 1), else_=0))
    per_day = await session.execute(
        select(day, func.count(), answered).where(QaLog.created_at >= since).group_by(day).order_by(day)
    )
    votes = await session.execute(
        select(Feedback.vote, func.count())
        .join(QaLog, QaLog.id == Feedback.qa_id)
        .where(QaLog.created_at >= since)
        .group_by(Feedback.vote)
    )
    by_vote = {int(v): int(n) for v, n in votes}
    clauses = await session.execute(
        select(QaLog.doc_no, QaLog.clause_path, func.count())
        .where(QaLog.created_at >= since, QaLog.answered.is_(True))
        .group_by(QaLog.doc_no, QaLog.clause_path)
        .order_by(func.count().desc(), QaLog.doc_no, QaLog.clause_path)
        .limit(top)
    )
    refusals = await session.execute(
        select(QaLog.question, func.count())
        .where(QaLog.created_at >= since, QaLog.answered.is_(False))
        .group_by(QaLog.question)
        .order_by(func.count().desc(), QaLog.question)
        .limit(top)
    )
    return Overview(
        days=[DayCount(str(d), int(n), int(a or 0)) for d, n, a in per_day],
        up=by_vote.get(1, 0),
        down=by_vote.get(-1, 0),
        top_clauses=[(d or "", p or "", int(n)) for d, p, n in clauses],
        top_refusals=[(q, int(n)) for q, n in refusals],
    )


@dataclass(frozen=True)
class Batch:
    name: str
    total: int
    revoked: int
    updated_at: datetime

    @property
    def valid(self) -> int:
        return self.total - self.revoked


def _batch_rows():
    revoked = func.sum(case((Certificate.status == REVOKED, 1), else_=0))
    return select(Certificate.batch, func.count(), revoked, func.max(Certificate.updated_at)).group_by(
        Certificate.batch
    )


async def batches(session: AsyncSession) -> list[Batch]:
    rows = await session.execute(_batch_rows().order_by(func.max(Certificate.updated_at).desc(), Certificate.batch))
    return [Batch(b, int(n), int(r or 0), as_utc(at)) for b, n, r, at in rows]


async def batch(session: AsyncSession, name: str) -> Batch | None:
    row = (await session.execute(_batch_rows().where(Certificate.batch == name))).first()
    return Batch(row[0], int(row[1]), int(row[2] or 0), as_utc(row[3])) if row else None


async def statuses(session: AsyncSession, numbers: list[str]) -> dict[str, str]:
    """Registry status of each of these certificate numbers that is in the registry."""
    wanted = [normalise(n) for n in numbers]
    rows = await session.execute(select(Certificate.cert_no, Certificate.status).where(Certificate.cert_no.in_(wanted)))
    return {number: status for number, status in rows}
