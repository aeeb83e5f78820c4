"""Engine throughput and latency with an on-disk SQLite store and 1,000 simulated users.

Two measurements through the full engine (locks, update log, state transaction):
  * saturation: every user sends at once, repeatedly; messages per second;
  * latency: messages arrive at a fixed offered rate from 1,000 users (open loop);
    p50/p99 latency from arrival to reply.
Both for a simple command (/help) and for a policy-question mix (every phrasing of the bundled
question bank in turn, so retrieval, the answer model and the Q&A log are in it), in one run
(--mix help|questions for one of them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import Engine
from bot.settings import Settings
from handlers.base import Incoming

USERS = 1000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def messages(mix: str) -> list[str]:
    if mix == "help":
        return ["/help"]
    from knowledge.base import bundled_bank

    bank = bundled_bank()
    # Every phrasing, interleaved: far more distinct questions than the knowledge base remembers
    # (RECENT_QUESTIONS), so no search is served from memory, as with real traffic.
    answerable, out_of_scope = [q.q for q in bank.answerable], [q.q for q in bank.out_of_scope]
    ratio = max(len(answerable) // max(len(out_of_scope), 1), 1)
    return [
        q
        for i, q in enumerate(answerable)
        for q in ([q, out_of_scope[i // ratio]] if i % ratio == 0 and i // ratio < len(out_of_scope) else [q])
    ]


async def main(rounds: int, rate: float, seconds: float, mix: str) -> None:
    texts = messages(mix)

    def text(i: int) -> str:
        return texts[i % len(texts)]

    with tempfile.TemporaryDirectory() as tmp:
        engine = await Engine.start(Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.db"))
        update = iter(range(1, 10**9))
        # Warm-up: creates every user's row.
        await asyncio.gather(*(engine.handle(Incoming(u, u, "/help", update_id=next(update))) for u in range(USERS)))
        sent = iter(range(10**9))

        start = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(
                *(engine.handle(Incoming(u, u, text(next(sent)), update_id=next(update))) for u in range(USERS))
            )
        elapsed = time.perf_counter() - start
        saturation = rounds * USERS / elapsed

        latencies: list[float] = []

        async def one(user: int) -> None:
            t0 = time.perf_counter()
            await engine.handle(Incoming(user, user, text(next(sent)), update_id=next(update)))
            latencies.append((time.perf_counter() - t0) * 1000)

        tasks = []
        total = int(rate * seconds)
        t_start = time.perf_counter()
        for i in range(total):
            delay = t_start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i % USERS)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - t_start)
        await engine.close()

    what = "/help" if mix == "help" else f"{len(texts)} bank questions in turn"
    print(f"engine saturation: {saturation:,.0f} messages/s ({rounds} rounds x {USERS} concurrent users, {what})")
    print(
        f"engine latency at {rate:.0f} msg/s offered ({achieved:,.0f} achieved, {USERS} users, {total} messages): "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--question-rate", type=float, default=120.0)
    parser.add_argument("--mix", choices=["help", "questions", "both"], default="both")
    args = parser.parse_args()
    for mix in ("help", "questions") if args.mix == "both" else (args.mix,):
        # A policy question costs some 5 ms of CPU: offer it at most what one core can serve.
        rate = args.rate if mix == "help" else min(args.rate, args.question_rate)
        asyncio.run(main(args.rounds, rate, args.seconds, mix))
