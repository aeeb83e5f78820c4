"""Which clause answers a question, and whether to answer at all.

Four views of each candidate clause are combined: the word ranker (`retrieval.Retriever`),
the question bank (how close the question is to the questions this clause is known to answer,
by characters and by pinyin), a linear classifier trained on the bank (which character n-grams
tell this clause's questions from the others', where nearness weighs every n-gram alike), and
the clause's own text. A logistic model learnt from the banks
(`knowledge.training`, cross-validated on held-out voices) ranks the candidates; a second one
decides answer or refuse from the best candidate and from how close the question is to the
out-of-scope bank. The weights are data (`data/bank/model.json`), not hand-set thresholds."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.bank import BANK_DIR, QuestionBank, Topic
from knowledge.lexicon import normalise
from knowledge.retrieval import Hit, Passage, Retriever, SearchResult
from knowledge.sources import SourceError
from knowledge.vectors import LinearClassifier, Terms, fit_tfidf

MODEL_FILE = BANK_DIR / "model.json"
# The out-of-scope bank's label where clauses are labelled by position (classifier, filed phrasings).
OUT_OF_SCOPE = -1
_FILED_TWICE = -2
RANKER_DEPTH = 20  # candidates taken from the word ranker
NEIGHBOURS = 10  # nearest bank questions that vote
EVIDENCE_VOTES = 5  # nearest bank questions of the best clause whose quotes pick its answering sentences
RANK_FEATURES = (
    "r_rel",
    "r_log",
    "r_cov",
    "r_top",
    "b_max",
    "b_knn",
    "p_max",
    "p_knn",
    "t_cos",
    "b_top",
    "c_cos",
    "c_pcos",
    "region",
    "has_bank",
    "k_z",
)
DECIDE_FEATURES = (
    "s1",
    "margin",
    "b_max",
    "p_max",
    "o_max",
    "o_pmax",
    "o_share",
    "gap",
    "r_cov",
    "r_log",
    "unknown",
    "gate",
    "uncovered",
    "length",
    "has_bank",
    "k_max",
    "k_oos",
)


class ModelError(SourceError):
    """The answer model file is missing, malformed, or made for other features."""


@dataclass(frozen=True)
class LinearModel:
    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef + self.intercept

    def as_json(self) -> dict:
        return {
            "features": list(self.features),
            "coef": [round(float(c), 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def from_json(cls, data: dict, expected: Sequence[str]) -> LinearModel:
        features = tuple(data["features"])
        if features != tuple(expected) or len(data["coef"]) != len(features):
            raise ModelError(f"模型特征与代码不一致：{features}")
        return cls(features, np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]))


@dataclass(frozen=True)
class AnswerModel:
    rank: LinearModel
    decide: LinearModel
    threshold: float  # answer when the decision probability reaches this
    report: dict

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                LinearModel.from_json(data["rank"], RANK_FEATURES),
                LinearModel.from_json(data["decide"], DECIDE_FEATURES),
                float(data["threshold"]),
                dict(data.get("report", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path.name}: 问答模型无法读取：{exc}") from exc

    def save(self, path: Path = MODEL_FILE) -> None:
        data = {
            "rank": self.rank.as_json(),
            "decide": self.decide.as_json(),
            "threshold": round(self.threshold, 4),
            "report": self.report,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


class _Postings:
    """Rows of TF-IDF vectors (unit length) held term-major, so a question's cosine with every
    row is a few array additions per question term: no sparse-matrix machinery per query."""

    def __init__(self, terms: Terms, rows) -> None:
        self.terms = terms
        by_term = rows.T.tocsr()
        self.indptr, self.indices, self.data = by_term.indptr, by_term.indices, by_term.data.astype(np.float64)
        self.n_rows = rows.shape[0]

    def cosines(self, text: str) -> np.ndarray:
        out = np.zeros(self.n_rows)
        ids, weights = self.terms.weights(text)
        for term, weight in zip(ids.tolist(), weights.tolist(), strict=True):
            start, end = self.indptr[term], self.indptr[term + 1]
            out[self.indices[start:end]] += weight * self.data[start:end]
        return out


class BankIndex:
    """The bank's questions and the clauses' texts as TF-IDF vectors (characters and pinyin)."""

    def __init__(self, bank: QuestionBank, passages: Sequence[Passage]) -> None:
        from scipy.sparse import vstack

        self.passages = list(passages)
        # Passage id → its row here; built once, not per question.
        self.position = {p.id: i for i, p in enumerate(self.passages)}
        resolved = bank.resolve(self.passages)
        self.owner = np.array([self.position[p.id] for _, p in resolved], dtype=np.int64)
        self.oos_topics = [q.topic for q in bank.out_of_scope]
        self.evidence = [q.evidence for q, _ in resolved]
        self.topics: dict[str, Topic] = dict(bank.topics)
        answerable = [normalise(q.q) for q, _ in resolved]
        out_of_scope = [normalise(q.q) for q in bank.out_of_scope]
        texts = [normalise(p.text) for p in self.passages]
        n = len(self.passages)
        self.n_answerable = len(answerable)
        self.has_bank = np.bincount(self.owner, minlength=n) > 0
        chars, char_terms = fit_tfidf("char", answerable + out_of_scope + texts)
        # Pinyin is for how questions are typed (homophones); clause texts are not typed.
        sounds, sound_terms = fit_tfidf("pinyin", answerable + out_of_scope)
        ans_c, oos_c, text_c = chars.transform(answerable), chars.transform(out_of_scope), chars.transform(texts)
        ans_s, oos_s = sounds.transform(answerable), sounds.transform(out_of_scope)
        # Each clause's bank as one centroid: the vocabulary of all the ways it is asked.
        rows_c = [ans_c, oos_c, text_c, _centroids(ans_c, self.owner, n)]
        rows_s = [ans_s, oos_s, _centroids(ans_s, self.owner, n)]
        self._chars = _Postings(char_terms, vstack(rows_c).tocsr())
        self._sounds = _Postings(sound_terms, vstack(rows_s).tocsr())
        self._char_parts = _offsets(["ans", "oos", "text", "centroid"], [m.shape[0] for m in rows_c])
        self._sound_parts = _offsets(["ans_py", "oos_py", "centroid_py"], [m.shape[0] for m in rows_s])
        self.classifier = _clause_classifier(answerable, self.owner, texts, out_of_scope)
        self.filed = _filed(answerable, self.owner, out_of_scope)

    def margins(self, question: str) -> tuple[np.ndarray, float]:
        """The classifier's margin for every clause, and for "out of scope" (the bank's
        neighbouring questions as one class of their own). A clause it was not trained on (no
        bank questions) is not judged by it: it stands level with the best clause, and the
        other views (its text, the word ranker) decide; without a classifier all stand at 0."""
        out = np.zeros(len(self.passages))
        if self.classifier is None:
            return out, 0.0
        scores = self.classifier.margins(normalise(question))
        clauses = self.classifier.classes != OUT_OF_SCOPE
        out[:] = scores[clauses].max()
        out[self.classifier.classes[clauses]] = scores[clauses]
        oos = scores[~clauses]
        # A bank without out-of-scope questions: "out of scope" stands a margin's unit below the best.
        return out, float(oos[0]) if len(oos) else float(out.max()) - 1.0

    def similarities(self, question: str) -> dict[str, np.ndarray]:
        q = normalise(question)
        chars, sounds = self._chars.cosines(q), self._sounds.cosines(q)
        out = {name: chars[a:b] for name, (a, b) in self._char_parts.items()}
        out.update({name: sounds[a:b] for name, (a, b) in self._sound_parts.items()})
        return out


def _filed(answerable: list[str], owner: np.ndarray, out_of_scope: list[str]) -> dict[str, int]:
    """Each bank phrasing → the clause it is filed under (OUT_OF_SCOPE for the out-of-scope
    bank). A phrasing filed in two places decides nothing."""
    filed: dict[str, int] = {}
    pairs = [*zip(answerable, owner.tolist(), strict=True), *((q, OUT_OF_SCOPE) for q in out_of_scope)]
    for text, where in pairs:
        key = text.strip()
        filed[key] = where if filed.get(key, where) == where else _FILED_TWICE
    return filed


def _clause_classifier(
    questions: list[str], owner: np.ndarray, texts: list[str], out_of_scope: list[str]
) -> LinearClassifier | None:
    """Trained on the bank's questions and, as one more example each, the texts of the clauses
    they ask about; the out-of-scope questions are one more class (OUT_OF_SCOPE). Only clauses with
    questions are classes: a clause known by its text alone is scored by the other views, so a
    thousand unbanked notices cost nothing here."""
    banked = np.unique(owner)
    if len(banked) < 2:
        return None
    samples = questions + [texts[i] for i in banked] + out_of_scope
    labels = np.concatenate([owner, banked, np.full(len(out_of_scope), OUT_OF_SCOPE)])
    return LinearClassifier.fit(samples, labels.tolist())


def _offsets(names: list[str], sizes: list[int]) -> dict[str, tuple[int, int]]:
    bounds = np.cumsum([0, *sizes]).tolist()
    return {name: (bounds[i], bounds[i + 1]) for i, name in enumerate(names)}


def _centroids(rows, owner: np.ndarray, n: int):
    """Unit-length sum of each clause's question vectors, as a clauses × terms matrix."""
    from scipy.sparse import csr_matrix, diags

    assign = csr_matrix((np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))), shape=(n, len(owner)))
    sums = (assign @ rows).tocsr()
    norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1))).ravel()
    return (diags(np.where(norms > 0, 1 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)) @ sums).tocsr()


