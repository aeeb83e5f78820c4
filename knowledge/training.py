"""Learning the answer model from the question banks, cross-validated on held-out voices.

Every fold holds out whole styles (dialect, typos, keywords …) or writers, builds the bank index
from the rest, and computes the held-out questions' features against it: what the models learn
from is how a NEW voice looks to the index, never a question next to its own near-copy. The
reported figures come from a second level of the same folds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from knowledge.answering import (
    DECIDE_FEATURES,
    RANK_FEATURES,
    AnswerModel,
    BankIndex,
    Candidates,
    LinearModel,
    candidates,
    decision_row,
)
from knowledge.bank import BankQuestion, OosQuestion, QuestionBank
from knowledge.retrieval import Passage, Retriever

FOLDS = 5


@dataclass
class Example:
    question: str
    group: str
    target: int  # position of the answering passage; -1 out of scope
    cands: Candidates | None = None


def voice_of(item: BankQuestion | OosQuestion) -> str:
    return item.style


def examples(
    bank: QuestionBank,
    passages: Sequence[Passage],
    retriever: Retriever,
    group_of: Callable[[BankQuestion | OosQuestion], str] = voice_of,
    folds: int = FOLDS,
    progress: Callable[[int, int], None] | None = None,
) -> list[Example]:
    """Out-of-fold candidates for every bank question."""
    position = {p.id: i for i, p in enumerate(passages)}
    resolved = bank.resolve(passages)
    items: list[tuple[BankQuestion | OosQuestion, int]] = [(q, position[p.id]) for q, p in resolved]
    items += [(q, -1) for q in bank.out_of_scope]
    out = [Example(q.q, group_of(q), target) for q, target in items]
    groups = np.array([e.group for e in out])
    total = 2 * len(out)
    done = 0

    def run(train: np.ndarray, test: np.ndarray, examples: list[Example]) -> None:
        nonlocal done
        keep = set(train.tolist())
        sub = QuestionBank(
            [q for i, (q, _) in enumerate(items) if i in keep and isinstance(q, BankQuestion)],
            [q for i, (q, _) in enumerate(items) if i in keep and isinstance(q, OosQuestion)],
            dict(bank.topics),
        )
        index = BankIndex(sub, passages)
        for i in test:
            examples[i].cands = candidates(examples[i].question, retriever, index)
            done += 1
            if progress:
                progress(done, total)

    # Pass 1: a new voice. Whole styles (or writers) are held out.
    for train, test in GroupKFold(n_splits=min(folds, len(set(groups)))).split(out, groups=groups):
        run(train, test, out)
    # Pass 2: a new notice. Whole clauses' banks are held out, so the models also learn how a
    # clause nobody has written questions for yet looks (answered from its text alone); the
    # out-of-scope questions are asked again against those thinner banks.
    unbanked = [Example(e.question, f"clause:{e.target}" if e.target >= 0 else e.group, e.target) for e in out]
    clause_groups = np.array([target if target >= 0 else -1 - (i % folds) for i, (_, target) in enumerate(items)])
    for train, test in GroupKFold(n_splits=folds).split(unbanked, groups=clause_groups):
        run(train, test, unbanked)
    return out + unbanked


def _fit(x: np.ndarray, y: np.ndarray, names: Sequence[str], balanced: bool = False) -> LinearModel:
    """Logistic regression on standardised features, folded back to raw-feature weights."""
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if balanced else None)
    lr.fit((x - scaler.mean_) / scale, y)
    coef = lr.coef_[0] / scale
    return LinearModel(tuple(names), coef, float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scale)))


def _fit_ranker(exs: Sequence[Example], c: float = 1.0) -> LinearModel:
    """Softmax over each question's candidates (a conditional logit), on standardised
    features: the weights that put the answering clause first among its rivals. A logistic
    regression over all candidate rows pooled learns mostly to reject far-off clauses, which
    any feature does, and underweights what tells the right clause from its nearest rival."""
    from scipy.optimize import minimize

    lists = [
        (e.cands.rank_x, int(np.flatnonzero(e.cands.ids == e.target)[0]))
        for e in exs
        if e.target >= 0 and e.cands is not None and e.target in e.cands.ids
    ]
    stacked = np.vstack([x for x, _ in lists])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    xs = [(x - mean) / scale for x, _ in lists]
    right = np.vstack([x[t] for x, (_, t) in zip(xs, lists, strict=True)])
    bounds = np.cumsum([0, *(len(x) for x in xs)])
    rows = np.vstack(xs)
    starts = bounds[:-1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = rows @ w
        top = np.maximum.reduceat(z, starts)
        e = np.exp(z - np.repeat(top, np.diff(bounds)))
        sums = np.add.reduceat(e, starts)
        p = e / np.repeat(sums, np.diff(bounds))
        value = float(np.sum(top + np.log(sums)) - np.sum(right @ w)) + 0.5 / c * float(w @ w)
        grad = rows.T @ p - right.sum(axis=0) + w / c
        return value, grad

    w = minimize(loss, np.zeros(rows.shape[1]), jac=True, method="L-BFGS-B").x
    # Folded back to raw-feature weights; a softmax needs no intercept.
    return LinearModel(RANK_FEATURES, w / scale, float(-np.sum(w * mean / scale)))


def _decide_row(e: Example, rank: LinearModel) -> tuple[np.ndarray, int]:
    assert e.cands is not None
    logits = rank.logit(e.cands.rank_x)
    best = int(np.argmax(logits))
    return decision_row(e.cands, logits, best), best


def fit(exs: Sequence[Example]) -> tuple[LinearModel, LinearModel]:
    usable = [e for e in exs if e.cands is not None and len(e.cands.ids)]
    rank = _fit_ranker(usable)
    dx = np.vstack([_decide_row(e, rank)[0] for e in usable])
    dy = np.array([int(e.target >= 0) for e in usable])
    return rank, _fit(dx, dy, DECIDE_FEATURES, balanced=True)


def cross_validate(exs: Sequence[Example]) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Second-level folds over the same groups: (figures at 0.5, probabilities, answerable, top-1 right)."""
    usable = [e for e in exs if e.cands is not None and len(e.cands.ids)]
    groups = np.array([e.group for e in usable])
    probs = np.zeros(len(usable))
    right1 = np.zeros(len(usable), dtype=bool)
    right3 = np.zeros(len(usable), dtype=bool)
    for train, test in GroupKFold(n_splits=min(FOLDS, len(set(groups)))).split(usable, groups=groups):
        rank, decide = fit([usable[i] for i in train])
        for i in test:
            e = usable[i]
            row, _ = _decide_row(e, rank)
            probs[i] = 1 / (1 + np.exp(-decide.logit(row[None, :])[0]))
            assert e.cands is not None
            order = e.cands.ids[np.argsort(-rank.logit(e.cands.rank_x))]
            right1[i] = e.target >= 0 and order[0] == e.target
            right3[i] = e.target >= 0 and e.target in order[:3]
    answerable = np.array([e.target >= 0 for e in usable])
    missing = sum(1 for e in exs if e.target >= 0) - int(answerable.sum())
    return _figures(probs, answerable, right1, right3, 0.5, missing), probs, answerable, np.vstack([right1, right3])


