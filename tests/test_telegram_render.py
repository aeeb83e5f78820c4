from __future__ import annotations

import asyncio
import itertools
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram.core import Classified, Fault, TelegramChannel
from bot.telegram.render import MAX_MESSAGE, KeyButton, keyboard, split_text, to_html, utf16_len
from handlers.base import Button, Document, Reply
from knowledge.base import KnowledgeBase
from tests.conftest import build_engine


class TagChecker(HTMLParser):
    """Fails on anything Telegram's HTML parser would reject in our messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag == "b", tag
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag

    def check(self, html: str) -> None:
        assert "<" not in html.replace("<b>", "").replace("</b>", "")
        self.feed(html)
        self.close()
        assert not self.open


def well_formed(html: str) -> None:
    assert html.strip()
    assert utf16_len(html) <= MAX_MESSAGE
    TagChecker().check(html)


def test_bold_and_escaping() -> None:
    assert to_html("a **<b>&** c") == "a <b>&lt;b&gt;&amp;</b> c"
    assert to_html("2**3 < 4") == "2**3 &lt; 4"


def test_long_replies_are_split_under_the_limit_at_line_ends() -> None:
    text = "\n".join(f"第{i}行：" + "条款内容" * 40 + "**重点**" for i in range(60))
    parts = split_text(text)
    assert len(parts) > 1
    for part in parts:
        well_formed(part)
    assert all(p.endswith("</b>") for p in parts)  # cut between lines, not inside a line


def test_a_single_huge_line_is_cut_too() -> None:
    parts = split_text("&" * 20000)
    assert len(parts) > 1
    for part in parts:
        well_formed(part)


def test_short_buttons_pair_up_long_ones_do_not() -> None:
    rows = keyboard([Button("上一步", "a"), Button("取消", "b"), Button("一个很长很长的按钮标签", "c")])
    assert rows == [[KeyButton("上一步", "a"), KeyButton("取消", "b")], [KeyButton("一个很长很长的按钮标签", "c")]]


class RecordingOutbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[list[KeyButton]]]] = []

    async def send_text(self, chat_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        self.messages.append((html, rows))

    async def edit_text(self, chat_id: int, message_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        self.messages.append((html, rows))

    async def send_document(self, chat_id: int, filename: str, data: bytes, caption: str) -> None:
        self.messages.append((caption, []))


def _no_faults(exc: BaseException) -> Classified | None:
    return None


def test_arbitrary_text_and_callback_data_never_break_the_adapter(tmp_path: Path, kb: KnowledgeBase) -> None:
    loop = asyncio.new_event_loop()
    engine = loop.run_until_complete(build_engine(tmp_path / "bot.db", kb))
    channel = TelegramChannel(engine, _no_faults, "telegram")
    update_ids = itertools.count(1)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        text=st.text(max_size=400) | st.sampled_from(["/start", "/filing", "/cert", "/eligibility", "/export"]),
        data=st.text(max_size=80),
        user=st.integers(min_value=1, max_value=5),
    )
    def check(text: str, data: str, user: int) -> None:
        out = RecordingOutbox()
        loop.run_until_complete(channel.on_message(out, next(update_ids), user, user, text))
        loop.run_until_complete(channel.on_button(out, next(update_ids), user, user, 1, data))
        assert len(out.messages) >= 2  # every update is answered
        for html, rows in out.messages:
            well_formed(html)
            assert all(len(k.callback_data.encode()) <= 64 and k.text for row in rows for k in row)

    try:
        check()
    finally:
        loop.run_until_complete(engine.close())
        loop.close()


def test_documents_and_replacement_edits_are_delivered(tmp_path: Path, kb: KnowledgeBase) -> None:
    loop = asyncio.new_event_loop()
    engine = loop.run_until_complete(build_engine(tmp_path / "bot.db", kb))
    channel = TelegramChannel(engine, _no_faults, "telegram")
    out = RecordingOutbox()
    replies = [
        Reply("新的一步", [Button("下一步", "x")], replace=True),
        Reply("清单", document=Document("a.md", "# 清单")),
    ]
    loop.run_until_complete(channel.deliver(out, 1, replies, edit_message_id=5))
    assert [m[0] for m in out.messages] == ["新的一步", "清单", "a.md"]
    loop.run_until_complete(engine.close())
    loop.close()


def test_delivery_gives_up_after_retries_without_raising() -> None:
    from bot.telegram.core import Delivery

    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    async def always_fails() -> None:
        raise ConnectionError

    delivery = Delivery(lambda e: Classified(Fault.NETWORK), sleep=sleep)
    outcome = asyncio.run(delivery.call("sendMessage", always_fails))
    assert outcome is Fault.FAILED and waits == [0.5, 1.0, 2.0, 4.0]


def test_a_message_without_text_is_told_the_bot_reads_text(tmp_path: Path, kb: KnowledgeBase) -> None:
    loop = asyncio.new_event_loop()
    engine = loop.run_until_complete(build_engine(tmp_path / "bot.db", kb))
    out = RecordingOutbox()
    loop.run_until_complete(TelegramChannel(engine, _no_faults, "telegram").on_message(out, 1, 1, 1, None))
    assert "文字" in out.messages[0][0]
    loop.run_until_complete(engine.close())
    loop.close()
