"""Adapter overhead: updates per second through a local fake Telegram Bot API with aiogram
and with python-telegram-bot, side by side, and the same messages through the engine alone
(as the console channel calls it), so each adapter's cost shows as a ratio.

Each run: USERS users send UPDATES `/help` messages at once; the clock stops when the bot
has sent every reply. On-disk SQLite store. Usage: python bench/adapters.py [--updates N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import Engine
from bot.settings import Settings
from bot.telegram import aiogram_adapter, ptb_adapter
from handlers.base import Incoming
from tests.fake_bot_api import FakeBotAPI

USERS = 200
logging.getLogger("aiogram").setLevel(logging.ERROR)  # cancelled pollers complain on the way out


async def through_engine(n: int, tmp: str) -> float:
    engine = await Engine.start(Settings(database_url=f"sqlite+aiosqlite:///{tmp}/console.db"))
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(engine.handle(Incoming(u % USERS + 1, u % USERS + 1, "/help", update_id=u + 1)) for u in range(n))
        )
        return n / (time.perf_counter() - started)
    finally:
        await engine.close()


async def through_telegram(framework: str, n: int, tmp: str) -> float:
    adapter = aiogram_adapter if framework == "aiogram" else ptb_adapter
    api = await FakeBotAPI().start()
    engine = await Engine.start(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/{framework}.db", bot_token=api.token, telegram_api_url=api.url
        )
    )
    task = asyncio.create_task(adapter.run_polling(engine, api.token, api.url, polling_timeout=1))
    try:
        await api.wait_for(lambda: bool(api.called("setMyCommands")), timeout=30)
        started = time.perf_counter()
        for u in range(n):
            api.user_says(u % USERS + 1, "/help")
        await api.wait_for(lambda: len(api.sent) >= n, timeout=600)
        return n / (time.perf_counter() - started)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await engine.close()
        await api.stop()


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        console = await through_engine(n, tmp)
        rows = [("engine alone (console)", console)]
        for framework in ("aiogram", "ptb"):
            rows.append((f"{framework} via fake Bot API", await through_telegram(framework, n, tmp)))
    print(f"{n} updates from {USERS} users")
    for name, rate in rows:
        print(f"{name:<28} {rate:8.0f} updates/s   {rate / console:5.2f}× engine alone")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    asyncio.run(main(parser.parse_args().updates))
