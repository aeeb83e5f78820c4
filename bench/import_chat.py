"""Chat latency while a large 名册 is imported into the same SQLite database.

`skillbot certs import` runs as its own process (as an operator would run it); meanwhile this
process runs the bot's engine on the same file and sends a /help and a policy question every
50 ms, each from a new user (so each writes its own state). Prints the import's duration and the
chat latency p50 / p99 / max during it, and how many updates failed.

Usage: python bench/import_chat.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.roster import write_csv  # noqa: E402

INTERVAL_S = 0.05
MESSAGES = ["/help", "异地选手占比超过50%向谁备案"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def main(n_rows: int) -> None:
    from bot.engine import Engine
    from bot.settings import Settings
    from handlers.base import Incoming

    with tempfile.TemporaryDirectory() as tmp:
        roster = write_csv(Path(tmp) / "roster.csv", n_rows)
        url = f"sqlite+aiosqlite:///{tmp}/bot.db"
        engine = await Engine.start(Settings(database_url=url))
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
        skillbot = str(Path(sys.executable).parent / "skillbot")
        started = time.perf_counter()
        importer = await asyncio.create_subprocess_exec(
            skillbot, "certs", "import", str(roster), "--batch", "bench", env=env, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        latencies: list[float] = []
        failed = 0
        user = 1000
        while importer.returncode is None:
            user += 1
            text = MESSAGES[user % len(MESSAGES)]
            t0 = time.perf_counter()
            replies = await engine.handle(Incoming(user_id=user, chat_id=user, text=text, update_id=user))
            latencies.append(time.perf_counter() - t0)
            failed += any(r.payload.get("intent") == "error" for r in replies)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(importer.wait(), INTERVAL_S)
        out, err = await importer.communicate()
        duration = time.perf_counter() - started
        await engine.close()
    ms = [x * 1000 for x in latencies]
    print(f"import of {n_rows:,} rows: {duration:.1f} s, exit {importer.returncode}: {out.decode().strip()}")
    if importer.returncode:
        print(err.decode()[-1000:])
    print(
        f"chat during the import: {len(ms)} updates, p50 {pct(ms, 0.5):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, "
        f"max {max(ms, default=0):.1f} ms, failed {failed}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().rows))
