"""What a knowledge base is built from, as stored: the clauses, the questions operators added
to the bundled bank, and a version that changes whenever either does."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.bank import BankQuestion, OosQuestion
from knowledge.retrieval import Passage
from storage.notices import load_passages
from storage.questions import added_questions
from storage.quick_version import KNOWLEDGE_VERSION_SQL

AddedQuestions = tuple[list[BankQuestion], list[OosQuestion]]


async def knowledge_version(session: AsyncSession) -> tuple[int, ...]:
    """(clause count, highest clause id, highest added bank question id): see
    `storage.quick_version`, which reads the same without SQLAlchemy."""
    return tuple(int(x) for x in (await session.execute(text(KNOWLEDGE_VERSION_SQL))).one())


async def knowledge_inputs(session: AsyncSession) -> tuple[list[Passage], AddedQuestions, tuple[int, ...]]:
    passages = await load_passages(session)
    return passages, await added_questions(session), await knowledge_version(session)
