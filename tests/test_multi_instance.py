"""Several bot instances on one PostgreSQL: shared state, serialised updates, no duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from tests.conftest import Counter, build_engine, msg

ROOT = Path(__file__).resolve().parent.parent


async def empty_store(url: str) -> None:
    """Each test starts from an empty store: update ids restart with every fake server."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    await db.migrate()
    async with db.engine.begin() as conn:
        await conn.execute(text("TRUNCATE conversations, users, processed_updates, qa_log, feedback CASCADE"))
    await db.dispose()


@pytest.fixture
async def two_engines(postgres_url: str, kb: KnowledgeBase, tmp_path):  # type: ignore[no-untyped-def]
    await empty_store(postgres_url)
    engines = [await build_engine(tmp_path / "unused.db", kb, [Counter()], database_url=postgres_url) for _ in range(2)]
    yield engines
    for engine in engines:
        await engine.close()


async def test_same_user_on_two_instances_is_serialised_by_the_database(two_engines) -> None:  # type: ignore[no-untyped-def]
    a, b = two_engines
    updates = [(a if i % 2 else b).handle(msg("inc", update=10_000 + i)) for i in range(100)]
    replies = await asyncio.gather(*updates)
    counts = sorted(int(r[0].text) for r in replies)
    assert counts == list(range(1, 101))  # no lost update across processes


async def test_a_flow_started_on_one_instance_continues_on_another(two_engines) -> None:  # type: ignore[no-untyped-def]
    a, b = two_engines
    [menu] = await a.handle(msg("/filing", user=5))
    [step] = await b.handle(msg(button=menu.buttons[1].payload, user=5))  # 南京
    assert step.payload["flow"] == "nj_inst"
    [step] = await a.handle(msg("市属企业", user=5))
    assert step.payload["step"] == "scope"


async def test_an_update_delivered_to_both_instances_is_handled_once(two_engines) -> None:  # type: ignore[no-untyped-def]
    a, b = two_engines
    first, second = await asyncio.gather(a.handle(msg("inc", update=1)), b.handle(msg("inc", update=1)))
    assert sorted([len(first), len(second)]) == [0, 1]


async def test_many_users_in_parallel_on_two_instances(two_engines) -> None:  # type: ignore[no-untyped-def]
    a, b = two_engines
    jobs = [
        (a if u % 2 else b).handle(msg("inc", user=1000 + u, update=50_000 + u * 10 + k))
        for u in range(200)
        for k in range(3)
    ]
    await asyncio.gather(*jobs)
    [reply] = await a.handle(msg("inc", user=1000 + 7, update=99_999))
    assert reply.text == "4"


# -- real processes: `skillbot serve` webhook workers behind one URL ---------------------


class Worker:
    """One `skillbot serve` process in webhook mode."""

    def __init__(self, framework: str, port: int, env: dict[str, str]) -> None:
        self.framework, self.port, self.env = framework, port, env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/wh"

    def start(self) -> Worker:
        command = [sys.executable, "-m", "bot.cli", "serve", "--framework", self.framework]
        command += ["--webhook", self.url, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.framework} worker did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # no clean shutdown: as if the machine died
        self.process.wait()


@pytest.fixture
async def workers(postgres_url: str, tmp_path):  # type: ignore[no-untyped-def]
    from tests.fake_bot_api import FakeBotAPI
    from tests.postgres import free_port

    await empty_store(postgres_url)
    api = await FakeBotAPI().start()
    env = os.environ | {
        "DATABASE_URL": postgres_url,
        "BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_SECRET": api.webhook_secret,
    }
    pool = [Worker("aiogram", free_port(), env).start(), Worker("ptb", free_port(), env).start()]
    try:
        await asyncio.gather(*(w.ready() for w in pool))
        yield api, pool
    finally:
        for w in pool:
            if w.process is not None and w.process.poll() is None:
                w.process.terminate()
                w.process.wait(timeout=20)
        await api.stop()


