"""TF-IDF vectors of questions, computed without scikit-learn at question time.

scikit-learn fits the vectorisers and the intent model (`fit_tfidf`, `IntentModel.fit`), but
importing it costs most of a second; a process that loads a saved index should not pay that to
answer one question. So what a fitted vectoriser knows (vocabulary, idf, analyser) is kept here
as plain arrays, and the analysers are re-stated exactly as scikit-learn's (a test checks they
agree on the banks and utterances)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.spelling import lazy_pinyin  # with the phrase table switched off, as there

_WHITE_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """scikit-learn's analyzer="char": every n-gram of the text, spaces included."""
    text = _WHITE_SPACES.sub(" ", text)
    return [text[i : i + n] for n in range(low, min(high, len(text)) + 1) for i in range(len(text) - n + 1)]


def char_wb_ngrams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """scikit-learn's analyzer="char_wb": n-grams inside words, padded with a space each side."""
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            out.extend(padded[i : i + n] for i in range(max(len(padded) - n + 1, 1)))
            if len(padded) <= n:  # a word shorter than n is counted once, as itself
                break
    return out


def pinyin_tokens(text: str) -> list[str]:
    """Syllables and their pairs: 备按 and 备案 look alike here, as they sound alike."""
    syllables = [s for s in lazy_pinyin(text) if s.strip()]
    return syllables + [a + "_" + b for a, b in itertools.pairwise(syllables)]


ANALYSERS: dict[str, Callable[[str], list[str]]] = {
    "char": lambda text: char_ngrams(text.lower()),
    "char_wb": char_wb_ngrams,
    "pinyin": pinyin_tokens,
}


@dataclass(frozen=True)
class Terms:
    """A fitted TF-IDF vocabulary (sublinear tf, l2-normalised rows, as scikit-learn's)."""

    analyser: str
    vocab: dict[str, int]
    idf: np.ndarray

    def weights(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's unit-length vector as (term ids, weights); empty when no term is known."""
        counts = Counter(t for t in ANALYSERS[self.analyser](text) if t in self.vocab)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.fromiter((self.vocab[t] for t in counts), dtype=np.int64, count=len(counts))
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[ids]
        return ids, weights / np.linalg.norm(weights)


def fit_tfidf(analyser: str, fit_on: Sequence[str], dtype: type = np.float32, min_df: int = 1):
    """A fitted scikit-learn vectoriser (for transforming the indexed texts) and its `Terms`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyser == "pinyin":
        vectoriser = TfidfVectorizer(analyzer=pinyin_tokens, sublinear_tf=True, dtype=dtype, min_df=min_df)
    else:
        vectoriser = TfidfVectorizer(
            analyzer=analyser, ngram_range=(1, 3), sublinear_tf=True, dtype=dtype, min_df=min_df
        )
    vectoriser.fit(list(fit_on))
    return vectoriser, Terms(analyser, dict(vectoriser.vocabulary_), vectoriser.idf_.astype(np.float64))


@dataclass(frozen=True)
class IntentModel:
    """A multinomial logistic regression over `Terms`, as plain arrays."""

    terms: Terms
    labels: tuple[str, ...]
    coef: np.ndarray  # labels × terms
    intercept: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], preprocess: Callable[[str], str]) -> IntentModel:
        from sklearn.linear_model import LogisticRegression

        prepared = [preprocess(t) for t in texts]
        vectoriser, terms = fit_tfidf("char_wb", prepared, dtype=np.float64)
        model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        model.fit(vectoriser.transform(prepared), list(labels))
        return cls(terms, tuple(model.classes_), model.coef_.astype(np.float64), model.intercept_.astype(np.float64))

    def probabilities(self, text: str) -> np.ndarray:
        ids, weights = self.terms.weights(text)
        logits = self.coef[:, ids] @ weights + self.intercept
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()


@dataclass(frozen=True)
class LinearClassifier:
    """A one-vs-rest linear SVM over `Terms`, as plain arrays: its margins, not probabilities,
    are what a ranker reads (how far one class stands above the others)."""

    terms: Terms
    classes: np.ndarray  # the label of each column
    coef: np.ndarray  # terms × classes: a question's few terms pick a few rows
    intercept: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[int], c: float = 0.5, min_df: int = 2) -> LinearClassifier:
        from sklearn.svm import LinearSVC

        vectoriser, terms = fit_tfidf("char_wb", texts, min_df=min_df)
        model = LinearSVC(C=c)
        model.fit(vectoriser.transform(texts), np.asarray(labels))
        coef, intercept = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # one row, for the second class: the first is its negative
            coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
        return cls(
            terms,
            np.asarray(model.classes_, dtype=np.int64),
            np.ascontiguousarray(coef.T, dtype=np.float32),
            intercept.astype(np.float64),
        )

    def margins(self, text: str) -> np.ndarray:
        ids, weights = self.terms.weights(text)
        return weights @ self.coef[ids].astype(np.float64) + self.intercept
