"""The hotline desk's answer to a search: the clauses that answer with their answering
sentences marked, citation and copyable text, or the bot's own refusal with its referral.
Everything here is the Q&A capability's logic (handlers.qa), laid out for a page."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.web.library import Library
from handlers.qa import (
    RELATED_MAX,
    RELATED_MIN_RATIO,
    PolicyQA,
    answering_sentences,
    as_shown,
    whole_clause,
    whose_rule,
)
from knowledge.hits import citation
from knowledge.relations import Relation
from knowledge.retrieval import RERANK_DEPTH, Hit, Passage, SearchResult

MAX_QUERY = 200
OTHER_HITS = 3


@dataclass
class HitView:
    passage: Passage
    link: str
    # The clause text in pieces, each marked whether it is an answering sentence.
    segments: list[tuple[str, bool]]
    whose: str
    copy_text: str
    warnings: list[Relation] = field(default_factory=list)


@dataclass
class SearchView:
    query: str
    region: str
    answered: bool = False
    hits: list[HitView] = field(default_factory=list)
    # Lower-ranked clauses, shown folded: for a staff member to read, never as the answer.
    others: list[HitView] = field(default_factory=list)
    refusal: str = ""
    # Set when the answer lies outside the region filter: (region, doc_no) of that answer.
    elsewhere: tuple[str, str] | None = None
    # The search itself, for the Q&A log when the question was asked (not just typed).
    result: SearchResult | None = None


def search(library: Library, query: str, region: str = "") -> SearchView:
    query = " ".join(query.split())[:MAX_QUERY]
    region = region if region in library.regions else ""
    view = SearchView(query, region)
    if not query:
        return view
    kb = library.kb
    # Choosing a region is the caller saying where they are: the ranker routes by the place
    # named in the question, so name it there unless the question already does.
    asked = query if not region or region == "全国" or _short(region) in query else f"{_short(region)} {query}"
    result = kb.search(asked, k=RERANK_DEPTH)
    view.result = result
    allowed = library.applies_in(region)
    shown = [h for h in result.hits if h.passage.region in allowed]
    best = result.hits[0] if result.hits else None
    if result.answered and best is not None and best.passage.region in allowed:
        view.answered = True
        related = [h for h in shown[1:] if h.score >= RELATED_MIN_RATIO * best.score][:RELATED_MAX]
        view.hits = [_hit(library, result, best, "lead")] + [_hit(library, result, h, "related") for h in related]
        rest = [h for h in shown if h is not best and h not in related]
    else:
        if result.answered and best is not None:
            view.elsewhere = (best.passage.region, best.passage.doc_no)
        # The same refusal the bot gives (handlers.qa), with its referral.
        view.refusal = PolicyQA(kb).refusal(result).text
        rest = shown
    view.others = [_hit(library, result, h, "other") for h in rest[:OTHER_HITS]]
    return view


def _hit(library: Library, result: SearchResult, hit: Hit, role: str) -> HitView:
    """`role`: "lead" (the answer), "related" (also answers, as the bot offers it) or "other"."""
    p = hit.passage
    whole = whole_clause(p)
    # The bank's quotes speak for the best clause only; the others are marked by the question's terms.
    sentences = answering_sentences(p.text, result.terms, result.evidence if role == "lead" else None, whole)
    whose = whose_rule(result.regions, p, library.kb)
    # The answer is copied as the bot gives it; any other clause, whole.
    copied = as_shown(sentences, p) if role == "lead" else [p.text.strip()]
    copy_text = "\n".join([whose, *copied, "", citation(p)])
    plain = whole or role == "other" or sentences == [p.text.strip()]
    segments = [(p.text, False)] if plain else mark(p.text, sentences)
    return HitView(p, library.link(p), segments, whose, copy_text, library.warnings(p.doc_no))


def mark(text: str, sentences: list[str]) -> list[tuple[str, bool]]:
    """`text` cut into pieces, the given sentences (in order of appearance) marked."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for sentence in sentences:
        start = text.find(sentence, pos)
        if start < 0:
            continue
        if start > pos:
            out.append((text[pos:start], False))
        out.append((sentence, True))
        pos = start + len(sentence)
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _short(region: str) -> str:
    """江苏省南京市 → 南京, 山东省青岛市 → 青岛, 江苏省 → 江苏: how people name the place."""
    name = region.rsplit("省", 1)[-1] or region
    return name.removesuffix("市").removesuffix("省") or name
