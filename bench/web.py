"""Search-as-you-type on the web console: requests per second and latency with 50 concurrent
clients against a local `skillbot web` on 127.0.0.1 (its own SQLite file; nothing else is
contacted). Each client types bank questions the way the search box sends them — the growing
prefix every couple of characters — for a bounded number of requests.

Server-side time is the console's own Server-Timing header (from the request reaching the
application to its response starting); client-side time adds the HTTP stack and queueing on
this machine, which the clients share with the server.

    .venv/bin/python bench/web.py [--clients 50] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.base import bundled_bank  # noqa: E402
from tests.postgres import free_port  # noqa: E402
from tests.web.helpers import PASSWORDS, add_accounts, csrf_in  # noqa: E402

TARGET_P99_MS = 30.0
WARM_UP = 100
_DUR = re.compile(r"dur=([\d.]+)")


def typed_prefixes(limit: int) -> list[str]:
    """What search boxes send while people type bank questions: every second prefix."""
    out: list[str] = []
    for q in bundled_bank().answerable:
        text = q.q.strip()
        out += [text[:n] for n in range(2, len(text) + 1, 2)] + [text]
        if len(out) >= limit:
            break
    return out[:limit]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def signed_in(base: str, clients: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
    token = csrf_in((await client.get("/login")).text)
    form = {"csrf": token, "username": "boss", "password": PASSWORDS["boss"], "next": "/"}
    r = await client.post("/login", data=form)
    assert r.status_code == 303, r.text
    return client


async def run(base: str, clients: int, queries: list[str]) -> dict[str, object]:
    client = await signed_in(base, clients)
    pending = iter(enumerate(queries))
    server_ms: list[float] = []
    client_ms: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for i, q in pending:
            started = time.perf_counter()
            r = await client.get("/search", params={"q": q}, headers={"X-Requested-With": "fetch"})
            took = (time.perf_counter() - started) * 1000
            if r.status_code != 200 or 'data-query="' not in r.text:
                errors += 1
                continue
            if i >= WARM_UP:
                client_ms.append(took)
                server_ms.append(float(_DUR.search(r.headers["server-timing"]).group(1)))  # type: ignore[union-attr]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return {
        "requests": len(queries),
        "distinct": len(set(queries)),
        "errors": errors,
        "rps": len(queries) / elapsed,
        "server_p50": statistics.median(server_ms),
        "server_p99": percentile(server_ms, 99),
        "client_p50": statistics.median(client_ms),
        "client_p99": percentile(client_ms, 99),
    }


def start_server(directory: Path) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    add_accounts(url, {"boss": "admin"})
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "INDEX_DIR": str(ROOT / "var" / "index"), "LOG_LEVEL": "WARNING"}
    skillbot = Path(sys.executable).parent / "skillbot"
    command = [str(skillbot), "web", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("skillbot web did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    queries = typed_prefixes(args.requests + WARM_UP)
    with tempfile.TemporaryDirectory(prefix="skillbot-bench-web-") as tmp:
        process, base = start_server(Path(tmp))
        try:
            figures = asyncio.run(run(base, args.clients, queries))
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"search-as-you-type, {args.clients} clients, {figures['requests']} requests "
        f"({figures['distinct']} distinct, first {WARM_UP} not timed), errors {figures['errors']}\n"
        f"throughput {figures['rps']:.0f} requests/s\n"
        f"server-side (Server-Timing)  p50 {figures['server_p50']:.1f} ms  p99 {figures['server_p99']:.1f} ms  "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if figures['server_p99'] <= TARGET_P99_MS else 'NOT met'})\n"  # type: ignore[operator]
        f"client-side (incl. queueing) p50 {figures['client_p50']:.1f} ms  p99 {figures['client_p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
