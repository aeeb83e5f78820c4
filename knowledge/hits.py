"""A search result as the machine interface and the citation line give it: the
`skillbot ask --json` contract (extend, never rename) and "来源：文号 条款（发文机关，日期）"."""

from __future__ import annotations

from typing import Any

from knowledge.retrieval import Hit, Passage, SearchResult
from knowledge.sources import cited


def citation(p: Passage) -> str:
    return f"来源：{cited(f'{p.doc_no} {p.path}', p)}"


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit as the `skillbot ask --json` contract gives it."""
    p = hit.passage
    return {
        "doc_no": p.doc_no,
        "title": p.title,
        "region": p.region,
        "date": p.date,
        "clause": p.path,
        "text": p.text,
        "score": round(hit.score, 4),
    }


def result_json(result: SearchResult) -> dict[str, Any]:
    return {"answered": result.answered, "hits": [hit_json(h) for h in result.hits] if result.answered else []}
