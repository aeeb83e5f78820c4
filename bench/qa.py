"""Policy Q&A retrieval: our retriever against a plain baseline, side by side, in one run.

Baseline: bm25s over paragraph chunks of the raw notices, tokenised with default jieba,
with the score threshold tuned on the question set (the best any single threshold does).

Two corpora: the bundled notices, and a synthetic 1,000-notice corpus made from them
(the bundled ones plus copies with other document
numbers, regions and clause order). For each retriever and corpus, in a
fresh process: index build time, per-query p50/p99 latency, peak RSS; on the bundled
corpus also the question-set metrics (top-1, top-3, MRR, out-of-scope rejection, false
rejection).

Usage: python bench/qa.py [--eval SET.jsonl] [--notices 1000]
(e.g. --eval on a blind set written by an independent writer: ours and the baseline in one run)
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import re
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev_qa.jsonl"
FALLBACK_EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "heldout_qa.jsonl"
CHUNK_MAX = 600
CITIES = [
    "苏州",
    "无锡",
    "徐州",
    "常州",
    "南通",
    "扬州",
    "镇江",
    "泰州",
    "盐城",
    "淮安",
    "宿迁",
    "连云港",
    "济南",
    "烟台",
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def corpus(n_notices: int) -> list[tuple[Any, str]]:
    """The bundled notices, or n synthetic ones derived from them."""
    from knowledge.notices import load_manifest, split_attachment

    bundled = load_manifest()
    if n_notices <= len(bundled):
        return bundled
    rng = random.Random(42)
    # The bundled notices stay, so the question bank (which cites them) is in play at scale too.
    out = list(bundled)
    for i in range(n_notices - len(bundled)):
        meta, raw = bundled[i % len(bundled)]
        parts = split_attachment(raw) if "\n附件\n" in raw else (raw, raw)
        raw = parts[1] if meta.part == "attachment" else parts[0]
        city = rng.choice(CITIES)
        doc_no = f"{city}人社发〔{2015 + i % 10}〕{i + 100}号"
        paragraphs = raw.split("\n")
        head, body = paragraphs[:5], paragraphs[5:]
        blocks = _numbered_blocks(body)
        rng.shuffle(blocks)
        text = "\n".join(head + [line for block in blocks for line in block]).replace(meta.doc_no, doc_no)
        synthetic = replace(
            meta, doc_no=doc_no, region=f"江苏省{city}市", title=f"{city}{meta.title}", part="standalone"
        )
        out.append((synthetic, text))
    return out


def _numbered_blocks(lines: list[str]) -> list[list[str]]:
    """Top-level numbered sections (一、二、…) as blocks, so shuffling keeps each intact."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if re.match(r"^[一二三四五六七八九十]+、", line.strip()):
            blocks.append([])
        blocks[-1].append(line)
    return [b for b in blocks if b]


# -- the two retrievers -----------------------------------------------------------------


def build_ours(notices: list[tuple[Any, str]]):  # type: ignore[no-untyped-def]
    from knowledge.base import KnowledgeBase, passages_of

    passages = passages_of(notices)
    kb = KnowledgeBase(passages)

    def answer(question: str) -> tuple[bool, list[str], float]:
        result = kb.search(question, k=5, remember=False)  # each pass times the search, not the memo
        top = result.hits[0].score if result.hits else 0.0
        return result.answered, [h.passage.text for h in result.hits], top

    return answer


def build_baseline(notices: list[tuple[Any, str]]):  # type: ignore[no-untyped-def]
    import bm25s
    import jieba

    jieba.setLogLevel(60)
    chunks: list[str] = []
    for _, raw in notices:
        for paragraph in re.split(r"\n\s*\n|\n(?=[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)", raw):
            paragraph = paragraph.strip()
            for start in range(0, len(paragraph), CHUNK_MAX):
                if paragraph[start : start + CHUNK_MAX].strip():
                    chunks.append(paragraph[start : start + CHUNK_MAX])

    def tokens(text: str) -> list[str]:
        return [t for t in jieba.lcut(text) if t.strip()]

    retriever = bm25s.BM25()
    retriever.index([tokens(c) for c in chunks], show_progress=False)

    def answer(question: str) -> tuple[bool, list[str], float]:
        docs, scores = retriever.retrieve([tokens(question)], k=5, show_progress=False)
        hits = [chunks[int(i)] for i in docs[0]]
        return True, hits, float(scores[0][0])

    return answer


# -- one measurement, in a process of its own so its RSS is its own --------------------


def measure(kind: str, n_notices: int, eval_path: str) -> dict[str, Any]:
    from knowledge.evaluation import evaluate, load_items

    notices = corpus(n_notices)
    started = time.perf_counter()
    answer = (build_ours if kind == "ours" else build_baseline)(notices)
    build_s = time.perf_counter() - started
    items = load_items(Path(eval_path))
    answer(items[0].question)  # warm-up (jieba's lazy dictionary load is not a query cost)
    latencies = []
    results: dict[str, tuple[bool, list[str], float]] = {}
    for _ in range(3):
        for item in items:
            t = time.perf_counter()
            results[item.question] = answer(item.question)
            latencies.append((time.perf_counter() - t) * 1000)
    figures: dict[str, Any] = {
        "build_s": build_s,
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if n_notices <= 6:
        ours = kind == "ours"
        report = evaluate(items, lambda q: results[q][:2]) if ours else _best_threshold(items, results)
        figures.update(report.metrics())
    return figures


def _best_threshold(items, results):  # type: ignore[no-untyped-def]
    """The baseline's answer-or-reject threshold, tuned on the question set itself."""
    from knowledge.evaluation import evaluate

    best = None
    for threshold in sorted({r[2] for r in results.values()} | {0.0}):
        report = evaluate(items, lambda q, t=threshold: (results[q][2] >= t, results[q][1]))
        m = report.metrics()
        score = m["top1"] * (1 - m["false_rejection"]) + m["out_of_scope_rejected"]
        if best is None or score > best[0]:
            best = (score, report)
    return best[1]  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL if DEFAULT_EVAL.exists() else FALLBACK_EVAL)
    parser.add_argument("--notices", type=int, default=1000)
    args = parser.parse_args()
    print(f"questions: {args.eval}")
    context = multiprocessing.get_context("spawn")
    rows = []
    for n in (6, args.notices):
        for kind in ("ours", "baseline"):
            with context.Pool(1) as pool:
                figures = pool.apply(measure, (kind, n, str(args.eval)))
            rows.append((kind, "bundled" if n <= 6 else f"{n} notices", figures))
    print(f"{'retriever':<9} {'corpus':<13} {'build s':>8} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7}  metrics")
    for kind, name, f in rows:
        metrics = ""
        if "top1" in f:
            metrics = (
                f"top1 {f['top1']:.2f} top3 {f['top3']:.2f} MRR {f['mrr']:.2f} "
                f"OOS-rejected {f['out_of_scope_rejected']:.2f} false-rejection {f['false_rejection']:.2f}"
            )
        timing = f"{f['build_s']:>8.2f} {f['p50_ms']:>7.2f} {f['p99_ms']:>7.2f} {f['rss_mb']:>7.0f}"
        print(f"{kind:<9} {name:<13} {timing}  {metrics}")


if __name__ == "__main__":
    main()
