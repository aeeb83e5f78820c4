"""Question banks: the questions each clause answers (标准问/相似问), phrased as people type them,
and the neighbouring questions no notice answers, grouped by topic with the referral a person
needs. Both are data (TOML beside the notices), validated against the clauses at start-up."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.retrieval import Passage
from knowledge.sources import SourceError, SourceRef, resolve

BANK_DIR = Path(__file__).parent / "data" / "bank"
OUT_OF_SCOPE_FILE = "out_of_scope.toml"
STYLES = ("formal", "colloquial", "dialect", "keyword", "typo", "english_mixed", "short", "added")


class BankError(SourceError):
    """A bank file is malformed or points at a clause the knowledge base lacks."""


@dataclass(frozen=True)
class BankQuestion:
    q: str
    doc: str
    clause: str
    evidence: str = ""
    style: str = "added"
    by: str = ""  # who wrote it: a writer's tag, "outside", or "operator"

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.doc, self.clause, self.evidence)


@dataclass(frozen=True)
class OosQuestion:
    q: str
    topic: str
    style: str = "added"
    by: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    referral: str


@dataclass
class QuestionBank:
    answerable: list[BankQuestion] = field(default_factory=list)
    out_of_scope: list[OosQuestion] = field(default_factory=list)
    topics: dict[str, Topic] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = BANK_DIR) -> QuestionBank:
        bank = cls()
        if not directory.is_dir():
            return bank
        for path in sorted(directory.glob("*.toml")):
            data = _read(path)
            if path.name == OUT_OF_SCOPE_FILE:
                bank._add_topics(data, path.name)
            else:
                bank._add_clauses(data, path.name)
        return bank

    def extended(self, answerable: Iterable[BankQuestion], out_of_scope: Iterable[OosQuestion]) -> QuestionBank:
        """This bank plus questions added later (by operators, kept in the store)."""
        extra = list(out_of_scope)
        for q in extra:
            if q.topic not in self.topics:
                raise BankError(f"问题库：未知的范围外主题 {q.topic}（{q.q}）")
        return QuestionBank([*self.answerable, *answerable], [*self.out_of_scope, *extra], dict(self.topics))

    def resolve(self, passages: Sequence[Passage]) -> list[tuple[BankQuestion, Passage]]:
        """Each answerable question with the passage it points to; BankError names the first
        question whose clause or evidence the notices do not have."""
        out = []
        for q in self.answerable:
            try:
                out.append((q, resolve(q.ref, passages, "问题库")))
            except SourceError as exc:
                raise BankError(f"{exc}（问题：{q.q}）") from exc
        return out

    def _add_clauses(self, data: dict, where: str) -> None:
        doc = data.get("doc")
        if not isinstance(doc, str) or not isinstance(data.get("clause"), list):
            raise BankError(f'{where}: 需要 doc = "文号" 和若干 [[clause]]')
        for group in data["clause"]:
            path = group.get("path") if isinstance(group, dict) else None
            questions = group.get("questions") if isinstance(group, dict) else None
            if not isinstance(path, str) or not isinstance(questions, list):
                raise BankError(f"{where}: 每个 [[clause]] 需要 path 和 questions")
            for item in questions:
                q = _question_text(item, where)
                evidence, by = str(item.get("evidence", "")), str(item.get("by", ""))
                self.answerable.append(BankQuestion(q, doc, path, evidence, _style(item, where), by))

    def _add_topics(self, data: dict, where: str) -> None:
        for group in data.get("topic", []):
            try:
                topic = Topic(str(group["id"]), str(group["name"]), str(group["referral"]))
            except (KeyError, TypeError) as exc:
                raise BankError(f"{where}: 每个 [[topic]] 需要 id、name、referral") from exc
            self.topics[topic.id] = topic
            for item in group.get("questions", []):
                self.out_of_scope.append(
                    OosQuestion(_question_text(item, where), topic.id, _style(item, where), str(item.get("by", "")))
                )


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BankError(f"{path.name}: 不是有效的 TOML：{exc}") from exc


def _question_text(item: object, where: str) -> str:
    q = item.get("q") if isinstance(item, dict) else None
    if not isinstance(q, str) or not q.strip():
        raise BankError(f"{where}: 每个问题需要非空的 q")
    return q.strip()


def _style(item: dict, where: str) -> str:
    style = str(item.get("style", "added"))
    if style not in STYLES:
        raise BankError(f"{where}: 未知的问法风格 {style}（可用：{'、'.join(STYLES)}）")
    return style


# --- writing the files back (export) ------------------------------------------------------


def _inline(item: dict[str, str]) -> str:
    # JSON string escapes are valid TOML basic strings; one question per line keeps diffs readable.
    return "{ " + ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in item.items() if v) + " }"


def clauses_toml(doc: str, questions: Iterable[BankQuestion]) -> str:
    by_clause: dict[str, list[BankQuestion]] = {}
    for q in questions:
        by_clause.setdefault(q.clause, []).append(q)
    lines = [f"doc = {json.dumps(doc, ensure_ascii=False)}", ""]
    for path, qs in by_clause.items():
        lines += ["[[clause]]", f"path = {json.dumps(path, ensure_ascii=False)}", "questions = ["]
        lines += ["  " + _inline({"q": q.q, "style": q.style, "by": q.by, "evidence": q.evidence}) + "," for q in qs]
        lines += ["]", ""]
    return "\n".join(lines)


def topics_toml(topics: Iterable[Topic], questions: Iterable[OosQuestion]) -> str:
    by_topic: dict[str, list[OosQuestion]] = {}
    for q in questions:
        by_topic.setdefault(q.topic, []).append(q)
    lines = []
    for t in topics:
        lines += ["[[topic]]", f"id = {json.dumps(t.id)}", f"name = {json.dumps(t.name, ensure_ascii=False)}"]
        lines += [f"referral = {json.dumps(t.referral, ensure_ascii=False)}", "questions = ["]
        lines += ["  " + _inline({"q": q.q, "style": q.style, "by": q.by}) + "," for q in by_topic.get(t.id, [])]
        lines += ["]", ""]
    return "\n".join(lines)


def from_eval_item(item: dict, passages: Sequence[Passage], by: str) -> BankQuestion | OosQuestion:
    """A line of an evaluation-format file (q, kind, doc, evidence, style) as a bank question:
    the clause is the one whose text holds the evidence. Out-of-scope lines go to `other`
    unless they carry a topic."""
    q = _question_text(item, by)
    style = str(item.get("style", "added"))
    style = style if style in STYLES else "added"
    if item.get("kind") == "out_of_scope" or item.get("topic"):
        return OosQuestion(q, str(item.get("topic") or "other"), style, by)
    doc = str(item.get("doc"))
    for evidence in item.get("evidence") or []:
        for p in passages:
            if p.doc_no == doc and resolve_quote(evidence, p):
                return BankQuestion(q, doc, p.path, evidence, style, by)
    raise BankError(f"{by}: 在 {doc} 中找不到依据原文：{q}")


def resolve_quote(quote: str, passage: Passage) -> bool:
    try:
        resolve(SourceRef(passage.doc_no, passage.path, quote), [passage], "")
    except SourceError:
        return False
    return True
