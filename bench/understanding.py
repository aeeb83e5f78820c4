"""Free-text understanding on question sets, in one run: first-message capability, eligibility
decided from one message (or the one missing fact asked), filing routes.

Each message is the first message of a new user, sent through the engine in this process
(the same path `skillbot chat --script` takes, without a process per case).

Usage: python bench/understanding.py [--intents F] [--eligibility F] [--routes F] [--misses]
Set formats: see ../shared/eval/README.md; eligibility labels may be true, false or null
(null: the competition is outside the rules' region, or a deciding fact is missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load(path: Path | None) -> list[dict]:  # type: ignore[type-arg]
    if path is None:
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def run(args: argparse.Namespace) -> None:
    from knowledge.base import KnowledgeBase
    from tests.conftest import build_engine, bundled_passages, msg

    engine = await build_engine(Path(tempfile.mkdtemp()) / "u.db", KnowledgeBase(bundled_passages()))
    user = 10_000

    async def first(text: str):  # type: ignore[no-untyped-def]
        nonlocal user
        user += 1
        return await engine.handle(msg(text, user=user))

    if args.intents:
        items = load(args.intents)
        ok = 0
        for it in items:
            replies = await first(it["text"])
            got = replies[0].payload.get("intent") if replies else None
            ok += got == it["intent"]
            if got != it["intent"] and args.misses:
                print("MISS intent", it["id"], it["text"], "| want", it["intent"], "| got", got)
        print(
            json.dumps(
                {"set": str(args.intents), "intents": len(items), "right": ok, "rate": round(ok / len(items), 3)}
            )
        )
    if args.eligibility:
        items = load(args.eligibility)
        right = asked = wrong = 0
        for it in items:
            replies = await first(it["q"])
            verdicts = [
                r.payload for r in replies if r.payload.get("intent") == "eligibility" and "eligible" in r.payload
            ]
            got = verdicts[-1]["eligible"] if verdicts else "absent"
            want = it["eligible"]
            if got == want:
                right += 1
            elif got is None and want is not None and verdicts and verdicts[-1].get("asking"):
                asked += 1  # one missing fact asked, not a wrong verdict
            else:
                wrong += 1
                if args.misses:
                    print(
                        "MISS elig",
                        it["id"],
                        it["q"],
                        "| want",
                        want,
                        "| got",
                        got,
                        "|",
                        replies[0].text[:80].replace("\n", " "),
                    )
        n = len(items)
        print(json.dumps({"set": str(args.eligibility), "cases": n, "right": right, "asked_instead": asked,
                          "wrong_or_misrouted": wrong, "rate_with_asks": round((right + asked) / n, 3),
                          "rate": round(right / n, 3)}))  # fmt: skip
        # "rate" is score_chat.py's (the verdict as labelled); "rate_with_asks" also counts
        # a fact asked where the writer meant it stated.
    if args.routes:
        items = load(args.routes)
        ok = 0
        for it in items:
            text = "\n".join(r.text for r in await first(it["q"]))
            hit = any(e in text for e in it["expect_any"])
            ok += hit
            if not hit and args.misses:
                print("MISS route", it["id"], it["q"], "| want", it["expect_any"], "|", text[:100].replace("\n", " "))
        print(
            json.dumps({"set": str(args.routes), "routes": len(items), "right": ok, "rate": round(ok / len(items), 3)})
        )
    await engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("intents", "eligibility", "routes"):
        parser.add_argument(f"--{name}", type=Path)
    parser.add_argument("--misses", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
