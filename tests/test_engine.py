from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.models import Conversation, ProcessedUpdate
from tests.conftest import Counter, ToyFlow, msg


async def test_start_help_and_menu(make_engine):
    engine = await make_engine()
    [welcome] = await engine.handle(msg("/start"))
    assert welcome.payload["intent"] == "start"
    assert [b.payload for b in welcome.buttons] == ["m:ask", "m:filing", "m:eligibility", "m:cert"]
    [help_reply] = await engine.handle(msg("/help"))
    assert "/filing" in help_reply.text and "/cancel" in help_reply.text
    [menu_ask] = await engine.handle(msg(button="m:ask"))
    assert menu_ask.payload["intent"] == "qa"


async def test_free_text_goes_to_qa_and_commands_route(make_engine):
    engine = await make_engine()
    [answer] = await engine.handle(msg("/ask 异地选手占比超过50%向谁备案"))
    assert answer.payload["intent"] == "qa" and answer.payload["answered"] is True
    [answer] = await engine.handle(msg("/ask 青岛企业自主评价备案要交哪些材料"))
    assert answer.payload["hits"][0]["doc_no"] == "青人社发〔2020〕7号"
    [bot_cmd] = await engine.handle(msg("/help@SkillBot"))
    assert bot_cmd.payload["intent"] == "help"


async def test_toy_flow_survives_restart(make_engine):
    first = await make_engine([ToyFlow()])
    [ask_name] = await first.handle(msg("toy start"))
    assert ask_name.payload["step"] == "name"
    await first.handle(msg("小王"))
    await first.close()

    second = await make_engine([ToyFlow()])
    [done] = await second.handle(msg("南京"))
    assert done.payload == {"intent": "toy", "done": {"name": "小王", "city": "南京"}}


async def test_stale_button_leaves_state_unchanged(make_engine):
    engine = await make_engine([ToyFlow()])
    [ask_name] = await engine.handle(msg("toy start"))
    stale = ask_name.buttons[0].payload
    await engine.handle(msg("小李"))  # moves on; the skip button is now stale
    [reply] = await engine.handle(msg(button=stale))
    assert reply.payload["intent"] == "stale_button"
    [done] = await engine.handle(msg("青岛"))
    assert done.payload["done"] == {"name": "小李", "city": "青岛"}


async def test_cancel_clears_the_active_flow(make_engine):
    engine = await make_engine([ToyFlow()])
    await engine.handle(msg("toy start"))
    [cancel] = await engine.handle(msg("/cancel"))
    assert cancel.payload == {"intent": "cancel", "cancelled": True}
    [reply] = await engine.handle(msg("小张"))  # no flow any more: goes to Q&A
    assert reply.payload["intent"] == "qa"


async def test_duplicate_update_is_processed_once(make_engine):
    engine = await make_engine([Counter()])
    first = await engine.handle(msg("inc", update=1001))
    again = await engine.handle(msg("inc", update=1001))
    assert first[0].payload["count"] == 1 and again == []
    [third] = await engine.handle(msg("inc", update=1002))
    assert third.payload["count"] == 2
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 2


async def test_concurrent_duplicates_are_processed_once(make_engine):
    engine = await make_engine([Counter()])
    results = await asyncio.gather(*(engine.handle(msg("inc", update=5000)) for _ in range(20)))
    assert sum(1 for r in results if r) == 1
    [after] = await engine.handle(msg("inc", update=5001))
    assert after.payload["count"] == 2


async def test_one_users_updates_are_serialised(make_engine):
    engine = await make_engine([Counter()])
    await asyncio.gather(*(engine.handle(msg("inc", update=i)) for i in range(100)))
    [last] = await engine.handle(msg("inc", update=100))
    assert last.payload["count"] == 101


async def test_thousand_users_in_parallel_lose_nothing(make_engine):
    engine = await make_engine([Counter()])
    users = range(1, 1001)
    await asyncio.gather(*(engine.handle(msg("inc", user=u)) for u in users))
    await asyncio.gather(*(engine.handle(msg("inc", user=u)) for u in users))
    async with engine.db.transaction() as session:
        counts = (await session.scalars(select(Conversation.state))).all()
    assert len(counts) == 1000
    assert all(state["count"] == 2 for state in counts)


async def test_a_failing_handler_rolls_back_and_reports(make_engine):
    class Boom(Counter):
        name, prefix = "boom", "boom"

        def claims(self, text: str) -> bool:
            return text == "boom"

        async def on_free_text(self, ctx):
            ctx.state["count"] = 999
            raise RuntimeError("handler bug")

    engine = await make_engine([Boom(), Counter()])
    await engine.handle(msg("inc"))
    [error] = await engine.handle(msg("boom", update=77))
    assert error.payload["intent"] == "error" and "进度没有受影响" in error.text
    [after] = await engine.handle(msg("inc"))
    assert after.payload["count"] == 2  # the failed update wrote nothing
    async with engine.db.transaction() as session:
        assert await session.get(ProcessedUpdate, 77) is None  # and may be retried


BAD_INPUTS = [
    ("", "empty"),
    ("   \n\t  ", "empty"),
    ("问" * 20_000, "too_long"),
    ("\x00\x07\x1b\x7f\x9b", "empty"),
    ("🙂🎉👍", "no_words"),
    ("\u202e\u200f\u200b", "empty"),
    ("/definitely_not_a_command", "unknown_command"),
    ("/" + "x" * 500, "unknown_command"),
]


