"""Read-only reports over what users asked: where the knowledge base has gaps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Feedback, QaLog


@dataclass(frozen=True)
class DislikedAnswer:
    doc_no: str
    clause_path: str
    down: int
    up: int
    question: str


async def feedback_report(session: AsyncSession, limit: int = 20) -> tuple[list[tuple[str, int]], list[DislikedAnswer]]:
    """Unanswered questions by frequency, and answered clauses by number of 👎."""
    unanswered = await session.execute(
        select(QaLog.question, func.count().label("n"))
        .where(QaLog.answered.is_(False))
        .group_by(QaLog.question)
        .order_by(func.count().desc(), QaLog.question)
        .limit(limit)
    )
    down = func.sum(case((Feedback.vote < 0, 1), else_=0))
    up = func.sum(case((Feedback.vote > 0, 1), else_=0))
    disliked = await session.execute(
        select(QaLog.doc_no, QaLog.clause_path, down.label("down"), up.label("up"), func.min(QaLog.question))
        .join(Feedback, Feedback.qa_id == QaLog.id)
        .group_by(QaLog.doc_no, QaLog.clause_path)
        .having(down > 0)
        .order_by(down.desc())
        .limit(limit)
    )
    return (
        [(q, int(n)) for q, n in unanswered.all()],
        [DislikedAnswer(d or "", c or "", int(dn), int(u), q) for d, c, dn, u, q in disliked.all()],
    )
