"""Every question asked, answered or not, and the votes on the answers."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.redact import redact
from knowledge.retrieval import Hit, SearchResult
from storage.models import Feedback, QaLog


async def log_question(session: AsyncSession, user_id: int, question: str, result: SearchResult) -> int:
    """The question (its personal numbers redacted) and the clause it got, if any; returns its id."""
    best: Hit | None = result.hits[0] if result.answered and result.hits else None
    row = QaLog(
        user_id=user_id,
        question=redact(question)[:1000],  # the gap report needs the words, not anyone's numbers
        answered=best is not None,
        doc_no=best.passage.doc_no if best else None,
        clause_path=best.passage.path if best else None,
        score=best.score if best else (result.hits[0].score if result.hits else 0.0),
    )
    session.add(row)
    await session.flush()
    return row.id


async def record_vote(session: AsyncSession, qa_id: int, user_id: int, vote: int) -> bool:
    """One vote per answer, from the user it was given to (ids in buttons can be forged);
    a second vote replaces the first. False when the answer is not that user's."""
    asked = await session.get(QaLog, qa_id)
    if asked is None or asked.user_id != user_id:
        return False
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(Feedback).values(qa_id=qa_id, user_id=user_id, vote=vote)
    await session.execute(stmt.on_conflict_do_update(index_elements=["qa_id", "user_id"], set_={"vote": vote}))
    return True
