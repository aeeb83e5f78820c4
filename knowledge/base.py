"""The knowledge base a process works with: the retriever over the stored clauses, and the
contacts the notices give for questions they do not answer."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import astuple, dataclass, replace
from functools import lru_cache
from pathlib import Path

from knowledge.answering import MODEL_FILE, Answerer, AnswerModel, BankIndex
from knowledge.bank import BankQuestion, OosQuestion, QuestionBank, Topic
from knowledge.jieba_import import jieba
from knowledge.lexicon import Lexicon
from knowledge.notices import NoticeMeta, parse_notice
from knowledge.redact import redact
from knowledge.retrieval import RERANK_DEPTH, Passage, Retriever, SearchResult
from knowledge.snapshots import fingerprint, load_or_build, recall, remember

# The national HR hotline; every answer we cannot give points here as the last resort.
NATIONAL_HOTLINE = "12333（人社服务热线）"
RECENT_QUESTIONS = 512  # searches remembered per knowledge base
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


_LEXICON: list[Lexicon] = []


def shared_lexicon(directory: Path | None = None) -> Lexicon:
    """jieba's dictionary takes a second to load; one per process is enough. The first call
    that names a snapshot directory loads it from there (a quarter of the time)."""
    if not _LEXICON:
        key = fingerprint(f"jieba {jieba.__version__}")
        _LEXICON.append(load_or_build(directory, "lexicon", key, Lexicon.load))
    return _LEXICON[0]


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
        self._recent: OrderedDict[str, SearchResult] = OrderedDict()
        self.bank = bank if bank is not None else bundled_bank()
        model = model if model is not None else bundled_model()
        # Without a model (or a bank) the word ranker answers on its own, as it did before.
        self.answerer = (
            Answerer(self.retriever, BankIndex(self.bank, passages), model)
            if model is not None and self.bank.answerable
            else None
        )

    @classmethod
    def saved(
        cls,
        passages: list[Passage],
        added: tuple[list[BankQuestion], list[OosQuestion]],
        directory: Path | None,
        version: tuple[int, ...] | None = None,
    ) -> KnowledgeBase:
        """The knowledge base over these clauses and the bundled bank with the added questions,
        loaded from `directory` when it was built there before from the same inputs; noted as
        the one for the store's `version`, if given (see `recalled`)."""
        shared_lexicon(directory)
        key = fingerprint(repr([astuple(p) for p in passages]), repr(added))
        built = load_or_build(directory, "knowledge", key, lambda: cls(passages, bank=bundled_bank().extended(*added)))
        if version is not None:
            remember(directory, "knowledge", key, fingerprint(repr(version)))
        return built

    @classmethod
    def recalled(cls, directory: Path | None, version: tuple[int, ...]) -> KnowledgeBase | None:
        """The knowledge base saved for this store version by an earlier process, found without
        reading the clauses (`storage.quick_version`); None if there is none."""
        if directory is None:
            return None
        shared_lexicon(directory)  # before the knowledge base, which is unpickled onto it
        found = recall(directory, "knowledge", fingerprint(repr(version)))
        return found if isinstance(found, cls) else None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("lexicon", "_recent")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, lexicon=shared_lexicon(), _recent=OrderedDict())

    def search(self, question: str, k: int = 5, remember: bool = True) -> SearchResult:
        """The clauses for a question, best first. Recent questions are remembered, so the
        engine can search before it takes the database lock and the handler finds it done
        (`remember=False`: searched afresh and not kept, as a benchmark times it)."""
        if not remember or k > RERANK_DEPTH or redact(question) != question:
            # Nor is a question holding an ID, phone or certificate number kept in memory.
            return self._search(question, k)
        result = self._recent.get(question)
        if result is None:
            # Any k up to the rerank depth ranks the same candidates; only the cut differs.
            result = self._recent[question] = self._search(question, RERANK_DEPTH)
            if len(self._recent) > RECENT_QUESTIONS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(question)
        # A copy: callers may annotate what they were given.
        return replace(
            result,
            hits=result.hits[: max(k, 1)],
            regions=set(result.regions),
            uncovered_places=set(result.uncovered_places),
            terms=dict(result.terms),
            unknown=list(result.unknown),
            evidence=list(result.evidence),
        )

    def _search(self, question: str, k: int) -> SearchResult:
        result = self.answerer.search(question, k) if self.answerer is not None else self.retriever.search(question, k)
        return self._for_the_place_asked(result)

    def _for_the_place_asked(self, result: SearchResult) -> SearchResult:
        """A question about a place is answered by that place's rule, an enclosing one's (a
        province's or the nation's), or one of a place inside it (shown as such) — never by a
        sibling's: 南京's subsidy rule is no answer to "黄石 补贴", it is a guess."""
        if not result.answered or not result.regions or not result.hits:
            return result
        region = result.hits[0].passage.region
        enclosing = {r for asked in result.regions for r in (asked, *self.lexicon.ancestors(asked))}
        if region in enclosing or result.regions & set(self.lexicon.ancestors(region)):
            return result
        result.answered = False
        result.reason = "other_region"
        return result

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
        wanted = [tidy_contact(x) for x in lines if any(ch.isdigit() for ch in x) or "联系人" in x]
        text = "；".join(x.rstrip("：:。") for x in wanted)
        if text and text not in seen:
            seen.add(text)
            out.append(Contact(p.region, p.doc_no, text))
    return out


_WRAPPED = re.compile(r"^[(（](.*)[)）]$")
_FIELD_GAP = re.compile(r"\s+(?=(?:联系)?(?:人|电话|单位)[:：])")


def tidy_contact(line: str) -> str:
    """A notice's sign-off contact as a reader expects it: "(联系人: 刘崑 联系电话: 85845299)"
    becomes "联系人：刘崑，联系电话：85845299"."""
    line = line.strip()
    if m := _WRAPPED.match(line):
        line = m.group(1).strip()
    line = _FIELD_GAP.sub("，", line)
    return re.sub(r"\s*[:：]\s*", "：", line)
