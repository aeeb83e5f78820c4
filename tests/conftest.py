from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.services import Services
from bot.settings import Settings
from handlers.base import Button, Context, Incoming, Reply
from handlers.capability import Capability
from knowledge.base import KnowledgeBase, passages_of
from knowledge.notices import load_manifest
from knowledge.retrieval import Passage
from storage.db import Database

DATA = Path(__file__).parent / "data"


class ToyFlow:
    """A three-step dialogue used to test the engine before real flows depend on it."""

    name = "toy"
    prefix = "toy"
    title = "测试流程"

    def claims(self, text: str) -> bool:
        return text.startswith("toy")

    def interrupts(self, text: str) -> bool:
        return False

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        return await self.on_free_text(ctx)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        ctx.state["active"] = {"kind": "toy", "step": "name", "answers": {}}
        token = ctx.next_token()
        return [Reply("你叫什么？", [Button("跳过", f"toy:{token}:skip")], {"intent": "toy", "step": "name"})]

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        active = ctx.state["active"]
        active["answers"][active["step"]] = ctx.text
        if active["step"] == "name":
            active["step"] = "city"
            ctx.next_token()
            return [Reply("你在哪个城市？", payload={"intent": "toy", "step": "city"})]
        answers = active["answers"]
        ctx.state.pop("active")
        return [Reply(f"{answers['name']}@{answers['city']}", payload={"intent": "toy", "done": answers})]

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        token, _, _ = data.partition(":")
        if not ctx.token_is_current(token) or "active" not in ctx.state:
            return [Reply("这个按钮已失效", payload={"intent": "stale_button"})]
        ctx.state["active"]["answers"]["name"] = "匿名"
        ctx.state["active"]["step"] = "city"
        ctx.next_token()
        return [Reply("你在哪个城市？", payload={"intent": "toy", "step": "city"})]


class Counter:
    """Read-modify-write of state across an await: loses updates unless the engine
    serialises a user's messages."""

    name = "counter"
    prefix = "cnt"
    title = "计数"

    def claims(self, text: str) -> bool:
        return text == "inc"

    def interrupts(self, text: str) -> bool:
        return False

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        return await self.on_free_text(ctx)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        value = int(ctx.state.get("count", 0))
        await asyncio.sleep(0)
        ctx.state["count"] = value + 1
        return [Reply(str(value + 1), payload={"intent": "counter", "count": value + 1})]

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        return None

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        return []


_PASSAGES: list[Passage] | None = None


def bundled_passages() -> list[Passage]:
    global _PASSAGES
    if _PASSAGES is None:
        _PASSAGES = passages_of(load_manifest())
    return _PASSAGES


_KB: KnowledgeBase | None = None


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    global _KB
    if _KB is None:
        _KB = KnowledgeBase(bundled_passages())
    return _KB


async def build_engine(
    db_path: Path, kb: KnowledgeBase, extra: Sequence[Capability] = (), **settings: object
) -> Engine:
    """An engine on the SQLite file `db_path`, as a (re)started process would build it."""
    settings.setdefault("database_url", f"sqlite+aiosqlite:///{db_path}")
    cfg = Settings(**settings)  # type: ignore[arg-type]
    db = Database(cfg.database_url)
    await db.migrate()
    services = Services.build(cfg, kb, exports_dir=db_path.parent / "exports")
    services.capabilities = [*extra, *services.capabilities]
    return Engine(db, services)


@pytest.fixture
async def make_engine(tmp_path: Path, kb: KnowledgeBase) -> AsyncIterator[Callable[..., object]]:
    """Builds engines on one SQLite file in tmp_path, as a restarted process would."""
    engines: list[Engine] = []

    async def factory(extra: Sequence[Capability] = (), **settings: object) -> Engine:
        engine = await build_engine(tmp_path / "bot.db", kb, extra, **settings)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        await engine.close()


def msg(text: str | None = None, *, user: int = 7, button: str | None = None, update: int | None = None) -> Incoming:
    return Incoming(user_id=user, chat_id=user, text=text, button=button, update_id=update)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of its own for this test session."""
    from tests.postgres import start_postgres

    server = start_postgres()
    if server is None:
        if os.environ.get("SKILLBOT_REQUIRE_PG") == "1":
            pytest.fail("PostgreSQL server binaries not found (install Debian's postgresql package)")
        pytest.skip("PostgreSQL server binaries not found; `.ci/run` installs them")
    try:
        yield server.url
    finally:
        server.stop()
