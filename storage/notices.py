"""Notices and their clauses in the shared store: seeding the bundled ones, adding and
re-parsing, and reading them back as passages for the retriever."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.notices import BUNDLED_DIR, NoticeError, NoticeMeta, load_manifest, parse_notice
from knowledge.retrieval import Passage
from storage.models import Clause, Notice


@dataclass(frozen=True)
class NoticeSummary:
    doc_no: str
    title: str
    region: str
    date: str
    clauses: int
    bundled: bool


async def seed_bundled(session: AsyncSession) -> int:
    """Add any bundled notice the store does not have yet; returns how many were added."""
    have = set((await session.scalars(select(Notice.doc_no))).all())
    added = 0
    for meta, raw in load_manifest(BUNDLED_DIR):
        if meta.doc_no not in have:
            await _insert(session, meta, raw, bundled=True)
            added += 1
    return added


async def add_notice(session: AsyncSession, meta: NoticeMeta, raw: str) -> int:
    """Parse and store one notice; raises NoticeError (and writes nothing) if it cannot."""
    if not raw.strip():
        raise NoticeError("文件是空的")
    existing = await session.scalar(select(Notice.id).where(Notice.doc_no == meta.doc_no))
    if existing is not None:
        raise NoticeError(f"文号 {meta.doc_no} 已在知识库中；如需更新请先删除或使用 reindex")
    return await _insert(session, meta, raw, bundled=False)


async def _insert(session: AsyncSession, meta: NoticeMeta, raw: str, *, bundled: bool) -> int:
    clauses = parse_notice(raw, meta)  # parse first: a failure leaves nothing behind
    notice = Notice(
        doc_no=meta.doc_no,
        title=meta.title,
        issuer=meta.issuer,
        region=meta.region,
        date=meta.date,
        effective=meta.effective,
        source=meta.source if meta.part == "main" else f"{meta.source}#{meta.part}",
        raw_text=raw,
        bundled=bundled,
    )
    session.add(notice)
    await session.flush()
    session.add_all(Clause(notice_id=notice.id, seq=c.seq, path=c.path, kind=c.kind, text=c.text) for c in clauses)
    await session.flush()
    return len(clauses)


async def reindex(session: AsyncSession) -> int:
    """Re-parse every stored notice from its raw text; all or nothing."""
    notices = (await session.scalars(select(Notice))).all()
    total = 0
    for notice in notices:
        meta = _meta_of(notice)
        clauses = parse_notice(notice.raw_text, meta)
        await session.execute(delete(Clause).where(Clause.notice_id == notice.id))
        session.add_all(Clause(notice_id=notice.id, seq=c.seq, path=c.path, kind=c.kind, text=c.text) for c in clauses)
        total += len(clauses)
    await session.flush()
    return total


def _meta_of(notice: Notice) -> NoticeMeta:
    source, _, part = notice.source.partition("#")
    return NoticeMeta(
        doc_no=notice.doc_no,
        title=notice.title,
        issuer=notice.issuer,
        region=notice.region,
        date=notice.date,
        effective=notice.effective,
        source=source,
        part=part or "main",
    )


async def list_notices(session: AsyncSession) -> list[NoticeSummary]:
    rows = await session.execute(
        select(Notice, func.count(Clause.id))
        .outerjoin(Clause, Clause.notice_id == Notice.id)
        .group_by(Notice.id)
        .order_by(Notice.id)
    )
    return [NoticeSummary(n.doc_no, n.title, n.region, n.date, count, n.bundled) for n, count in rows.all()]


async def load_passages(session: AsyncSession) -> list[Passage]:
    """Each notice's card once, then its clauses: never the raw text, which a join would
    repeat on every clause row (a 10 MB notice times two thousand clauses)."""
    cards = {
        row.id: row
        for row in await session.execute(
            select(Notice.id, Notice.doc_no, Notice.title, Notice.issuer, Notice.region, Notice.date)
        )
    }
    clauses = await session.execute(
        select(Clause.id, Clause.notice_id, Clause.path, Clause.kind, Clause.text).order_by(
            Clause.notice_id, Clause.seq
        )
    )
    out = []
    for c in clauses:
        n = cards[c.notice_id]
        out.append(Passage(c.id, n.doc_no, n.title, n.issuer, n.region, n.date, c.path, c.kind, c.text))
    return out


__all__ = ["NoticeError", "NoticeSummary", "add_notice", "list_notices", "load_passages", "reindex", "seed_bundled"]
