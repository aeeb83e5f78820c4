"""Personal data kept out of logs and stores; votes that belong to their own answer."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.cli_common import RedactingFilter
from knowledge.redact import redact
from storage.models import Feedback, QaLog
from tests.conftest import msg

ID_NO = "320102199001011234"
PHONE = "13812345678"
CERT = "S000032010000243001234"


def test_redact_removes_id_phone_and_certificate_numbers_but_not_policy_figures():
    text = f"我身份证{ID_NO}，手机 138 1234 5678，证书{CERT}，老证号1234567890123456"
    out = redact(text)
    for secret in (ID_NO, "138 1234 5678", CERT, "1234567890123456"):
        assert secret not in out
    assert "[身份证号]" in out and "[手机号]" in out and "[证书编号]" in out
    kept = "异地选手占比10%—50%，报设区市备案；联系电话：025-83271777；2022年4月8日"
    assert redact(kept) == kept


def test_no_log_level_prints_personal_numbers(caplog):
    logger = logging.getLogger("skillbot.test")
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("row %s %s %s", ID_NO, PHONE, CERT)
    finally:
        logger.removeHandler(handler)
    assert records and not any(s in records[0] for s in (ID_NO, PHONE, CERT))


async def test_a_question_with_an_id_number_is_stored_without_it(make_engine):
    engine = await make_engine()
    await engine.handle(msg(f"/ask 我的身份证号{ID_NO}，手机{PHONE}，异地选手占比超过50%向谁备案"))
    async with engine.db.transaction() as session:
        stored = (await session.scalars(select(QaLog.question))).all()
    assert stored and not any(ID_NO in q or PHONE in q for q in stored)
    assert "异地选手" in stored[0]


async def test_feedback_belongs_to_the_answers_own_user(make_engine):
    engine = await make_engine()
    [answer] = await engine.handle(msg("/ask 异地选手占比超过50%向谁备案", user=7))
    down = next(b.payload for b in answer.buttons if b.label.startswith("👎"))
    for other in range(100, 130):  # forged presses from other accounts
        [reply] = await engine.handle(msg(button=down, user=other))
        assert reply.payload.get("intent") != "qa_feedback"
    [thanks] = await engine.handle(msg(button=down, user=7))
    assert thanks.payload["vote"] == -1
    async with engine.db.transaction() as session:
        votes = (await session.scalars(select(Feedback.user_id))).all()
    assert votes == [7]


def test_an_empty_or_broken_xlsx_gets_a_chinese_message(tmp_path):
    import pytest

    from knowledge.roster import RosterError, read_roster

    for name, content in (("empty.xlsx", b""), ("broken.xlsx", b"PK\x03\x04 not really a workbook")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(RosterError) as caught:
            read_roster(path)
        message = str(caught.value)
        assert "无法打开 Excel 文件" in message and not any(w in message for w in ("zip", "File", "Error")), message


async def test_btn_lines_that_name_no_button_are_not_questions(make_engine):
    from sqlalchemy import func, select

    from bot.console import ConsoleSession, run_script

    engine = await make_engine()
    out: list = []
    await run_script(ConsoleSession(engine, 3), ["#btn -1", "#btn abc", "#btn"], out.extend)
    assert [r.payload["intent"] for r in out] == ["no_such_button"] * 3
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(QaLog)) == 0


def test_a_header_only_roster_is_refused_and_cli_lookups_are_audited(tmp_path, monkeypatch):
    import asyncio

    from typer.testing import CliRunner

    from bench.roster import rows
    from bot.cli import app
    from storage.db import Database
    from storage.models import CertLookup
    from tests.test_certificates import write_roster

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    empty = write_roster(tmp_path / "empty.csv", [])
    result = runner.invoke(app, ["certs", "import", str(empty)])
    assert result.exit_code == 1 and "只有表头" in result.stderr
    data = list(rows(2))
    assert runner.invoke(app, ["certs", "import", str(write_roster(tmp_path / "r.csv", data))]).exit_code == 0
    assert runner.invoke(app, ["certs", "lookup", data[0][19], "--name", data[0][3]]).exit_code == 0

    async def requesters() -> list[str]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        async with db.transaction() as session:
            found = (await session.scalars(select(CertLookup.requester))).all()
        await db.dispose()
        return list(found)

    assert [r.startswith("operator:") for r in asyncio.run(requesters())] == [True]