@pytest.mark.parametrize(("text", "intent"), BAD_INPUTS)
async def test_bad_input_gets_a_clear_chinese_reply(make_engine, text, intent):
    engine = await make_engine([ToyFlow()])
    await engine.handle(msg("toy start"))
    reply, *_ = await engine.handle(msg(text))
    assert reply.payload["intent"] == intent
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reply.text)
    assert len(reply.text) < 200
    # The flow that was running is untouched.
    async with engine.db.transaction() as session:
        state = (await session.get(Conversation, 7)).state
    assert state["active"]["step"] == "name"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE conversations; --",
        "1 OR 1=1; SELECT * FROM users",
        "\u202e南京备案\u202c 找谁",
        "南京\x00备案",
        "南京备案" + "\u0301" * 50,
    ],
)
async def test_odd_text_is_answered_and_nothing_breaks(make_engine, text):
    engine = await make_engine()
    reply, *_ = await engine.handle(msg(text))
    # "南京备案 找谁" may fairly start the walk-through; English with digits may be taken for a
    # certificate question, which asks for the number.
    assert reply.payload["intent"] in ("qa", "filing", "certificate")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 1


FORGED = [
    *("", "qa", "qa:", "zz:1", "qa:c:999999", "qa:f:abc:1", "qa:f:999:1", "m:nothing", "x" * 64),
    *("qa:-:clause:999999", "qa:-:vote:abc:up", "qa:-:vote:999:up", "qa:-:vote:1:sideways", "qa:-:launch"),
    *("fl:0:start:nothing", "fl:-:option:1", "el:-:answer:rank:0", "el:0:answer:rank:99", "ct:-:menu"),
]


@pytest.mark.parametrize("payload", FORGED)
async def test_forged_buttons_are_refused(make_engine, payload):
    engine = await make_engine()
    [reply] = await engine.handle(msg(button=payload))
    assert reply.payload["intent"] == "stale_button"


async def test_greetings_get_the_menu(make_engine):
    engine = await make_engine()
    for text in ("你好", "在吗？", "谢谢！"):
        reply, *_ = await engine.handle(msg(text))
        assert reply.payload["intent"] == "start" and reply.buttons


async def test_old_update_ids_are_pruned_at_start(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from bot.engine import Engine
    from bot.settings import Settings
    from storage.models import ProcessedUpdate

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = await Engine.start(Settings(database_url=url))
    await engine.handle(msg("/help", update=1))
    await engine.handle(msg("/help", update=2))
    async with engine.db.transaction() as session:
        old = datetime.now(UTC) - timedelta(days=30)
        await session.execute(
            ProcessedUpdate.__table__.update().where(ProcessedUpdate.update_id == 1).values(processed_at=old)
        )
    await engine.close()
    restarted = await Engine.start(Settings(database_url=url))
    async with restarted.db.transaction() as session:
        kept = (await session.execute(select(ProcessedUpdate.update_id))).scalars().all()
    await restarted.close()
    assert kept == [2]


async def test_a_policy_question_is_searched_outside_the_database_lock(make_engine, monkeypatch):
    """On SQLite one lock serialises the process's transactions; the search (the update's CPU
    work) runs before it is taken, and the handler inside reuses that search."""
    engine = await make_engine()
    kb = engine.services.knowledge
    lock_held_during_search = []
    search = kb._search

    def spy(question, k):  # type: ignore[no-untyped-def]
        lock_held_during_search.append(engine.db._sqlite_writer.locked())
        return search(question, k)

    monkeypatch.setattr(kb, "_search", spy)
    replies = await engine.handle(msg("省里对各地公布评价机构信息有什么要求"))
    assert replies[0].payload["intent"] == "qa"
    assert lock_held_during_search == [False]


async def test_every_button_sent_decodes_to_its_capability_and_fits_telegram(make_engine):
    """Buttons go through one codec (handlers.buttons): readable actions, 64 bytes at most."""
    from handlers.buttons import MAX_BYTES, decode

    engine = await make_engine()
    sent = []
    for text in ("/filing", "/eligibility", "异地选手占比超过50%向谁备案", "/start"):
        for reply in await engine.handle(msg(text)):
            sent += [b.payload for b in reply.buttons]
    assert len(sent) > 10
    for payload in sent:
        assert len(payload.encode()) <= MAX_BYTES
        prefix, _, rest = payload.partition(":")
        assert prefix == "m" or decode(rest) is not None, payload


async def test_english_words_typed_where_a_number_is_asked_are_not_a_number(make_engine):
    """ "what is this" was read as the certificate number "WHATISTHIS" (found by the seventh
    writer's English messages): text without digits is not a number attempt."""
    engine = await make_engine()
    await engine.handle(msg("/cert"))
    replies = await engine.handle(msg("what is this"))
    assert all("WHATISTHIS" not in r.text for r in replies)
    await engine.handle(msg("/cert"))
    [typo] = await engine.handle(msg("S00003201000O243001234"))  # a letter O among the digits: still a number
    assert typo.payload["intent"] == "certificate" and "证书编号" in typo.text
