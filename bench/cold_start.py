"""Cold start of a one-shot `skillbot ask`: a fresh process, question to answer, wall clock.

The first run on a new database builds the index and saves it beside the database; the runs
after it load the saved index (knowledge.snapshots). Both are timed, with the peak RSS.

Usage: python bench/cold_start.py [--notices 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTION = "异地选手占比超过50%向谁备案"


async def _seed(url: str, n_notices: int) -> None:
    from bench.qa import corpus
    from knowledge.notices import load_manifest
    from storage.db import Database
    from storage.notices import add_notice, seed_bundled

    db = Database(url)
    await db.migrate()
    async with db.transaction() as session:
        await seed_bundled(session)
        bundled = {m.doc_no for m, _ in load_manifest()}
        for meta, raw in corpus(n_notices):
            if meta.doc_no not in bundled:
                await add_notice(session, meta, raw)
    await db.dispose()


def _ask(env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `skillbot ask --json` process."""
    command = [str(Path(sys.executable).parent / "skillbot"), "ask", QUESTION, "--json"]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or b'"answered": true' not in out:
        raise SystemExit(f"ask failed: {err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(_seed(url, args.notices))
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
        first, first_rss = _ask(env)
        loads = [_ask(env) for _ in range(args.runs)]
        print(f"notices: {args.notices}; question: {QUESTION}")
        print(f"first run (builds and saves the index): {first:.2f} s, peak RSS {first_rss:.0f} MB")
        seconds = statistics.median(t for t, _ in loads)
        rss = max(r for _, r in loads)
        print(f"later runs (load the saved index), median of {args.runs}: {seconds:.2f} s, peak RSS {rss:.0f} MB")
        sizes = sum(p.stat().st_size for p in Path(tmp, "index").glob("*.pickle"))
        print(f"saved index: {sizes / 1e6:.1f} MB in {tmp}/index")


if __name__ == "__main__":
    main()
