"""Everything a handler may use besides its message and state, built once per process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.settings import Settings
from handlers.capability import Capability
from knowledge.base import KnowledgeBase
from knowledge.eligibility import EligibilityRules
from knowledge.extract import digits
from knowledge.flows import FlowBook
from knowledge.intents import IntentClassifier, bundled_classifier, saved_classifier
from knowledge.sources import resolve
from knowledge.spelling import pinyin_syllables, shared_respeller
from storage.certificates import RateLimits
from storage.db import Database
from storage.knowledge_inputs import knowledge_inputs, knowledge_version
from storage.notices import seed_bundled

EXPORTS_DIR = Path("var/exports")


@dataclass
class Services:
    settings: Settings
    knowledge: KnowledgeBase
    exports_dir: Path = EXPORTS_DIR
    capabilities: list[Capability] = field(default_factory=list)
    # (clause count, highest clause id, highest added bank question id) the index was built from.
    knowledge_version: tuple[int, ...] = (0, 0, 0)
    classifier: IntentClassifier = field(default_factory=bundled_classifier)

    def classify(self, text: str) -> str:
        """The capability free text outside a dialogue is for (see knowledge.intents)."""
        return self.classifier.predict(text)[0]

    @classmethod
    async def load(cls, db: Database, settings: Settings) -> Services:
        """Loads the saved index when the notices and questions are those it was built from."""
        async with db.transaction() as session:
            await seed_bundled(session)
            passages, added, version = await knowledge_inputs(session)
        directory = settings.snapshot_dir()
        knowledge = KnowledgeBase.saved(passages, added, directory, version)
        shared_respeller().load_initials(directory)
        return cls.build(settings, knowledge, knowledge_version=version, classifier=saved_classifier(directory))

    async def reloaded(self, db: Database) -> Services | None:
        """Services over the notices and bank questions now in the store, or None if they have
        not changed (`skillbot notices add` / `questions add` in another process are picked up
        without a restart)."""
        async with db.transaction() as session:
            if await knowledge_version(session) == self.knowledge_version:
                return None
            passages, added, version = await knowledge_inputs(session)
        # Building the index is CPU work; a thread keeps the event loop answering meanwhile.
        knowledge = await asyncio.to_thread(KnowledgeBase.saved, passages, added, self.settings.snapshot_dir(), version)
        return Services.build(self.settings, knowledge, self.exports_dir, version, self.classifier)

    @classmethod
    def build(
        cls,
        settings: Settings,
        knowledge: KnowledgeBase,
        exports_dir: Path = EXPORTS_DIR,
        knowledge_version: tuple[int, ...] = (0, 0, 0),
        classifier: IntentClassifier | None = None,
    ) -> Services:
        """Raises SourceError if a rule or flow cites a clause the knowledge base lacks."""
        # The classifier's data and the spelling data are checked, the classifier trained and
        # the initials people type counted and pinyin's syllables listed (under a second), at
        # start-up: not on a message.
        shared_respeller().initials()
        pinyin_syllables()
        digits("一")  # imports cn2an (0.2 s), which the first message with a number would wait for
        classifier = classifier or bundled_classifier()
        services = cls(settings, knowledge, exports_dir, knowledge_version=knowledge_version, classifier=classifier)
        services.capabilities = build_capabilities(services)
        return services


def lookup_limits(settings: Settings) -> RateLimits:
    """Certificate lookups allowed, from the settings: the same for chat and the web console."""
    return RateLimits(
        per_user=settings.cert_lookups_per_user,
        window=timedelta(minutes=settings.cert_lookup_window_minutes),
        overall_per_minute=settings.cert_lookups_per_minute,
    )


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
            lookup_limits(services.settings),
        ),
        Eligibility(rules, rules.resolve_sources(passages)),
        Filing(flows, flows.resolve_sources(passages)),
        PolicyQA(services.knowledge),
    ]
