"""The knowledge base as the console shows it (notices by stable address, clause anchors,
what the notices say about each other), and the holder that swaps in a fresh one after a
change made here or in another process."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote

from bot.reloading import Reloader
from bot.services import Services
from knowledge.base import KnowledgeBase
from knowledge.notices import canonical_doc_no
from knowledge.relations import Relation, relations
from knowledge.retrieval import Passage
from storage.db import Database

log = logging.getLogger(__name__)
_SPACE = re.compile(r"\s+")


def doc_slug(doc_no: str) -> str:
    """苏人社办函〔2022〕54号 → 苏人社办函-2022-54: the same for every spelling of the 文号."""
    slug = canonical_doc_no(doc_no)
    for a, b in (("〔", "-"), ("〕", "-"), ("号", ""), ("/", "-")):
        slug = slug.replace(a, b)
    return slug


def clause_anchor(path: str) -> str:
    """The clause path itself ("二、规范办赛行为"): it survives a reindex, which clause ids do not."""
    return _SPACE.sub("_", path.strip()) or "clause"


@dataclass
class Notice:
    doc_no: str
    title: str
    issuer: str
    region: str
    date: str
    clauses: list[tuple[str, Passage]] = field(default_factory=list)  # (anchor, passage)

    @property
    def slug(self) -> str:
        return doc_slug(self.doc_no)

    @property
    def url(self) -> str:
        return f"/notices/{quote(self.slug)}"


class Library:
    """Built once per knowledge base; every page reads from it without the database."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.notices: dict[str, Notice] = {}
        self._anchors: dict[int, str] = {}
        for p in services.knowledge.passages.values():
            notice = self.notices.get(p.doc_no)
            if notice is None:
                notice = self.notices[p.doc_no] = Notice(p.doc_no, p.title, p.issuer, p.region, p.date)
            anchor = clause_anchor(p.path)
            taken = {a for a, _ in notice.clauses}
            n = 2
            unique = anchor
            while unique in taken:  # a long clause split in windows shares its path
                unique, n = f"{anchor}~{n}", n + 1
            notice.clauses.append((unique, p))
            self._anchors[p.id] = unique
        self.by_slug = {n.slug: n for n in self.notices.values()}

    @property
    def kb(self) -> KnowledgeBase:
        return self.services.knowledge

    def link(self, p: Passage) -> str:
        return f"{self.notices[p.doc_no].url}#{quote(self._anchors.get(p.id, clause_anchor(p.path)))}"

    def find(self, slug_or_doc_no: str) -> Notice | None:
        return self.by_slug.get(slug_or_doc_no) or self.by_slug.get(doc_slug(slug_or_doc_no))

    def clause(self, doc_no: str, path: str) -> Passage | None:
        notice = self.notices.get(doc_no)
        return next((p for _, p in notice.clauses if p.path == path), None) if notice else None

    @cached_property
    def relations(self) -> dict[str, list[Relation]]:
        return relations(self.kb.passages.values())

    def warnings(self, doc_no: str) -> list[Relation]:
        return [r for r in self.relations.get(doc_no, []) if r.warns]

    @cached_property
    def regions(self) -> list[str]:
        """The regions the notices cover, country first, then by name."""
        names = {n.region for n in self.notices.values()}
        return sorted(names, key=lambda r: (r != "全国", len(r), r))

    def applies_in(self, region: str) -> set[str]:
        """The regions whose rules bind `region`: itself and its parents (全国 binds everyone)."""
        if not region:
            return set(self.regions)
        return {region, "全国", *self.kb.lexicon.ancestors(region)}


class KnowledgeHolder:
    """The console's current Services and Library. Changes made through the console are
    swapped in before the request that made them returns (`reload`); changes made by other
    processes (`skillbot notices add`, another console) are looked for every `check_s` seconds
    (`poke`, on each request)."""

    def __init__(self, db: Database, services: Services, check_s: float) -> None:
        self.library = Library(services)
        self._reloader = Reloader(db, lambda: self.library.services, self._swap, check_s)

    @property
    def services(self) -> Services:
        return self.library.services

    def _swap(self, fresh: Services) -> None:
        self.library = Library(fresh)

    def poke(self) -> None:
        self._reloader.poke()

    async def reload(self) -> bool:
        """Rebuilds from the store if it changed; True when a new knowledge base is in place."""
        return await self._reloader.reload()

    async def close(self) -> None:
        await self._reloader.close()
