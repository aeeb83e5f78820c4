"""Scores a retriever on a question set in the development-set format (JSON lines with
q, kind, doc, evidence, style), by the rule of its README: NFKC, whitespace removed, a hit
counts if a returned passage of at most 600 characters contains an evidence phrase."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class EvalItem:
    id: str
    question: str
    kind: str
    doc: str | None
    evidence: list[str]
    style: str


@dataclass
class EvalReport:
    n_answerable: int = 0
    n_out_of_scope: int = 0
    hits_at: dict[int, int] = field(default_factory=lambda: {1: 0, 3: 0, 5: 0})
    reciprocal_rank: float = 0.0
    rejected_out_of_scope: int = 0
    false_rejections: int = 0
    by_style: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_doc: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    failures: list[dict[str, Any]] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        a = max(self.n_answerable, 1)
        o = max(self.n_out_of_scope, 1)
        return {
            "top1": self.hits_at[1] / a,
            "top3": self.hits_at[3] / a,
            "top5": self.hits_at[5] / a,
            "mrr": self.reciprocal_rank / a,
            "out_of_scope_rejected": self.rejected_out_of_scope / o,
            "false_rejection": self.false_rejections / a,
        }


def load_items(path: Path) -> list[EvalItem]:
    items = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        items.append(EvalItem(d["id"], d["q"], d["kind"], d.get("doc"), d.get("evidence", []), d.get("style", "")))
    return items


def evaluate(items: Iterable[EvalItem], answer: Callable[[str], tuple[bool, list[str]]]) -> EvalReport:
    """`answer(question)` returns (answered, passages in rank order)."""
    report = EvalReport()
    for item in items:
        answered, passages = answer(item.question)
        if item.kind != "answerable":
            report.n_out_of_scope += 1
            ok = not answered
            report.rejected_out_of_scope += ok
            if not ok:
                report.failures.append({"id": item.id, "q": item.question, "why": "answered out-of-scope"})
            _tally(report, item, ok)
            continue
        report.n_answerable += 1
        shown = passages if answered else []
        report.false_rejections += not answered
        evidence = [norm(e) for e in item.evidence]
        rank = next(
            (i + 1 for i, p in enumerate(shown) if len(norm(p)) <= 600 and any(e in norm(p) for e in evidence)),
            None,
        )
        for k in report.hits_at:
            report.hits_at[k] += rank is not None and rank <= k
        report.reciprocal_rank += 1 / rank if rank else 0.0
        if rank != 1:
            why = "rejected" if not answered else f"rank {rank}"
            report.failures.append({"id": item.id, "q": item.question, "why": why})
        _tally(report, item, rank == 1)
    return report


def _tally(report: EvalReport, item: EvalItem, ok: bool) -> None:
    for table, key in ((report.by_style, item.style), (report.by_doc, item.doc or "out_of_scope")):
        table[key][0] += ok
        table[key][1] += 1
