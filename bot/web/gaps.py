"""Knowledge gaps for triage: the open gap questions (storage.web_reports) grouped by how
alike they read, each group with the clauses and the out-of-scope topic it most likely
belongs to."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from knowledge.base import KnowledgeBase
from knowledge.lexicon import bigrams
from knowledge.retrieval import Passage
from storage.web_reports import GapQuestion

# Two questions share a group when this much of their (rarity-weighted) characters and
# character pairs is shared, or a lower share when the model also reads them alike (the
# same nearest clause, or the same out-of-scope topic).
SIMILAR = 0.45
SIMILAR_AND_ALIKE = 0.2
SUGGESTIONS = 3
# Only the most asked are grouped: each costs a search (a few milliseconds).
MAX_QUESTIONS = 300


@dataclass
class GapGroup:
    questions: list[GapQuestion]
    suggestions: list[Passage] = field(default_factory=list)
    topic: str = ""  # the out-of-scope topic the model thinks it nearest, "" if none

    @property
    def lead(self) -> GapQuestion:
        return self.questions[0]

    @property
    def count(self) -> int:
        return sum(q.count for q in self.questions)

    @property
    def disliked(self) -> int:
        return sum(q.disliked for q in self.questions)


@dataclass
class _Read:
    gap: GapQuestion
    grams: Counter[str]
    key: str  # how the model reads it: "t:<topic>" or "c:<clause id>"
    suggestions: list[Passage]
    topic: str


def group(gaps: list[GapQuestion], kb: KnowledgeBase, limit: int = 50) -> list[GapGroup]:
    """Most-asked first; each question joins the first group whose leader it resembles."""
    reads = [_read(g, kb) for g in sorted(gaps, key=lambda g: (-g.count, g.question))[:MAX_QUESTIONS]]
    df = Counter(g for r in reads for g in r.grams)
    idf = {g: math.log(1 + len(reads) / n) for g, n in df.items()}
    leaders: list[tuple[_Read, GapGroup]] = []
    for r in reads:
        home = next((grp for lead, grp in leaders if _alike(lead, r, idf)), None)
        if home is None:
            leaders.append((r, GapGroup([r.gap], r.suggestions, r.topic)))
        else:
            home.questions.append(r.gap)
    return sorted((g for _, g in leaders), key=lambda g: -g.count)[:limit]


def _read(gap: GapQuestion, kb: KnowledgeBase) -> _Read:
    result = kb.search(gap.question, k=SUGGESTIONS)
    topic = result.topic if not result.answered and result.topic not in ("", "other") else ""
    key = f"t:{topic}" if topic else (f"c:{result.hits[0].passage.id}" if result.hits else "")
    grams = Counter(gap.question.replace(" ", "")) + Counter(bigrams(gap.question))
    return _Read(gap, grams, key, [h.passage for h in result.hits], topic)


def _alike(a: _Read, b: _Read, idf: dict[str, float]) -> bool:
    share = _similarity(a.grams, b.grams, idf)
    return share >= SIMILAR or (share >= SIMILAR_AND_ALIKE and bool(a.key) and a.key == b.key)


def _similarity(a: Counter[str], b: Counter[str], idf: dict[str, float]) -> float:
    """Weighted Dice: shared grams over all grams, each weighted by its rarity."""
    shared = sum(min(a[g], b[g]) * idf[g] for g in a.keys() & b.keys())
    total = sum(n * idf[g] for g, n in a.items()) + sum(n * idf[g] for g, n in b.items())
    return 2 * shared / total if total else 0.0