async def _say(api, worker: Worker, user: int, text: str, count: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    await api.post_webhook(worker.url, api.user_says(user, text))
    return (await api.wait_sent(user, count, timeout=20))[count - 1 :]


async def _press(api, worker: Worker, user: int, label: str, count: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    last = next(s for s in reversed(api.to(user)) if s.buttons)
    data = next(b["callback_data"] for b in last.buttons if b["text"].startswith(label))
    await api.post_webhook(worker.url, api.user_presses(user, data, last.message_id))
    return (await api.wait_sent(user, count, timeout=20))[count - 1 :]


async def test_flow_survives_kill_9_and_moves_between_frameworks(workers) -> None:  # type: ignore[no-untyped-def]
    api, (aio, ptb) = workers
    user = 61
    await _say(api, aio, user, "/filing", 1)
    [step] = await _press(api, ptb, user, "南京", 2)
    assert "贵单位属于哪一类" in step.text
    aio.kill()  # in the middle of the flow
    [step] = await _say(api, ptb, user, "市属企业", 3)
    assert "想开展哪种评价" in step.text
    aio.start()
    await aio.ready()
    [step] = await _press(api, aio, user, "企业内自主评价", 4)
    assert "所在区人社部门" in step.text and "第3/3步" in step.text


async def test_simultaneous_presses_on_two_processes_are_serialised(workers) -> None:  # type: ignore[no-untyped-def]
    api, (aio, ptb) = workers
    user = 62
    await _say(api, aio, user, "/eligibility", 1)
    await _press(api, ptb, user, "江苏省内", 2)  # where the competition is held comes first
    last = api.to(user)[-1]
    worker_press = next(b["callback_data"] for b in last.buttons if b["text"] == "职工组")
    student_press = next(b["callback_data"] for b in last.buttons if b["text"] == "学生组")
    await asyncio.gather(
        api.post_webhook(aio.url, api.user_presses(user, worker_press, last.message_id)),
        api.post_webhook(ptb.url, api.user_presses(user, student_press, last.message_id)),
    )
    sent = await api.wait_sent(user, 4, timeout=20)
    texts = [s.text for s in sent[2:]]
    # One press advanced the dialogue; the other found its button already stale.
    assert sum("失效" in t for t in texts) == 1
    assert sum("养老保险" in t for t in texts) == 1


async def test_certificate_registry_on_postgresql(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The registry's PostgreSQL path (Core statements, asyncpg executemany) end to end."""
    from datetime import UTC, datetime, timedelta

    from bench.roster import rows
    from storage.certificates import RateLimits, import_roster, lookup, revoke
    from storage.db import Database
    from tests.test_certificates import write_roster

    db = Database(postgres_url)
    await db.migrate()
    try:
        data = list(rows(20, seed=99))
        today = datetime.now(UTC).date()
        assert (await import_roster(db, write_roster(tmp_path / "a.csv", data), "pg-a", today)).ok
        data[0][3] = "新名字"
        assert not (await import_roster(db, write_roster(tmp_path / "b.csv", data[:1]), "pg-b", today)).ok
        assert (await import_roster(db, write_roster(tmp_path / "b.csv", data[:1]), "pg-b", today, replace=True)).ok
        now = datetime.now(UTC)
        limits = RateLimits(per_user=2, window=timedelta(minutes=10))
        async with db.transaction() as session:
            found = await lookup(session, data[0][19], "新名字", "pg:1", now, limits)
            assert await revoke(session, "违规", now, batch="pg-a") == 19
        async with db.transaction() as session:
            revoked = await lookup(session, data[1][19], data[1][3], "pg:1", now, limits)
            limited = await lookup(session, data[1][19], data[1][3], "pg:1", now, limits)
        assert found.found and found.holder is not None and found.holder["name"] == "新*字"
        assert revoked.holder is not None and revoked.holder["status"] == "注销"
        assert limited.result == "rate_limited_user" and limited.retry_after_s > 0
    finally:
        await db.dispose()


async def test_forged_webhook_updates_are_refused(workers) -> None:  # type: ignore[no-untyped-def]
    """Without the secret header (or with a wrong one) neither framework handles the update."""
    api, pool = workers
    for worker in pool:
        for secret in (None, "wrong"):
            status = await api.post_webhook(worker.url, api.user_says(71, "/help"), secret=secret)
            assert status in (401, 403), (worker.framework, status)
    await asyncio.sleep(1)
    assert api.to(71) == []
    await _say(api, pool[0], 71, "/help", 1)  # the real one still goes through


def test_webhook_mode_needs_a_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = os.environ | {"BOT_TOKEN": "1:x", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db"}
    env.pop("WEBHOOK_SECRET", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--webhook", "https://example.org/tg"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "WEBHOOK_SECRET" in done.stderr
