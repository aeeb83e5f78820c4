"""Clause retrieval: BM25 over jieba words and character bigrams, with synonym and
homophone expansion, region and document-number awareness, and a confidence that asks how
much of the question the best clause actually covers."""

from __future__ import annotations

import math
import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.lexicon import CN_DIGITS, Lexicon, bigrams, normalise
from knowledge.spelling import PinyinTable, homophones, pinyin_table


@dataclass(frozen=True)
class Passage:
    id: int
    doc_no: str
    title: str
    issuer: str
    region: str
    date: str
    path: str
    kind: str
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    coverage: float


@dataclass
class SearchResult:
    question: str
    answered: bool
    hits: list[Hit]
    regions: set[str] = field(default_factory=set)
    uncovered_places: set[str] = field(default_factory=set)
    # Why it was not answered: no_match, low_confidence, unknown_topic, uncovered_region.
    reason: str = ""
    terms: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    # The answer model's probability that the question is answered by the best hit.
    confidence: float = 0.0
    # For a refusal: the out-of-scope topic the question is nearest to ("" if none).
    topic: str = ""
    # Quotes of the nearest bank questions of the best clause: the sentences that answer.
    evidence: list[str] = field(default_factory=list)


# Tuned on the development questions, then checked on held-out paraphrases (tests/data).
BIGRAM_WEIGHT = 0.35
SYNONYM_WEIGHT = 0.6
HOMOPHONE_WEIGHT = 0.9
REGION_MATCH = 1.5
REGION_PARENT = 1.1  # a national or provincial rule also binds the city asked about
REGION_CHILD = 0.85  # a city's rule, for a question about its province or the country
REGION_OTHER = 0.5
SINGLE_CHAR_WEIGHT = 0.3
DOC_NO_BOOST = 3.0
YEAR_BOOST = 1.15
RERANK_DEPTH = 20
COVERAGE_FLOOR = 0.5  # final score = BM25 × (COVERAGE_FLOOR + coverage)
FRAME_PRIOR = 0.8  # headers and sign-offs answer only questions aimed at them
# "打哪个电话": a clause that gives a phone number is the answer, even in a sign-off.
CONTACT_BOOST = 1.5
MIN_COVERAGE = 0.2
MIN_SCORE = 5.0
# A question naming a thing the notices never mention is answered only if the best clause
# covers nearly all the rest of it.
MIN_COVERAGE_WITH_UNKNOWN = 0.8

_ASKS_CONTACT = re.compile(r"电话|号码|联系人|连系人|联系方式|热线|打哪个|打什么号|找谁咨询|咨询电话")
_PHONE = re.compile(r"(?<!\d)(?:\d{3,4}-)?\d{7,8}(?!\d)")
_DOC_NO = re.compile(r"([\u4e00-\u9fff]{0,8})[〔\[(（【]?((?:19|20)\d{2})[〕\])）】]?第?(\d{1,4})号")
_SHORT_DOC_NO = re.compile(r"(?<![\d〔\]）)])(\d{1,4})号文")
_YEAR = re.compile(r"(20\d{2})年?")


