"""A saved index is loaded instead of rebuilt, only when it was built from the same inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.bank import OosQuestion
from knowledge.base import KnowledgeBase
from knowledge.intents import bundled_classifier, saved_classifier
from tests.conftest import bundled_passages

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = ["异地选手占比超过50%向谁备案", "南京民营企业自主评价去哪备案", "今天天气怎么样"]


def _answers(kb: KnowledgeBase) -> list[tuple[bool, list[int]]]:
    return [(r.answered, [h.passage.id for h in r.hits]) for r in (kb.search(q) for q in QUESTIONS)]


def test_the_saved_index_answers_as_the_built_one_and_is_not_rebuilt(tmp_path, monkeypatch, kb) -> None:
    passages = bundled_passages()
    built = KnowledgeBase.saved(passages, ([], []), tmp_path)
    [saved] = list(tmp_path.glob("knowledge-*.pickle"))

    def no_building(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("rebuilt although a snapshot of the same inputs exists")

    monkeypatch.setattr(KnowledgeBase, "__init__", no_building)
    loaded = KnowledgeBase.saved(passages, ([], []), tmp_path)
    assert _answers(loaded) == _answers(built) == _answers(kb)
    assert loaded.lexicon is built.lexicon  # the process's one jieba dictionary, not a copy

    # Another input (an operator's question) is another index; the old file goes.
    monkeypatch.undo()
    added = ([], [OosQuestion("明天会下雨吗", "chitchat")])
    KnowledgeBase.saved(passages, added, tmp_path)
    assert not saved.exists() and len(list(tmp_path.glob("knowledge-*.pickle"))) == 1


def test_an_unreadable_snapshot_is_rebuilt(tmp_path) -> None:
    passages = bundled_passages()
    KnowledgeBase.saved(passages, ([], []), tmp_path)
    [saved] = list(tmp_path.glob("knowledge-*.pickle"))
    saved.write_bytes(b"not a pickle")
    kb = KnowledgeBase.saved(passages, ([], []), tmp_path)
    assert kb.search(QUESTIONS[0]).answered and saved.stat().st_size > 1000


def test_the_saved_intent_classifier_predicts_as_the_trained_one(tmp_path) -> None:
    first = saved_classifier(tmp_path)
    again = saved_classifier(tmp_path)
    assert again is not first  # loaded from the file, not the process cache
    for text in [*QUESTIONS, "S000032000001 查证书", "我能参加江苏的比赛吗"]:
        assert again.predict(text) == pytest.approx(bundled_classifier().predict(text))


def test_no_question_with_a_personal_number_is_remembered(kb) -> None:
    kb.search("我的身份证号11010519491231002X 能查证书吗")
    kb.search("异地选手占比超过50%向谁备案")
    assert all("11010519491231002X" not in q for q in kb._recent)
    assert "异地选手占比超过50%向谁备案" in kb._recent


def test_jieba_is_imported_without_pkg_resources_which_stays_importable() -> None:
    """A cold `skillbot ask` does not pay for pkg_resources (knowledge.jieba_import); a
    library imported after jieba still gets it."""
    probe = (
        "import sys, knowledge.jieba_import as j; "
        "assert j.jieba.dt is not None; "
        "assert 'pkg_resources' not in sys.modules, 'imported'; "
        "import pkg_resources; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_search_asked_not_to_be_remembered_is_searched_afresh(kb) -> None:
    """bench/qa.py times each pass over a set: `remember=False` searches and keeps nothing."""
    question = "青岛自主评价备案要交哪些材料 remember-test"
    assert kb.search(question, remember=False).hits
    assert question not in kb._recent