@dataclass
class Candidates:
    """Feature rows for the candidate clauses of one question, and the question-level facts."""

    ids: np.ndarray  # positions in BankIndex.passages
    rank_x: np.ndarray
    sims: dict[str, np.ndarray]
    result: SearchResult
    best_margin: float  # the classifier's top margin: low when no clause's questions look like this one
    oos_lead: float  # how far "out of scope" stands above the best clause in the classifier's eyes


def candidates(question: str, retriever: Retriever, index: BankIndex) -> Candidates:
    result = retriever.search(question, k=RANKER_DEPTH)
    sims = index.similarities(question)
    margins, oos_margin = index.margins(question)
    # The margin as distance below the best, in this question's own spread of margins.
    k_z = (margins - margins.max()) / (margins.std() + 1e-9)
    n = len(index.passages)
    position = index.position
    ranker = {position[h.passage.id]: h for h in result.hits if h.passage.id in position}
    top_score = max((h.score for h in result.hits), default=0.0)

    b_max = np.zeros(n)
    p_max = np.zeros(n)
    if index.n_answerable:
        np.maximum.at(b_max, index.owner, sims["ans"])
        np.maximum.at(p_max, index.owner, sims["ans_py"])
    b_knn = _knn_share(sims["ans"], sims["oos"], index.owner, n)
    p_knn = _knn_share(sims["ans_py"], sims["oos_py"], index.owner, n)
    nearest = int(index.owner[int(np.argmax(sims["ans"]))]) if index.n_answerable else -1
    # How the clause's region stands to the places named: same, parent, child, elsewhere (1 if none named).
    region = retriever.region_multiplier(result.regions)

    pool = set(ranker)
    pool.update(np.argsort(-b_max)[:RANKER_DEPTH].tolist())
    pool.update(np.argsort(-sims["centroid"])[:RANKER_DEPTH].tolist())
    ids = np.array(sorted(pool), dtype=np.int64)
    rows = []
    for i in ids:
        hit = ranker.get(int(i))
        rows.append(
            [
                hit.score / top_score if hit and top_score > 0 else 0.0,
                math.log1p(hit.score) if hit else 0.0,
                hit.coverage if hit else 0.0,
                1.0 if hit is not None and result.hits and hit is result.hits[0] else 0.0,
                b_max[i],
                b_knn[i],
                p_max[i],
                p_knn[i],
                sims["text"][i],
                1.0 if i == nearest else 0.0,
                sims["centroid"][i],
                sims["centroid_py"][i],
                float(region[i]) if region is not None else 1.0,
                1.0 if index.has_bank[i] else 0.0,
                k_z[i],
            ]
        )
    rank_x = np.asarray(rows, dtype=np.float64).reshape(-1, len(RANK_FEATURES))
    return Candidates(ids, rank_x, sims, result, float(margins.max()), oos_margin - float(margins.max()))


