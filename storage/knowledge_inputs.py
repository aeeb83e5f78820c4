"""What a knowledge base is built from, as stored: the clauses, the questions operators added
to the bundled bank, and a version that changes whenever either does."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.bank import BankQuestion, OosQuestion
from knowledge.retrieval import Passage
from storage.notices import clauses_version, load_passages
from storage.questions import added_questions, bank_version

AddedQuestions = tuple[list[BankQuestion], list[OosQuestion]]


async def knowledge_version(session: AsyncSession) -> tuple[int, ...]:
    """(clause count, highest clause id, highest added bank question id)."""
    return (*await clauses_version(session), await bank_version(session))


async def knowledge_inputs(session: AsyncSession) -> tuple[list[Passage], AddedQuestions, tuple[int, ...]]:
    passages = await load_passages(session)
    return passages, await added_questions(session), await knowledge_version(session)
