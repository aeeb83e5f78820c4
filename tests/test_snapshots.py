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


def test_a_cold_ask_loads_the_index_saved_for_the_store_and_never_a_stale_one(tmp_path, monkeypatch) -> None:
    """#14: a one-shot `skillbot ask` on a SQLite store whose version has a saved index
    answers from it without importing SQLAlchemy; a notice added since is a new version, so
    the next ask reads the store again and finds it."""
    import json
    import os

    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["ask", QUESTIONS[0], "--json"])
    assert first.exit_code == 0 and (tmp_path / "index" / "knowledge.stamp").exists()
    probe = (
        "import sys; from bot.cli import app; sys.argv = ['skillbot', 'ask', sys.argv[1], '--json']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "assert 'sqlalchemy' not in sys.modules, 'SQLAlchemy imported'"
    )
    cold = subprocess.run(
        [sys.executable, "-c", probe, QUESTIONS[0]], capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ)
    )
    assert cold.returncode == 0, cold.stderr
    assert json.loads(cold.stdout) == json.loads(first.stdout)

    new = tmp_path / "new.txt"
    new.write_text(
        "某市人社局文件\n测〔2024〕5号\n关于焊工技能评价的通知\n各区：\n"
        "一、焊接机器人操作员评价。焊接机器人操作员的技能评价由市鉴定中心每季度组织一次。\n",
        "utf-8",
    )
    added = ["notices", "add", str(new), "--doc-no", "测〔2024〕5号", "--region", "江苏省", "--date", "2024-03-01"]
    assert runner.invoke(app, added).exit_code == 0
    after = runner.invoke(app, ["ask", "焊接机器人操作员多久评价一次", "--json"])
    assert json.loads(after.stdout)["hits"][0]["doc_no"] == "测〔2024〕5号"


def test_the_quick_store_version_is_the_store_version(tmp_path) -> None:
    """storage.quick_version reads with sqlite3 what knowledge_inputs.knowledge_version reads
    through SQLAlchemy, and names the file SQLAlchemy would open."""
    import asyncio

    from sqlalchemy.engine import make_url

    from storage.db import Database
    from storage.knowledge_inputs import knowledge_version
    from storage.notices import seed_bundled
    from storage.quick_version import sqlite_file, sqlite_knowledge_version

    url = f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"
    assert sqlite_knowledge_version(url) is None  # no file yet: the caller opens the store

    async def version() -> tuple[int, ...]:
        db = Database(url)
        await db.migrate()
        async with db.transaction() as session:
            await seed_bundled(session)
        async with db.transaction() as session:
            found = await knowledge_version(session)
        await db.dispose()
        return found

    stored = asyncio.run(version())
    assert sqlite_knowledge_version(url) == stored != (0, 0, 0)
    for candidate in (
        "sqlite+aiosqlite:///./var/skillbot.db",
        "sqlite:////abs/path/x.db",
        "sqlite:///rel.db?timeout=5",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql+asyncpg://u:p@localhost/skillbot",
    ):
        parsed = make_url(candidate)
        expected = parsed.database if parsed.get_backend_name() == "sqlite" and parsed.database != ":memory:" else None
        assert sqlite_file(candidate) == (expected or None), candidate


def test_the_saved_lexicon_tokenises_as_the_built_one() -> None:
    """The saved lexicon keeps jieba's counts and tags in tries (a millisecond to load); it
    must cut every question exactly as the dict-backed one it was saved from."""
    import json
    import pickle

    from knowledge.lexicon import Lexicon

    built = Lexicon.load()
    loaded = pickle.loads(pickle.dumps(built))
    texts = [json.loads(line)["q"] for line in (ROOT / "tests/data/sets/qa_9.jsonl").open(encoding="utf-8")]
    for text in texts:
        assert loaded.words(text) == built.words(text), text
        assert loaded.nouns(text) == built.nouns(text), text
        assert loaded.spans(text) == built.spans(text), text
