"""Certificate registry: import a generated 1,000,000-row 名册 into an on-disk SQLite store,
then look certificates up by number and name.

Prints import time (rows/s), lookup p50/p99 (half with the right name, half wrong), and the
process's peak RSS. Usage: python bench/certs.py [--rows N] [--lookups N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.roster import rows, write_csv
from storage.certificates import RateLimits, import_roster, lookup
from storage.db import Database


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def main(n_rows: int, n_lookups: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "roster.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, n_rows)
        print(f"generated {n_rows:,} rows in {time.perf_counter() - t0:.1f} s ({csv_path.stat().st_size / 1e6:.0f} MB)")

        db = Database(f"sqlite+aiosqlite:///{tmp}/certs.db")
        await db.migrate()
        t0 = time.perf_counter()
        report = await import_roster(db, csv_path, "bench", datetime.now(UTC).date())
        elapsed = time.perf_counter() - t0
        assert report.ok, report.errors[:5]
        print(f"import: {report.inserted_or_updated:,} rows in {elapsed:.1f} s ({report.rows / elapsed:,.0f} rows/s)")

        rng = random.Random(1)
        wanted = set(rng.sample(range(n_rows), min(n_lookups, n_rows)))
        # (certificate number, holder name) of the sampled rows, regenerated from the seed.
        sample = [(row[19], row[3]) for i, row in enumerate(rows(n_rows)) if i in wanted]
        rng.shuffle(sample)
        now = datetime.now(UTC)
        for label, limits in (
            ("lookup", None),
            ("lookup with rate-limit checks", RateLimits(per_user=10**9, overall_per_minute=10**9)),
        ):
            latencies = []
            found = 0
            for k, (number, name) in enumerate(sample):
                t = time.perf_counter()
                async with db.transaction() as session:
                    result = await lookup(session, number, name if k % 2 == 0 else "无此人", f"u{k % 500}", now, limits)
                latencies.append((time.perf_counter() - t) * 1000)
                found += result.found
            print(
                f"{label}: {len(latencies)} lookups, {found} found; "
                f"p50 {pct(latencies, 0.5):.2f} ms, p99 {pct(latencies, 0.99):.2f} ms"
            )
        await db.dispose()
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.lookups))
