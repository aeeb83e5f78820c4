"""References from rules and flows (data) to the clauses of the notices they come from."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: knowledge.spelling's errors are SourceErrors, and retrieval uses spelling
    from knowledge.retrieval import Passage

_SPACE = re.compile(r"\s+")
_LAYOUT = re.compile(r"[\s|<>]+")


class SourceError(ValueError):
    """A rule or flow cites a clause the knowledge base does not have."""


@dataclass(frozen=True)
class SourceRef:
    doc: str
    clause: str
    quote: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any], where: str) -> SourceRef:
        try:
            return cls(str(data["doc"]), str(data["clause"]), str(data.get("quote", "")))
        except (KeyError, TypeError) as exc:
            raise SourceError(f"{where}: source 需要 doc 和 clause") from exc

    @property
    def label(self) -> str:
        """How payloads name it: "苏人社办函〔2022〕54号 一、规范资格审核"."""
        return f"{self.doc} {self.clause}"


def resolve(ref: SourceRef, passages: Iterable[Passage], where: str) -> Passage:
    """The passage a reference points to; fails loudly if the clause or quote is not there."""
    candidates = [p for p in passages if p.doc_no == ref.doc and p.path.startswith(ref.clause)]
    if not candidates:
        raise SourceError(f"{where}: 引用的条款不存在：{ref.label}")
    if ref.quote:
        quote = squeeze(ref.quote)
        for p in candidates:
            if quote in squeeze(p.text):
                return p
        raise SourceError(f"{where}: 条款 {ref.label} 中没有这句原文：{ref.quote}")
    return candidates[0]


def squeeze(text: str) -> str:
    """Quotes compare after NFKC and without white space or layout marks: a page break may
    split a sentence, a table cell becomes " | ", an autolink loses its angle brackets."""
    return _LAYOUT.sub("", unicodedata.normalize("NFKC", text))


def short_issuer(issuer: str) -> str:
    return issuer.replace("人力资源和社会保障", "人社").replace("人力资源社会保障", "人社")


def cited(label: str, passage: Passage) -> str:
    """A label with its issuer and date: 苏人社办函〔2022〕54号 一、规范资格审核（江苏省人社厅办公室，2022-04-08）."""
    return f"{label}（{short_issuer(passage.issuer)}，{passage.date}）"


def source_line(ref: SourceRef, passage: Passage) -> str:
    return f"来源：{cited(ref.label, passage)}"
