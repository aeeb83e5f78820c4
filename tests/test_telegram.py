from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.telegram import aiogram_adapter, ptb_adapter
from handlers.base import Context, Reply
from storage.models import QaLog
from tests.fake_bot_api import FakeBotAPI

FRAMEWORKS = {"aiogram": aiogram_adapter, "ptb": ptb_adapter}
TAG = re.compile(r"<[^>]+>")


def plain(html: str) -> str:
    return TAG.sub("", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class Echo:
    """A plug-in capability that repeats what it is told: the one way user text reaches a reply."""

    name, prefix, title = "echo", "echo", "回声"

    def claims(self, text: str) -> bool:
        return text.startswith("echo ")

    def interrupts(self, text: str) -> bool:
        return False

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        return await self.on_free_text(ctx)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        return [Reply(f"你说：{ctx.text[5:]}", payload={"intent": "echo"})]

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        return None

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        return []


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = await FakeBotAPI().start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def running(framework: str, api: FakeBotAPI, make_engine, extra=(), **settings: object) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    engine = await make_engine(extra, bot_token=api.token, telegram_api_url=api.url, **settings)
    task = asyncio.create_task(FRAMEWORKS[framework].run_polling(engine, api.token, api.url, polling_timeout=1))
    try:
        await api.wait_for(lambda: bool(api.called("setMyCommands")), timeout=15)
        yield engine
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
async def test_start_help_and_command_menu(framework: str, api: FakeBotAPI, make_engine) -> None:  # type: ignore[no-untyped-def]
    async with running(framework, api, make_engine):
        commands = api.called("setMyCommands")[0]["commands"]
        assert {c["command"] for c in commands} >= {"start", "help", "ask", "filing", "eligibility", "cert", "cancel"}
        assert all(re.search(r"[\u4e00-\u9fff]", c["description"]) for c in commands)
        api.user_says(11, "/start")
        [welcome] = await api.wait_sent(11, 1)
        assert "技能人才评价政策助手" in welcome.text
        assert [b["callback_data"] for b in welcome.buttons][:2] == ["m:ask", "m:filing"]


async def next_sent(api: FakeBotAPI, chat: int, before: int, count: int = 1) -> list:  # type: ignore[type-arg]
    sent = await api.wait_sent(chat, before + count)
    return sent[before:]


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
async def test_every_capability_end_to_end(framework: str, api: FakeBotAPI, make_engine) -> None:  # type: ignore[no-untyped-def]
    async with running(framework, api, make_engine) as engine:
        user = 21
        # Policy Q&A with citation, related-clause and feedback buttons.
        api.user_says(user, "/ask 异地选手占比超过50%向谁备案？")
        [answer] = await next_sent(api, user, 0)
        assert "省人力资源社会保障厅备案" in plain(answer.text) and "来源：苏人社办函〔2022〕54号" in plain(answer.text)
        assert "<b>" in answer.text
        thumbs_up = next(b["callback_data"] for b in answer.buttons if "👍" in b["text"])
        api.user_presses(user, thumbs_up, answer.message_id)
        [thanks] = await next_sent(api, user, 1)
        assert "感谢" in plain(thanks.text) or "反馈" in plain(thanks.text)

        # Filing: free text prefilled, then buttons; steps edit the message they replace.
        api.user_says(user, "/filing")
        [menu] = await next_sent(api, user, 2)
        pick = next(b["callback_data"] for b in menu.buttons if b["text"].startswith("江苏 · 职业技能竞赛"))
        api.user_presses(user, pick, menu.message_id)
        [share] = await next_sent(api, user, 3)
        assert "异地选手" in plain(share.text)
        api.user_says(user, "35%")
        [span] = await next_sent(api, user, 4)
        api.user_presses(user, span.buttons[0]["callback_data"], span.message_id)
        [level] = await next_sent(api, user, 5)
        assert level.method == "editMessageText" and level.message_id == span.message_id
        assert "第3/5步" in plain(level.text)

        # /export sends the checklist as a document.
        api.user_says(user, "/export")
        sent = await next_sent(api, user, 6, 2)
        document = next(s for s in sent if s.method == "sendDocument")
        assert document.filename is not None and document.filename.endswith(".md")
        assert "职业技能竞赛办赛备案" in (document.document or b"").decode()

        # Eligibility decided in one reply.
        api.user_says(user, "我在苏州交了14个月社保，户口在河南，能报名苏州职工组的焊工比赛吗")
        [verdict] = await next_sent(api, user, 8)
        assert "可以报名" in plain(verdict.text)

        # Certificate lookup asks for the name, then answers without confirming anything.
        api.user_says(user, "查一下证书 S000032010001213000123")
        [ask] = await next_sent(api, user, 9)
        assert "持证人姓名" in plain(ask.text)
        api.user_says(user, "张三")
        [result] = await next_sent(api, user, 10)
        assert "没有查到" in plain(result.text)

        # Inline mode for hotline staff.
        api.user_inline(user, "异地选手 比例")
        await api.wait_for(lambda: bool(api.inline_answers))
        results = api.inline_answers[0]["results"]
        assert results and "来源：苏人社办函〔2022〕54号" in plain(results[0]["input_message_content"]["message_text"])

        # Through the Q&A capability: logged like a question, so the gap report sees it.
        async with engine.db.transaction() as session:
            logged = (await session.scalars(select(QaLog.question).where(QaLog.user_id == user))).all()
        assert "异地选手 比例" in logged


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
async def test_hostile_text_and_duplicates(framework: str, api: FakeBotAPI, make_engine) -> None:  # type: ignore[no-untyped-def]
    async with running(framework, api, make_engine, extra=[Echo()]):
        # A reply that repeats the user's text: what reaches Telegram is escaped HTML.
        api.user_says(31, "echo <b>备案</b> & <script>x</script> **")
        [reply] = await api.wait_sent(31, 1)
        assert "<script>" not in reply.text and "&lt;script&gt;x&lt;/script&gt;" in reply.text
        assert plain(reply.text) == "你说：<b>备案</b> & <script>x</script> **"
        api.user_says(32, "备" * 20000)
        [too_long] = await api.wait_sent(32, 1)
        assert "20000" in plain(too_long.text)
        api.user_says(33, "/help", update_id=777)
        api.user_says(33, "/help", update_id=777)  # the same update delivered twice
        await api.wait_sent(33, 1)
        await asyncio.sleep(0.5)
        assert len(api.to(33)) == 1


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
async def test_telegram_faults_are_survived(framework: str, api: FakeBotAPI, make_engine) -> None:  # type: ignore[no-untyped-def]
    async with running(framework, api, make_engine):
        api.fail("sendMessage", "429", retry_after=1)
        started = time.monotonic()
        api.user_says(41, "/help")
        await api.wait_sent(41, 1)
        assert time.monotonic() - started >= 1.0  # retry_after was honoured
        assert api.called("sendMessage:429")

        api.fail("sendMessage", "drop")
        api.user_says(42, "/help")
        await api.wait_sent(42, 1)
        assert api.called("sendMessage:drop")

        api.blocked_chats.add(43)
        api.user_says(43, "/help")
        api.user_says(44, "/help")
        await api.wait_sent(44, 1)  # a blocked user does not stop the bot
        assert api.to(43) == []
