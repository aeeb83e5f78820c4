"""Phrasings operators add to the question bank; running bots pick them up on reload."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.bank import BankQuestion, OosQuestion
from storage.models import AddedQuestion


async def add_question(session: AsyncSession, question: BankQuestion | OosQuestion) -> int:
    if isinstance(question, BankQuestion):
        row = AddedQuestion(
            question=question.q, doc_no=question.doc, clause_path=question.clause, evidence=question.evidence
        )
    else:
        row = AddedQuestion(question=question.q, topic=question.topic, evidence="")
    row.style = question.style
    row.added_by = question.by or "operator"
    session.add(row)
    await session.flush()
    return row.id


async def remove_questions(session: AsyncSession, ids: list[int]) -> None:
    """Takes back phrasings added a moment ago (an attach that made the answer worse)."""
    await session.execute(delete(AddedQuestion).where(AddedQuestion.id.in_(ids)))


async def added_questions(session: AsyncSession) -> tuple[list[BankQuestion], list[OosQuestion]]:
    rows = (await session.scalars(select(AddedQuestion).order_by(AddedQuestion.id))).all()
    answerable = [
        BankQuestion(r.question, r.doc_no, r.clause_path, r.evidence, r.style, r.added_by)
        for r in rows
        if r.doc_no and r.clause_path
    ]
    out_of_scope = [OosQuestion(r.question, r.topic, r.style, r.added_by) for r in rows if r.topic]
    return answerable, out_of_scope
