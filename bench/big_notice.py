"""Start-up time and memory with a large notice in the store.

Adds a synthetic notice of about --mb megabytes (the bundled notices' sections, renumbered,
repeated) to a fresh SQLite store, then, in a fresh process, times what a starting bot does
(migrate, seed, load the clauses, build the index and the bank) and reports peak RSS.
Also shows that a notice over the documented size is refused with its reason.

Usage: python bench/big_notice.py [--mb 1]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def big_text(megabytes: float) -> str:
    from knowledge.notices import BUNDLED_DIR

    body = "\n".join(p.read_text("utf-8") for p in sorted(BUNDLED_DIR.glob("*.txt")))
    paragraphs = [x.strip() for x in body.split("\n") if len(x.strip()) > 20]
    lines = ["某市人力资源和社会保障局文件", "测〔2026〕1号", "关于技能人才评价的大型汇编通知"]
    n = 0
    while sum(len(x.encode()) for x in lines) < megabytes * 1_000_000:
        n += 1
        lines.append(f"第{n}部分")
        lines += paragraphs[n % len(paragraphs) : n % len(paragraphs) + 12]
    return "\n".join(lines)


async def add(url: str, text: str) -> int:
    from knowledge.notices import NoticeMeta
    from storage.db import Database
    from storage.notices import add_notice, seed_bundled

    db = Database(url)
    await db.migrate()
    async with db.transaction() as session:
        await seed_bundled(session)
        count = await add_notice(session, NoticeMeta("测〔2026〕1号", "大型汇编", "某市", "江苏省", "2026-01-01"), text)
    await db.dispose()
    return count


def start(url: str) -> tuple[float, float, int]:
    from bot.services import Services
    from bot.settings import Settings
    from storage.db import Database

    async def run() -> int:
        db = Database(url)
        await db.migrate()
        services = await Services.load(db, Settings(database_url=url))
        await db.dispose()
        return len(services.knowledge.passages)

    t0 = time.perf_counter()
    passages = asyncio.run(run())
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, passages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1.0)
    args = parser.parse_args()
    from knowledge.notices import NoticeMeta, notice_problem

    text = big_text(args.mb)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/big.db"
        clauses = asyncio.run(add(url, text))
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            seconds, rss, passages = pool.apply(start, (url,))
    size = len(text.encode()) / 1e6
    print(f"notice of {size:.1f} MB ({len(text):,} characters, {clauses:,} clauses) in the store")
    print(f"start-up (migrate, load {passages:,} clauses, index, bank, rules): {seconds:.1f} s, peak RSS {rss:.0f} MB")
    huge = big_text(4)
    print("a 4 MB notice:", notice_problem(NoticeMeta("测〔2026〕2号", "t", "i", "江苏省", "2026-01-01"), huge))


if __name__ == "__main__":
    main()