def _knn_share(ans: np.ndarray, oos: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Each clause's share of the similarity mass of the question's nearest bank neighbours
    (answerable and out of scope together)."""
    out = np.zeros(n)
    both = np.concatenate([ans, oos])
    if not len(both):
        return out
    top = np.argpartition(-both, min(NEIGHBOURS, len(both) - 1))[:NEIGHBOURS]
    mass = float(both[top].sum())
    if mass <= 0:
        return out
    for j in top:
        if j < len(ans):
            out[owner[j]] += both[j] / mass
    return out


def decision_row(c: Candidates, logits: np.ndarray, best: int) -> np.ndarray:
    """The question-level features the answer/refuse model reads."""
    order = np.sort(logits)[::-1]
    sims, result = c.sims, c.result
    o_max = float(sims["oos"].max()) if len(sims["oos"]) else 0.0
    a_max = float(sims["ans"].max()) if len(sims["ans"]) else 0.0
    both = np.concatenate([sims["ans"], sims["oos"]])
    top = np.argsort(-both)[:NEIGHBOURS]
    mass = float(both[top].sum())
    o_share = float(both[top][top >= len(sims["ans"])].sum() / mass) if mass > 0 else 0.0
    x = c.rank_x[best]
    return np.array(
        [
            order[0],
            order[0] - order[1] if len(order) > 1 else 5.0,
            x[RANK_FEATURES.index("b_max")],
            x[RANK_FEATURES.index("p_max")],
            o_max,
            float(sims["oos_py"].max()) if len(sims["oos_py"]) else 0.0,
            o_share,
            a_max - o_max,
            x[RANK_FEATURES.index("r_cov")],
            x[RANK_FEATURES.index("r_log")],
            float(len(result.unknown)),
            1.0 if result.answered else 0.0,
            1.0 if result.uncovered_places and not result.regions else 0.0,
            math.log1p(len(result.question)),
            x[RANK_FEATURES.index("has_bank")],
            c.best_margin,
            c.oos_lead,
        ]
    )


class Answerer:
    """Ranks the clauses for a question and decides whether to answer, with the model's weights."""

    def __init__(self, retriever: Retriever, index: BankIndex, model: AnswerModel) -> None:
        self.retriever = retriever
        self.index = index
        self.model = model

    def search(self, question: str, k: int = 5) -> SearchResult:
        c = candidates(question, self.retriever, self.index)
        result = c.result
        if not len(c.ids):
            result.hits = []
            result.answered = False
            result.reason = result.reason or "no_match"
            return self._refer(result, c)
        logits = self.model.rank.logit(c.rank_x)
        order = np.argsort(-logits)
        ranker = {h.passage.id: h for h in result.hits}
        hits = []
        for j in order[: max(k, 1)]:
            p = self.index.passages[int(c.ids[j])]
            coverage = ranker[p.id].coverage if p.id in ranker else 0.0
            hits.append(Hit(p, float(1 / (1 + math.exp(-logits[j]))), coverage))
        result.hits = hits
        result.evidence = self._evidence(c, int(c.ids[order[0]]))
        decide = self.model.decide.logit(decision_row(c, logits, int(order[0]))[None, :])[0]
        result.confidence = float(1 / (1 + math.exp(-decide)))
        result.answered = result.confidence >= self.model.threshold
        self._as_filed(question, result, c)
        if result.answered:
            result.reason = ""
        else:
            result.reason = result.reason or "low_confidence"
            self._refer(result, c)
        return result

    def _as_filed(self, question: str, result: SearchResult, c: Candidates) -> None:
        """A question typed exactly as a bank phrasing is answered as the bank files it (the
        标准问/相似问 convention): what an operator files with `questions add` holds, whatever
        the model would have said of it."""
        where = self.index.filed.get(normalise(question).strip())
        if where is None or where == _FILED_TWICE:
            return
        if where == OUT_OF_SCOPE:
            result.answered = False
            return
        passage = self.index.passages[where]
        rest = [h for h in result.hits if h.passage.id != passage.id]
        result.hits = [Hit(passage, 1.0, 1.0), *rest][: len(result.hits)]
        result.evidence = self._evidence(c, where)
        result.confidence = max(result.confidence or 0.0, self.model.threshold)
        result.answered = True

    def _evidence(self, c: Candidates, best: int) -> list[str]:
        """The quotes (answering sentences) of the best clause's bank questions nearest to this
        question, nearest first: which sentence of the clause answers it, learnt from the bank."""
        mine = np.flatnonzero(self.index.owner == best)
        if not len(mine):
            return []
        nearest = mine[np.argsort(-c.sims["ans"][mine])[:EVIDENCE_VOTES]]
        return [self.index.evidence[j] for j in nearest if self.index.evidence[j] and c.sims["ans"][j] > 0]

    def _refer(self, result: SearchResult, c: Candidates) -> SearchResult:
        """The out-of-scope topic the question is nearest to, when it is nearer to the
        out-of-scope bank than to any answerable question: the nearest neighbours vote, and
        the catch-all `other` only wins when no named topic is among them."""
        oos = c.sims["oos"]
        if not len(oos) or (len(c.sims["ans"]) and oos.max() < c.sims["ans"].max()):
            return result
        votes: dict[str, float] = {}
        for j in np.argsort(-oos)[:NEIGHBOURS]:
            votes[self.index.oos_topics[j]] = votes.get(self.index.oos_topics[j], 0.0) + float(oos[j])
        named = {t: v for t, v in votes.items() if t != "other"}
        result.topic = max(named, key=named.__getitem__) if named else "other"
        return result
