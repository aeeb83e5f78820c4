"""Everything a handler may use besides its message and state, built once per process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from handlers.capability import Capability
from knowledge.bank import QuestionBank
from knowledge.base import KnowledgeBase, bundled_bank
from knowledge.eligibility import EligibilityRules
from knowledge.flows import FlowBook
from knowledge.intents import bundled_classifier
from knowledge.retrieval import Passage
from knowledge.sources import resolve
from storage.certificates import RateLimits
from storage.db import Database
from storage.notices import clauses_version, load_passages, seed_bundled
from storage.questions import added_questions, bank_version

EXPORTS_DIR = Path("var/exports")


@dataclass
class Services:
    settings: Settings
    knowledge: KnowledgeBase
    exports_dir: Path = EXPORTS_DIR
    capabilities: list[Capability] = field(default_factory=list)
    # (clause count, highest clause id, highest added bank question id) the index was built from.
    knowledge_version: tuple[int, ...] = (0, 0, 0)

    def classify(self, text: str) -> str:
        """The capability free text outside a dialogue is for (see knowledge.intents)."""
        return bundled_classifier().predict(text)[0]

    @classmethod
    async def load(cls, db: Database, settings: Settings) -> Services:
        async with db.transaction() as session:
            await seed_bundled(session)
            passages, bank, version = await knowledge_inputs(session)
        return cls.build(settings, KnowledgeBase(passages, bank=bank), knowledge_version=version)

    async def reloaded(self, db: Database) -> Services | None:
        """Services over the notices and bank questions now in the store, or None if they have
        not changed (`skillbot notices add` / `questions add` in another process are picked up
        without a restart)."""
        async with db.transaction() as session:
            if await _version(session) == self.knowledge_version:
                return None
            passages, bank, version = await knowledge_inputs(session)
        # Building the index is CPU work; a thread keeps the event loop answering meanwhile.
        knowledge = await asyncio.to_thread(KnowledgeBase, passages, None, bank)
        return Services.build(self.settings, knowledge, self.exports_dir, version)

    @classmethod
    def build(
        cls,
        settings: Settings,
        knowledge: KnowledgeBase,
        exports_dir: Path = EXPORTS_DIR,
        knowledge_version: tuple[int, ...] = (0, 0, 0),
    ) -> Services:
        """Raises SourceError if a rule or flow cites a clause the knowledge base lacks."""
        bundled_classifier()  # its data is checked, and it is trained, at start-up: not on the first message
        services = cls(settings, knowledge, exports_dir, knowledge_version=knowledge_version)
        services.capabilities = build_capabilities(services)
        return services


async def _version(session: AsyncSession) -> tuple[int, ...]:
    return (*await clauses_version(session), await bank_version(session))


async def knowledge_inputs(session: AsyncSession) -> tuple[list[Passage], QuestionBank, tuple[int, ...]]:
    """The clauses, the bundled bank with what operators added, and their version."""
    passages = await load_passages(session)
    answerable, out_of_scope = await added_questions(session)
    bank = bundled_bank().extended(answerable, out_of_scope)
    return passages, bank, await _version(session)


def build_capabilities(services: Services) -> list[Capability]:
    """In free-text priority order; the Q&A capability is the fallback."""
    from handlers.certificate import SOURCES, CertificateLookup
    from handlers.eligibility import Eligibility
    from handlers.filing import Filing
    from handlers.qa import PolicyQA

    passages = list(services.knowledge.passages.values())
    rules = EligibilityRules.load()
    flows = FlowBook.load()
    return [
        CertificateLookup(
            {ref: resolve(ref, passages, "handlers/certificate.py") for ref in SOURCES},
            RateLimits(
                per_user=services.settings.cert_lookups_per_user,
                window=timedelta(minutes=services.settings.cert_lookup_window_minutes),
                overall_per_minute=services.settings.cert_lookups_per_minute,
            ),
        ),
        Eligibility(rules, rules.validate(passages)),
        Filing(flows, flows.validate(passages)),
        PolicyQA(services.knowledge),
    ]