class FieldIndex:
    """BM25 (k1, b) over one tokenisation of the passages, postings held as numpy arrays."""

    def __init__(self, docs: Iterable[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        # Postings grow in compact typed arrays, not lists of tuples: at a thousand notices
        # the tuples alone would cost hundreds of megabytes while the index is built.
        doc_ids: dict[str, array[int]] = {}
        tfs: dict[str, array[int]] = {}
        lengths = array("f")
        for doc_id, terms in enumerate(docs):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                if term not in doc_ids:
                    doc_ids[sys.intern(term)] = array("i")
                    tfs[term] = array("i")
                doc_ids[term].append(doc_id)
                tfs[term].append(tf)
        self.n_docs = len(lengths)
        length = np.frombuffer(lengths, dtype=np.float32) if self.n_docs else np.zeros(0, np.float32)
        avg = float(length.mean()) if self.n_docs else 1.0
        norm = k1 * (1 - b + b * length / max(avg, 1e-6))
        # All postings in three flat arrays (CSR by term): cheap to save, load and map.
        self.vocab: dict[str, int] = {}
        indptr = [0]
        ids_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        idf: list[float] = []
        for term, ids_array in doc_ids.items():
            ids = np.frombuffer(ids_array, dtype=np.int32).copy()
            counts = np.frombuffer(tfs.pop(term), dtype=np.int32).astype(np.float32)
            self.vocab[term] = len(idf)
            ids_parts.append(ids)
            weight_parts.append(counts * (k1 + 1) / (counts + norm[ids]))
            indptr.append(indptr[-1] + len(ids))
            df = len(ids)
            idf.append(math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.doc_ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int32)
        self.weights = np.concatenate(weight_parts) if weight_parts else np.zeros(0, np.float32)
        self.idf = idf
        self.max_idf = math.log(1 + (self.n_docs + 0.5) / 0.5)

    def term_idf(self, term: str) -> float:
        idx = self.vocab.get(term)
        return self.idf[idx] if idx is not None else self.max_idf

    def contains(self, term: str, doc: int) -> bool:
        """Whether passage `doc` has `term` (postings are sorted by passage)."""
        idx = self.vocab.get(term)
        if idx is None:
            return False
        ids = self.doc_ids[self.indptr[idx] : self.indptr[idx + 1]]
        pos = int(np.searchsorted(ids, doc))
        return pos < len(ids) and int(ids[pos]) == doc

    def score(self, terms: dict[str, float], out: np.ndarray, scale: float = 1.0) -> None:
        for term, weight in terms.items():
            idx = self.vocab.get(term)
            if idx is None:
                continue
            start, end = self.indptr[idx], self.indptr[idx + 1]
            out[self.doc_ids[start:end]] += (scale * weight * self.idf[idx]) * self.weights[start:end]


class Retriever:
    def __init__(self, passages: Sequence[Passage], lexicon: Lexicon) -> None:
        self.passages = list(passages)
        self.lexicon = lexicon
        self.words = FieldIndex(lexicon.words(self._indexed_text(p)) for p in self.passages)
        self.bigrams = FieldIndex(bigrams(self._indexed_text(p)) for p in self.passages)
        self.norm_texts = [normalise(self._indexed_text(p)).translate(CN_DIGITS) for p in self.passages]
        self._regions = sorted({p.region for p in self.passages})
        self._region_ids = {r: i for i, r in enumerate(self._regions)}
        self.region_of = np.array([self._region_ids[p.region] for p in self.passages], dtype=np.int32)
        self.doc_nos = sorted({p.doc_no for p in self.passages})
        doc_ids = {d: i for i, d in enumerate(self.doc_nos)}
        self._doc_of = np.array([doc_ids[p.doc_no] for p in self.passages], dtype=np.int32)
        self._year_of = np.array([int(p.date[:4]) if p.date[:4].isdigit() else 0 for p in self.passages])
        self._pinyin_vocab = self._build_pinyin_vocab()
        self._pieces = set(self.words.vocab) | set(self.bigrams.vocab)
        self._kind_prior = np.array(
            [FRAME_PRIOR if p.kind in ("preamble", "closing") else 1.0 for p in self.passages], dtype=np.float32
        )
        self._has_phone = np.array([bool(_PHONE.search(p.text)) for p in self.passages])

    def __getstate__(self) -> dict:
        # The lexicon (jieba's dictionary) is shared by the process, not part of a saved index.
        return {k: v for k, v in self.__dict__.items() if k != "lexicon"}

    def __setstate__(self, state: dict) -> None:
        from knowledge.base import shared_lexicon

        self.__dict__.update(state, lexicon=shared_lexicon())

    @staticmethod
    def _indexed_text(p: Passage) -> str:
        # The heading path is part of what a clause is about ("二、规范办赛行为").
        return f"{p.path}\n{p.text}"

    def _build_pinyin_vocab(self) -> PinyinTable:
        return pinyin_table(self.words.vocab)

    # --- query analysis -------------------------------------------------------------

    def _expand(self, words: Iterable[str]) -> dict[str, float]:
        terms: dict[str, float] = {}
        for word in words:
            own = SINGLE_CHAR_WEIGHT if len(word) == 1 else 1.0
            terms[word] = max(terms.get(word, 0.0), own)
            for alt in self.lexicon.synonyms.get(word, ()):
                for piece in self.lexicon.words(alt) or [alt]:
                    terms[piece] = max(terms.get(piece, 0.0), SYNONYM_WEIGHT)
        return terms

    def _homophones(self, question: str) -> dict[str, str]:
        """Words the question probably meant: same pinyin as a corpus word, sharing a
        character with it, and not themselves a corpus word ("备按" → "备案")."""
        return homophones(normalise(question), self._pinyin_vocab, self.words.vocab)

    def _doc_filter(self, question: str) -> np.ndarray | None:
        q = normalise(question).replace(" ", "")
        wanted: set[int] = set()
        for prefix, year, number in _DOC_NO.findall(q):
            for i, doc_no in enumerate(self.doc_nos):
                d = normalise(doc_no)
                if f"{year}" in d and d.endswith(f"{number}号") and (not prefix or prefix[-2:] in d):
                    wanted.add(i)
        for number in _SHORT_DOC_NO.findall(q):
            wanted.update(i for i, d in enumerate(self.doc_nos) if normalise(d).endswith(f"〕{number}号"))
        if not wanted:
            return None
        return np.isin(self._doc_of, list(wanted))

    def region_multiplier(self, regions: set[str]) -> np.ndarray | None:
        if not regions:
            return None
        factors = np.full(len(self._regions), REGION_OTHER, dtype=np.float32)
        for name in regions:
            for i, r in enumerate(self._regions):
                if r == name:
                    factor = REGION_MATCH
                elif r in self.lexicon.ancestors(name):
                    factor = REGION_PARENT
                elif name in self.lexicon.ancestors(r):
                    factor = REGION_CHILD
                else:
                    continue
                factors[i] = max(factors[i], factor)
        return factors[self.region_of]

    # --- search ---------------------------------------------------------------------

    def search(self, question: str, k: int = 5) -> SearchResult:
        covered, uncovered = self.lexicon.regions_in(normalise(question))
        question_text = self.lexicon.strip_places(normalise(question))
        words = self.lexicon.words(question_text)
        terms = self._expand(words)
        corrections = self._homophones(question_text)
        for fixed in corrections.values():
            terms[fixed] = max(terms.get(fixed, 0.0), HOMOPHONE_WEIGHT)
        result = SearchResult(question, False, [], covered, uncovered, terms=terms)
        if not self.passages or not terms:
            result.reason = "uncovered_region" if uncovered and not covered else "no_match"
            return result

        scores = np.zeros(len(self.passages), dtype=np.float32)
        self.words.score(terms, scores)
        query_bigrams = Counter(bigrams(question_text) + [b for w in corrections.values() for b in bigrams(w)])
        self.bigrams.score(dict(query_bigrams), scores, scale=BIGRAM_WEIGHT)
        multiplier = self.region_multiplier(covered)
        if multiplier is not None:
            scores *= multiplier
        doc_filter = self._doc_filter(question)
        if doc_filter is not None:
            scores = np.where(doc_filter, scores * DOC_NO_BOOST + 1.0, scores)
        years = {int(y) for y in _YEAR.findall(question)}
        if years:
            scores = np.where(np.isin(self._year_of, list(years)), scores * YEAR_BOOST, scores)

        if _ASKS_CONTACT.search(question):
            scores *= np.where(self._has_phone, CONTACT_BOOST, self._kind_prior)
        else:
            scores *= self._kind_prior
        depth = max(k, RERANK_DEPTH)
        top = np.argpartition(-scores, depth)[:depth] if len(scores) > depth else np.arange(len(scores))
        candidates = []
        options = self._coverage_options(words, corrections)
        for i in top:
            if scores[i] <= 0:
                continue
            coverage = self._coverage(options, int(i))
            candidates.append(Hit(self.passages[i], float(scores[i]) * (COVERAGE_FLOOR + coverage), coverage))
        hits = sorted(candidates, key=lambda h: -h.score)[: max(k, 1)]
        result.hits = hits
        result.unknown = self.unknown_words(question_text, corrections)
        if uncovered and not covered:
            result.reason = "uncovered_region"
        elif not hits:
            result.reason = "no_match"
        elif result.unknown and hits[0].coverage < MIN_COVERAGE_WITH_UNKNOWN:
            result.reason = "unknown_topic"
        elif hits[0].coverage < MIN_COVERAGE or hits[0].score < MIN_SCORE:
            result.reason = "low_confidence"
        else:
            result.answered = True
        return result

    def unknown_words(self, question: str, corrections: dict[str, str]) -> list[str]:
        """Nouns of the question that no notice contains, even as a compound of known parts,
        through a synonym, or after correcting a homophone typo."""
        out = []
        for noun in self.lexicon.nouns(question):
            if noun in corrections or any(noun in typed for typed in corrections):
                continue
            stripped = noun.strip("".join(w for w in self.lexicon.stopwords if len(w) == 1))
            candidates = [noun, stripped, *self.lexicon.synonyms.get(noun, ())]
            if not any(c and self._known(c) for c in candidates):
                out.append(noun)
        return out

    def _known(self, word: str) -> bool:
        """Whether the word splits into pieces (of two characters or more) the index holds."""
        word = normalise(word).translate(CN_DIGITS)
        if len(word) < 2:
            return True
        reachable = [True] + [False] * len(word)
        for end in range(2, len(word) + 1):
            reachable[end] = any(reachable[start] and word[start:end] in self._pieces for start in range(0, end - 1))
        return reachable[-1]

    def _coverage_options(
        self, words: list[str], corrections: dict[str, str]
    ) -> list[tuple[float, list[tuple[str, str]]]]:
        """Per question word of two characters or more: its IDF, and the spellings that count
        as the word being there (itself, its synonyms, its corrected spelling), each as
        (index term, digit-normalised text form)."""
        out = []
        for word in dict.fromkeys(w for w in words if len(w) > 1):
            spellings = [word, *self.lexicon.synonyms.get(word, ())]
            spellings += [fixed for typed, fixed in corrections.items() if typed in word or word in typed]
            forms = [(s, normalise(s).translate(CN_DIGITS) if len(s) > 1 else "") for s in spellings]
            out.append((self.words.term_idf(word), forms))
        return out

    def _coverage(self, options: list[tuple[float, list[tuple[str, str]]]], doc: int) -> float:
        """IDF-weighted share of the question's words the passage contains."""
        text = self.norm_texts[doc]
        total = sum(idf for idf, _ in options)
        got = sum(
            idf for idf, forms in options if any((f and f in text) or self.words.contains(t, doc) for t, f in forms)
        )
        return got / total if total else 0.0
