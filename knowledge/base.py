"""The knowledge base a process works with: the retriever over the stored clauses, and the
contacts the notices give for questions they do not answer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.answering import MODEL_FILE, Answerer, AnswerModel, BankIndex
from knowledge.bank import QuestionBank, Topic
from knowledge.lexicon import Lexicon
from knowledge.notices import NoticeMeta, parse_notice
from knowledge.retrieval import Passage, Retriever, SearchResult

# The national HR hotline; every answer we cannot give points here as the last resort.
NATIONAL_HOTLINE = "12333（人社服务热线）"
_PHONE_LINE = re.compile(r"[^\n]*(电话|联系人)[^\n]*")


def passages_of(notices: Iterable[tuple[NoticeMeta, str]]) -> list[Passage]:
    """Passages straight from notice texts (no database): for tests and benchmarks."""
    out: list[Passage] = []
    for meta, raw in notices:
        for c in parse_notice(raw, meta):
            out.append(
                Passage(
                    len(out) + 1, meta.doc_no, meta.title, meta.issuer, meta.region, meta.date, c.path, c.kind, c.text
                )
            )
    return out


@lru_cache(maxsize=1)
def bundled_bank() -> QuestionBank:
    return QuestionBank.load()


@lru_cache(maxsize=1)
def bundled_model() -> AnswerModel | None:
    return AnswerModel.load() if MODEL_FILE.exists() else None


@lru_cache(maxsize=1)
def shared_lexicon() -> Lexicon:
    """jieba's dictionary takes a second to load; one per process is enough."""
    return Lexicon.load()


@dataclass(frozen=True)
class Contact:
    region: str
    doc_no: str
    text: str


class KnowledgeBase:
    """The clauses, the ranker over them and, where the bank has an answer model, the model
    that ranks with the question bank and decides whether to answer."""

    def __init__(
        self,
        passages: list[Passage],
        lexicon: Lexicon | None = None,
        bank: QuestionBank | None = None,
        model: AnswerModel | None = None,
    ) -> None:
        self.lexicon = lexicon or shared_lexicon()
        self.retriever = Retriever(passages, self.lexicon)
        self.passages = {p.id: p for p in passages}
        self.contacts = _extract_contacts(passages)
        self.bank = bank if bank is not None else bundled_bank()
        model = model if model is not None else bundled_model()
        # Without a model (or a bank) the word ranker answers on its own, as it did before.
        self.answerer = (
            Answerer(self.retriever, BankIndex(self.bank, passages), model)
            if model is not None and self.bank.answerable
            else None
        )

    def search(self, question: str, k: int = 5) -> SearchResult:
        if self.answerer is not None:
            return self.answerer.search(question, k)
        return self.retriever.search(question, k)

    def referral(self, topic: str) -> Topic | None:
        return self.bank.topics.get(topic)

    def passage(self, passage_id: int) -> Passage | None:
        return self.passages.get(passage_id)

    def contacts_for(self, regions: set[str]) -> list[Contact]:
        """Contacts of the regions asked about and their parents; all of them if none was named."""
        wanted = set(regions).union(*(self.lexicon.ancestors(name) for name in regions))
        return [c for c in self.contacts if not regions or c.region in wanted]


def _extract_contacts(passages: list[Passage]) -> list[Contact]:
    out: list[Contact] = []
    seen: set[str] = set()
    for p in passages:
        if p.kind != "closing":
            continue
        lines = [m.group(0).strip() for m in _PHONE_LINE.finditer(p.text)]
        text = "；".join(x.rstrip("：:。") for x in lines if any(ch.isdigit() for ch in x) or "联系人" in x)
        if text and text not in seen:
            seen.add(text)
            out.append(Contact(p.region, p.doc_no, text))
    return out
