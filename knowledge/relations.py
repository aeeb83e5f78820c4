"""What the notices say about each other: which one forwards, repeals or overrides which.

Read from the clause texts only ("……（苏人社办函〔2021〕26号）同时废止", "现将……（人社厅发〔2020〕
104号）转发给你们", "与本通知不一致的，以本通知为准"), so a notice is marked superseded only
where the knowledge says so. Pure: no database, no web."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.notices import canonical_doc_no
from knowledge.retrieval import Passage

_DOC_NO = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(（【［]\s*(?:19|20)\d{2}\s*[〕\])）】］]\s*第?\d{1,4}\s*号")
_SENTENCE = re.compile(r"[^。；\n]+[。；]?")
_REPEALS = re.compile(r"废止|停止执行|不再执行|同时失效|予以废止")
_FORWARDS = re.compile(r"转发")
_PREVAILS = re.compile(r"不一致的?[，,]?\s*以本(通知|意见|办法|规定|方案|细则)为准")


@dataclass(frozen=True)
class Relation:
    kind: str  # repealed_by | repeals | forwarded_by | forwards | yields_to | prevails_over | cited_by | cites
    other: str  # the other notice's 文号
    where: Passage  # the clause that says so (in whichever of the two notices says it)

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def warns(self) -> bool:
        """Whether a reader of this notice must be told before relying on it."""
        return self.kind in ("repealed_by", "yields_to")


LABELS = {
    "repealed_by": "已被废止",
    "repeals": "废止了",
    "forwarded_by": "被转发",
    "forwards": "转发了",
    "yields_to": "如有不一致，以较新的文件为准",
    "prevails_over": "与较早文件不一致时以本文件为准",
    "cited_by": "被引用",
    "cites": "引用了",
}
_INVERSE = {
    "repeals": "repealed_by",
    "forwards": "forwarded_by",
    "prevails_over": "yields_to",
    "cites": "cited_by",
}


def doc_numbers_in(text: str) -> list[str]:
    return [canonical_doc_no(m.group(0)) for m in _DOC_NO.finditer(text)]


def relations(passages: Iterable[Passage]) -> dict[str, list[Relation]]:
    """For each 文号, what the notices in `passages` say about it, both directions."""
    passages = list(passages)
    notices = {p.doc_no: p for p in passages}
    out: dict[str, list[Relation]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()

    def add(kind: str, source: str, target: str, where: Passage) -> None:
        if source == target or (source, kind, target) in seen:
            return
        seen.add((source, kind, target))
        out[source].append(Relation(kind, target, where))
        out[target].append(Relation(_INVERSE[kind], source, where))

    for p in passages:
        for sentence in _SENTENCE.findall(p.text):
            for mention in doc_numbers_in(sentence):
                # The pattern may take in words before the 文号 ("根据苏人社办函〔2022〕54号").
                other = next((d for d in notices if mention.endswith(d)), None)
                if other is None:
                    continue
                if _REPEALS.search(sentence):
                    add("repeals", p.doc_no, other, p)
                elif _FORWARDS.search(sentence):
                    add("forwards", p.doc_no, other, p)
                else:
                    add("cites", p.doc_no, other, p)
        if _PREVAILS.search(p.text):
            for older in notices.values():
                if older.region == p.region and older.date < p.date:
                    add("prevails_over", p.doc_no, older.doc_no, p)
    # A notice that repeals or forwards another needs no "cites" beside it.
    for doc_no, rels in out.items():
        strong = {r.other for r in rels if r.kind not in ("cites", "cited_by")}
        out[doc_no] = [r for r in rels if r.kind not in ("cites", "cited_by") or r.other not in strong]
    return dict(out)