def _figures(
    probs: np.ndarray, answerable: np.ndarray, right1: np.ndarray, right3: np.ndarray, t: float, missing: int = 0
) -> dict:
    n_ans = int(answerable.sum()) + missing
    said = probs >= t
    return {
        "answerable": n_ans,
        "out_of_scope": int((~answerable).sum()),
        "top1": round(float((said & answerable & right1).sum()) / max(n_ans, 1), 3),
        "top3": round(float((said & answerable & right3).sum()) / max(n_ans, 1), 3),
        "false_reject": round(float((~said & answerable).sum() + missing) / max(n_ans, 1), 3),
        "oos_rejected": round(float((~said & ~answerable).sum()) / max(int((~answerable).sum()), 1), 3),
    }


def choose_threshold(probs: np.ndarray, answerable: np.ndarray) -> float:
    """The threshold with the fewest errors, each side counted as a share of its own class:
    a wrong answer and a wrong refusal weigh the same per question of their kind."""
    best_t, best_cost = 0.5, float("inf")
    n_ans, n_oos = max(int(answerable.sum()), 1), max(int((~answerable).sum()), 1)
    for t in np.linspace(0.05, 0.95, 91):
        said = probs >= t
        cost = (~said & answerable).sum() / n_ans + (said & ~answerable).sum() / n_oos
        if cost < best_cost - 1e-9:
            best_t, best_cost = float(t), cost
    return best_t


def train(
    bank: QuestionBank,
    passages: Sequence[Passage],
    retriever: Retriever,
    group_of: Callable[[BankQuestion | OosQuestion], str] = voice_of,
    progress: Callable[[int, int], None] | None = None,
) -> AnswerModel:
    exs = examples(bank, passages, retriever, group_of, progress=progress)
    report, probs, answerable, right = cross_validate(exs)
    threshold = choose_threshold(probs, answerable)
    report = {
        "at_0.5": report,
        "at_threshold": _figures(probs, answerable, right[0], right[1], threshold),
        "folds": "held-out styles" if group_of is voice_of else "held-out groups",
    }
    rank, decide = fit(exs)
    return AnswerModel(rank, decide, threshold, report)
