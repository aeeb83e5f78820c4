"""The web console's parts that need no browser or server: what notices say about each other,
gap grouping, charts, sessions, the `skillbot users` commands, and its SQL on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from bot.cli import app
from bot.web import charts
from bot.web.answers import mark
from bot.web.auth import SessionCodec, check_password, hash_password, password_problem
from bot.web.gaps import group
from bot.web.library import clause_anchor, doc_slug
from knowledge.base import KnowledgeBase
from knowledge.relations import relations
from knowledge.retrieval import Passage
from storage.db import Database
from storage.models import Base
from storage.web_reports import DayCount, GapQuestion
from tests.conftest import bundled_passages
from tests.web.helpers import in_store, log_questions, refused

WEB_TABLES = {"web_accounts", "web_sign_ins", "admin_audit", "web_secrets"}


def _p(doc_no: str, text: str, region: str = "江苏省", date: str = "2022-01-01", pid: int = 1) -> Passage:
    return Passage(pid, doc_no, "标题", "发文单位", region, date, "一、条款", "body", text)


def test_repeals_forwards_and_overrides_are_read_from_the_text() -> None:
    old = _p("苏人社函〔2020〕1号", "一、旧规定。", date="2020-01-01", pid=1)
    other = _p("宁人社函〔2021〕2号", "一、南京的规定。", region="江苏省南京市", date="2021-01-01", pid=2)
    new = _p(
        "苏人社函〔2023〕5号",
        "现将《某通知》（人社厅发[2020]104号）转发给你们。根据苏人社函(2020)1号，"
        "原《旧通知》（苏人社函〔2020〕1号）同时废止。此前规定与本通知不一致的，以本通知为准。",
        date="2023-01-01",
        pid=3,
    )
    national = _p("人社厅发〔2020〕104号", "一、全国。", region="全国", date="2020-11-09", pid=4)
    found = relations([old, other, new, national])
    kinds = {(r.kind, r.other) for r in found["苏人社函〔2023〕5号"]}
    assert ("repeals", "苏人社函〔2020〕1号") in kinds and ("forwards", "人社厅发〔2020〕104号") in kinds
    assert ("cites", "苏人社函〔2020〕1号") not in kinds  # the stronger relation stands alone
    assert [r.label for r in found["苏人社函〔2020〕1号"] if r.warns] == ["已被废止", "如有不一致，以较新的文件为准"]
    assert "宁人社函〔2021〕2号" not in found  # another region's notice is not overridden
    assert all(not r.warns for r in found["人社厅发〔2020〕104号"])


def test_bundled_notices_say_only_that_one_forwards_the_other() -> None:
    found = relations(bundled_passages())
    assert {(d, r.kind, r.other) for d, rs in found.items() for r in rs} == {
        ("苏人社办函〔2021〕26号", "forwards", "人社厅发〔2020〕104号"),
        ("人社厅发〔2020〕104号", "forwarded_by", "苏人社办函〔2021〕26号"),
    }


def test_addresses_are_stable_and_spelling_blind() -> None:
    assert doc_slug("苏人社办函〔2022〕54号") == doc_slug("苏人社办函[2022]54号") == "苏人社办函-2022-54"
    assert clause_anchor("附件1 职业技能竞赛跨区域办赛备案表") == "附件1_职业技能竞赛跨区域办赛备案表"


def test_marking_keeps_every_character_in_order() -> None:
    text = "第一句。第二句；第三句。"
    pieces = mark(text, ["第二句；", "不在文中"])
    assert "".join(p for p, _ in pieces) == text and [p for p, m in pieces if m] == ["第二句；"]


def test_gaps_are_grouped_by_what_they_ask(kb: KnowledgeBase) -> None:
    now = datetime.now(UTC)
    asked = ["异地选手占比怎么算", "异地选手的比例怎么计算", "证书丢了怎么办", "证书丢了能补办吗"]
    asked += ["你好", "青岛自主评价"]
    groups = group([GapQuestion(q, 3 - i // 2, 0, now) for i, q in enumerate(asked)], kb)
    assert sorted(sorted(q.question for q in g.questions) for g in groups) == sorted(
        [sorted(asked[0:2]), sorted(asked[2:4]), ["你好"], ["青岛自主评价"]]
    )
    assert groups[0].count == 6 and groups[0].suggestions  # most asked first, with clauses to pick
    assert next(g for g in groups if g.lead.question == "你好").topic == "chitchat"


def test_charts_scale_to_the_data() -> None:
    svg = str(charts.daily([DayCount("2026-11-01", 10, 4), DayCount("2026-11-02", 5, 5)]))
    assert svg.startswith("<svg") and svg.count('class="ok"') == 2 and "11-01" in svg
    ranked = str(charts.bars([("甲<script>", 10), ("乙", 5)]))
    assert 'width="100.0"' in ranked and 'width="50.0"' in ranked and "&lt;script&gt;" in ranked
    assert "67%" in str(charts.share([("已回答", 2, "ok"), ("未回答", 1, "no")]))
    assert "暂无数据" in str(charts.bars([])) and "没有提问" in str(charts.daily([]))
    filled = charts.every_day([DayCount("2026-11-02", 3, 1)], date(2026, 10, 31), date(2026, 11, 3))
    assert [d.asked for d in filled] == [0, 0, 3, 0] and filled[0].day == "2026-10-31"


def test_passwords_and_session_cookies() -> None:
    hashed = hash_password("a-long-password")
    assert hashed.startswith("$argon2") and check_password(hashed, "a-long-password")
    assert not check_password(hashed, "a-long-passwore") and not check_password(None, "a-long-password")
    assert password_problem("short") and password_problem("aaaaaaaaaaaa") and not password_problem("a-long-password")
    now = [1_000_000.0]
    codec = SessionCodec("k", timedelta(minutes=10), timedelta(hours=1), clock=lambda: now[0])
    cookie = codec.dump(codec.load(None))
    assert codec.load(cookie).uid is None and not codec.load(cookie).expired
    assert codec.load(cookie + "x").csrf != codec.load(cookie).csrf  # a forged cookie: a fresh session
    assert (
        SessionCodec("other key", timedelta(minutes=10), timedelta(hours=1)).load(cookie).csrf
        != codec.load(cookie).csrf
    )


def test_users_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'u.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    ok = runner.invoke(app, ["users", "add", "carol", "--role", "admin", "--password-stdin"], input="carol-password\n")
    assert ok.exit_code == 0 and "已添加账号 carol（管理员）" in ok.output
    again = runner.invoke(app, ["users", "add", "carol", "--password-stdin"], input="carol-password\n")
    assert again.exit_code == 1 and "已存在" in again.output
    weak = runner.invoke(app, ["users", "add", "dave", "--password-stdin"], input="short\n")
    assert weak.exit_code == 2 and "至少需要" in weak.output
    assert runner.invoke(app, ["users", "disable", "carol"]).exit_code == 0
    listed = runner.invoke(app, ["users", "list"])
    assert "carol" in listed.output and "停用" in listed.output and "dave" not in listed.output
    assert runner.invoke(app, ["users", "disable", "nobody"]).exit_code == 1
    prompt = runner.invoke(app, ["users", "password", "carol"], input="new-password-1\nnew-password-1\n")
    assert prompt.exit_code == 0 and "已重设 carol 的密码" in prompt.output

    from storage.admin_audit import AuditFilter, actions

    rows = in_store(url, lambda s: actions(s, AuditFilter()))
    assert [r.action for r in rows] == ["user.password", "user.disable", "user.add"]
    assert all(r.actor.startswith("cli:") for r in rows)


async def test_the_web_tables_match_their_migration(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await db.migrate()

    def diff(connection) -> list:  # type: ignore[no-untyped-def,type-arg]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    try:
        async with db.engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        await db.dispose()
    assert not [c for c in changes if WEB_TABLES & set(_tables(c))]


def _tables(change: object) -> list[str]:
    """Table names an Alembic diff entry touches, however deeply it nests them."""
    if isinstance(change, list | tuple):
        return [t for part in change for t in _tables(part)]
    name = getattr(change, "name", None) if hasattr(change, "columns") else None
    table = getattr(change, "table", None)
    return [n for n in (name, getattr(table, "name", None)) if isinstance(n, str)]


def test_console_queries_on_postgresql(postgres_url: str, kb: KnowledgeBase) -> None:
    """The console's own SQL (dates, upserts, sub-queries) on the other database it runs on."""
    from sqlalchemy import text

    from storage import admin_audit
    from storage.users import add_account, recent_failures, record_sign_in, shared_secret
    from storage.web_reports import open_gaps, overview

    tables = "qa_log, feedback, bank_questions, web_accounts, web_sign_ins, admin_audit"
    in_store(postgres_url, lambda s: s.execute(text(f"TRUNCATE {tables}")))
    question = "异地选手占比超过50%向谁备案"
    log_questions(postgres_url, [("证书丢了怎么办", refused("x"), 0)] * 2 + [(question, kb.search(question), -1)])
    now = datetime.now(UTC)

    async def work(session) -> None:  # type: ignore[no-untyped-def]
        gaps = await open_gaps(session, now - timedelta(days=1))
        assert [(g.question, g.count, g.disliked) for g in gaps] == [
            ("证书丢了怎么办", 2, 0),
            ("异地选手占比超过50%向谁备案", 1, 1),
        ]
        data = await overview(session, now - timedelta(days=1), zone="Asia/Shanghai")
        assert data.asked == 3 and data.answered == 1 and data.down == 1 and len(data.days) >= 1
        assert data.days[-1].day == datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        await add_account(session, "pg", "staff", "hash")
        await record_sign_in(session, "pg", "10.0.0.1", False, now)
        failures = await recent_failures(session, "pg", "10.0.0.1", now - timedelta(minutes=5))
        assert failures.by_username == 1 and failures.by_ip == 1 and failures.oldest_by_ip is not None
        first = await shared_secret(session, "web")
        assert await shared_secret(session, "web") == first
        await admin_audit.record(session, "web:pg", "cert.revoke", "batch:x", detail={"count": 1})
        assert (await admin_audit.last_action(session, "cert.revoke", "batch:x")).actor == "web:pg"  # type: ignore[union-attr]

    in_store(postgres_url, work)


def test_web_on_a_taken_port_says_so_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["web", "--port", str(port)])
    assert result.exit_code == 1 and "端口已被占用" in result.stderr and "Traceback" not in result.output
