"""The question-time TF-IDF code must agree with the scikit-learn vectorisers it stands in for:
the saved index is only as good as this agreement."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from knowledge.base import bundled_bank
from knowledge.intents import load_utterances
from knowledge.lexicon import normalise
from knowledge.vectors import IntentModel, LinearClassifier, char_ngrams, char_wb_ngrams, fit_tfidf

EDGES = ["", "a", "ab", "  a  b ", "南京 备案", "x\ty\n\nz", "ＡＢＣ 证书", "我想问下 技能等级认定 咋备案？？"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    bank = bundled_bank()
    sample = [q.q for q in bank.answerable[::7]] + [q.q for q in bank.out_of_scope[::5]]
    return EDGES + sample + [u.text for u in load_utterances()[::3]]


def test_char_ngrams_are_scikit_learns(texts: list[str]) -> None:
    analyse = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()
    for text in texts:
        assert sorted(char_ngrams(text.lower())) == sorted(analyse(text)), text


def test_char_wb_ngrams_are_scikit_learns(texts: list[str]) -> None:
    for low, high in ((1, 3), (2, 4)):
        analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high), preprocessor=normalise).build_analyzer()
        for text in texts:
            assert sorted(char_wb_ngrams(normalise(text), low, high)) == sorted(analyse(text)), text


def test_term_weights_are_the_transformed_row(texts: list[str]) -> None:
    vectoriser, terms = fit_tfidf("char", [normalise(t) for t in texts[len(EDGES) :]], dtype=np.float64)
    for text in texts:
        row = vectoriser.transform([normalise(text)]).toarray()[0]
        mine = np.zeros_like(row)
        ids, weights = terms.weights(normalise(text))
        mine[ids] = weights
        np.testing.assert_allclose(mine, row, atol=1e-9)


def test_intent_probabilities_are_the_pipelines() -> None:
    utterances = load_utterances()
    texts, labels = [u.text for u in utterances], [u.intent for u in utterances]
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, preprocessor=normalise),
        LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced"),
    ).fit(texts, labels)
    model = IntentModel.fit(texts, labels, normalise)
    probes = [*EDGES, "my cert number is S000032000001", "黄石 补贴", *texts[::11]]
    expected = pipeline.predict_proba(probes)
    mine = np.array([model.probabilities(normalise(t)) for t in probes])
    assert list(model.labels) == list(pipeline.classes_)
    np.testing.assert_allclose(mine, expected, atol=1e-4)


def test_nouns_tag_words_as_jieba_posseg_does() -> None:
    """Lexicon.nouns reads jieba's part-of-speech table itself (importing jieba.posseg would
    read the dictionary a second time); its words and noun tags must be posseg's without the
    HMM (any other tag is "x": only nouns are asked about)."""
    import jieba.posseg

    from knowledge.base import shared_lexicon
    from knowledge.lexicon import NOUN_TAGS

    lexicon = shared_lexicon()
    tagger = jieba.posseg.POSTokenizer(lexicon._tokenizer)
    bank = bundled_bank()
    texts = [*EDGES, "S0000320000012 abc 123.5% c++ a.b_c \r\n x", *(q.q for q in bank.answerable[::3])]
    for text in texts:
        text = normalise(text)
        expected = [(w.word, w.flag if w.flag in NOUN_TAGS else "x") for w in tagger.cut(text, HMM=False)]
        mine = list(lexicon._tagged(text))
        # Outside word blocks posseg keeps a run of spaces whole; nouns() treats both alike.
        assert [p for p in mine if p[0].strip()] == [p for p in expected if p[0].strip()], text


@pytest.mark.parametrize("n_classes", [2, 5])
def test_linear_classifier_margins_are_scikit_learns(n_classes: int) -> None:
    """The clause classifier answers without scikit-learn; its margins must be LinearSVC's
    decision function over the same TF-IDF (two classes: one row, stated for both)."""
    from sklearn.svm import LinearSVC

    bank = bundled_bank()
    docs = sorted({q.doc for q in bank.answerable})[:n_classes]
    items = [q for q in bank.answerable if q.doc in docs][::2]
    texts, labels = [normalise(q.q) for q in items], [docs.index(q.doc) for q in items]
    mine = LinearClassifier.fit(texts, labels)
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    svm = LinearSVC(C=0.5).fit(vectoriser.fit_transform(texts), labels)
    probes = [normalise(q.q) for q in bank.answerable[1::40]] + ["", "青岛"]
    expected = svm.decision_function(vectoriser.transform(probes))
    got = np.array([mine.margins(p) for p in probes])
    assert list(mine.classes) == list(svm.classes_)
    if n_classes == 2:
        np.testing.assert_allclose(got[:, 1], expected, atol=1e-4)
        np.testing.assert_allclose(got[:, 0], -expected, atol=1e-4)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-4)
