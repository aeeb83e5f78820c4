"""Filing checklists as data: one TOML file per flow under knowledge/data/flows/.

A flow is a graph of steps. Kinds:
  choice     one of several options (buttons, or typed words), each may say something and jump
  check      a yes/no condition; "no" records what must be put in place first
  checklist  items to tick (materials); unticked ones are recorded as missing
  info       what to do, item by item, each with its own source
  percent    a number 0–100 read into bands; upper bounds are inclusive ("10%之内" has 10)
  decide     no question: the first rule whose `when` matches the answers so far applies
  end        the end; the checklist is built from the path taken

Every step and item cites a clause of a notice; `validate` resolves them all, so a flow
pointing at a missing step or a clause the notices lack fails loudly at start-up.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from knowledge.extract import digits
from knowledge.retrieval import Passage
from knowledge.sources import SourceError, SourceRef, resolve

FLOWS_DIR = Path(__file__).parent / "data" / "flows"
KINDS = ("choice", "check", "checklist", "info", "percent", "decide", "end")
_ID = re.compile(r"^[a-z0-9_]{1,12}$")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s*(%|％)?")


class FlowError(SourceError):
    """A flow file that cannot be used: bad TOML, a dangling step, a missing clause."""


@dataclass(frozen=True)
class Item:
    text: str
    source: SourceRef | None = None


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    words: tuple[str, ...] = ()
    say: str = ""
    next: str | None = None
    source: SourceRef | None = None


@dataclass(frozen=True)
class Band:
    max: float
    say: str
    next: str | None = None
    source: SourceRef | None = None


@dataclass(frozen=True)
class Rule:
    when: Mapping[str, tuple[str, ...]]
    say: str
    next: str | None = None
    # "closed": the combination is not open to the user; the flow ends here.
    outcome: str = "ok"
    source: SourceRef | None = None

    def matches(self, answers: Mapping[str, Any]) -> bool:
        return all(str(answers.get(key)) in values for key, values in self.when.items())


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    item: str
    ask: str = ""
    source: SourceRef | None = None
    next: str | None = None
    skippable: bool = False
    # Whether the user's first message may answer this step (see handlers.filing._told).
    from_text: bool = True
    if_no: str = ""
    options: tuple[Option, ...] = ()
    items: tuple[Item, ...] = ()
    bands: tuple[Band, ...] = ()
    rules: tuple[Rule, ...] = ()

    def successors(self) -> list[str]:
        targets = [self.next] + [o.next for o in self.options] + [b.next for b in self.bands]
        targets += [r.next for r in self.rules if r.outcome != "closed"]
        return sorted({t for t in targets if t})

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def band_for(self, value: float) -> Band:
        return next(b for b in self.bands if value <= b.max)

    def rule_for(self, answers: Mapping[str, Any]) -> Rule | None:
        return next((r for r in self.rules if r.matches(answers)), None)


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    region: str
    summary: str
    start: str
    steps: Mapping[str, Step]
    triggers: tuple[str, ...] = ()
    # The place users name for the flow's region ("南京"), for routing free text.
    place: str = ""
    contact: Item | None = None
    path: Path | None = None

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def next_of(self, step: Step, answer: Any, answers: Mapping[str, Any]) -> str | None:
        """Where the flow goes after `answer` to `step`; None ends it."""
        if step.kind == "choice":
            option = step.option(str(answer))
            return (option.next if option and option.next else None) or step.next
        if step.kind == "percent" and isinstance(answer, (int, float)):
            return step.band_for(float(answer)).next or step.next
        if step.kind == "decide":
            rule = step.rule_for(answers)
            if rule is None or rule.outcome == "closed":
                return None
            return rule.next or step.next
        return step.next

    @cached_property
    def _longest(self) -> dict[str, int]:
        memo: dict[str, int] = {}

        def walk(step_id: str) -> int:
            if step_id not in memo:
                step = self.steps[step_id]
                shown = 0 if step.kind in ("decide", "end") else 1
                memo[step_id] = shown + max((walk(s) for s in step.successors()), default=0)
            return memo[step_id]

        for step_id in self.steps:
            walk(step_id)
        return memo

    def remaining(self, step_id: str) -> int:
        """Questions left from here on the longest route, this one included."""
        return self._longest[step_id]

    def sources(self) -> list[tuple[str, SourceRef]]:
        out: list[tuple[str, SourceRef]] = []
        for step in self.steps.values():
            refs = [step.source, *(o.source for o in step.options), *(i.source for i in step.items)]
            refs += [b.source for b in step.bands] + [r.source for r in step.rules]
            out += [(f"{self.id}.{step.id}", ref) for ref in refs if ref is not None]
        if self.contact and self.contact.source:
            out.append((f"{self.id}.contact", self.contact.source))
        return out


def parse_percent(text: str) -> float | None:
    """35, 35%, ３５％, 百分之三十五 → 35.0; None if no number is there."""
    m = _PERCENT.search(digits(text))
    return float(m.group(1)) if m else None


@dataclass(frozen=True)
class Line:
    """One line of the final checklist."""

    status: str  # done | missing | todo | info | contact | closed
    text: str
    source: SourceRef | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "text": self.text, "source": self.source.label if self.source else None}


def checklist(flow: Flow, history: list[str], answers: Mapping[str, Any]) -> list[Line]:
    """The checklist for the path taken: what is done, missing, to do next, whom to contact."""
    lines: list[Line] = []
    for step_id in history:
        step = flow.steps[step_id]
        lines += step_lines(step, answers.get(step_id), answers)
    if flow.contact is not None:
        lines.append(Line("contact", flow.contact.text, flow.contact.source))
    return lines


def step_lines(step: Step, answer: Any, answers: Mapping[str, Any]) -> list[Line]:
    src = step.source
    if answer == "skip":
        return [Line("missing", f"{step.item}（已跳过，待补充）", src)]
    if step.kind == "choice":
        option = step.option(str(answer))
        if option is None:
            return []
        out = [Line("info", f"{step.item}：{option.label}", src)]
        return out + ([Line("todo", option.say, option.source or src)] if option.say else [])
    if step.kind == "check":
        if answer == "yes":
            return [Line("done", step.item, src)]
        return [Line("missing", f"{step.item}——{step.if_no}" if step.if_no else step.item, src)]
    if step.kind == "checklist":
        ticked = set(answer or [])
        return [
            Line("done" if i in ticked else "missing", item.text, item.source or src)
            for i, item in enumerate(step.items)
        ]
    if step.kind == "info":
        return [Line("todo", item.text, item.source or src) for item in step.items]
    if step.kind == "percent" and isinstance(answer, (int, float)):
        band = step.band_for(float(answer))
        return [Line("info", f"{step.item}：{answer:g}%", src), Line("todo", band.say, band.source or src)]
    if step.kind == "decide":
        rule = step.rule_for(answers)
        if rule is None:
            return []
        return [Line("closed" if rule.outcome == "closed" else "todo", rule.say, rule.source or src)]
    return []


@dataclass
class FlowBook:
    flows: dict[str, Flow] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = FLOWS_DIR) -> FlowBook:
        book = cls()
        for path in sorted(directory.glob("*.toml")):
            flow = load_flow(path)
            if flow.id in book.flows:
                raise FlowError(f"{path.name}: 流程编号 {flow.id} 重复")
            book.flows[flow.id] = flow
        return book

    def validate(self, passages: Iterable[Passage]) -> dict[SourceRef, Passage]:
        pool = list(passages)
        resolved: dict[SourceRef, Passage] = {}
        for flow in self.flows.values():
            for where, ref in flow.sources():
                try:
                    resolved[ref] = resolve(ref, pool, where)
                except SourceError as exc:
                    raise FlowError(f"{flow.path.name if flow.path else flow.id}: {exc}") from exc
        return resolved


def load_flow(path: Path) -> Flow:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FlowError(f"{path.name}: 不是有效的 TOML：{exc}") from exc
    try:
        flow = _flow(data, path)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FlowError):
            raise
        raise FlowError(f"{path.name}: 缺少或错误的字段：{exc}") from exc
    _check_graph(flow)
    return flow


def _ref(data: Mapping[str, Any], where: str) -> SourceRef | None:
    return SourceRef.parse(data["source"], where) if "source" in data else None


def _flow(data: Mapping[str, Any], path: Path) -> Flow:
    flow_id = str(data["id"])
    if not _ID.match(flow_id):
        raise FlowError(f"{path.name}: 流程编号 {flow_id!r} 只能用小写字母、数字和下划线，最长12个字符")
    steps: dict[str, Step] = {}
    for raw in data["step"]:
        step = _step(raw, f"{path.name} step {raw.get('id')}")
        if step.id in steps:
            raise FlowError(f"{path.name}: 步骤 {step.id} 重复")
        steps[step.id] = step
    contact = data.get("contact")
    return Flow(
        id=flow_id,
        title=data["title"],
        region=data["region"],
        summary=data.get("summary", ""),
        start=data["start"],
        steps=steps,
        triggers=tuple(data.get("triggers", ())),
        place=str(data.get("place", "")),
        contact=Item(contact["text"], _ref(contact, path.name)) if contact else None,
        path=path,
    )


def _step(raw: Mapping[str, Any], where: str) -> Step:
    kind = raw["kind"]
    if kind not in KINDS:
        raise FlowError(f"{where}: 未知的步骤类型 {kind!r}")
    step_id = str(raw["id"])
    if not _ID.match(step_id):
        raise FlowError(f"{where}: 步骤编号 {step_id!r} 只能用小写字母、数字和下划线，最长12个字符")
    source = _ref(raw, where)
    if source is None and kind != "end":
        raise FlowError(f"{where}: 每个步骤都要注明出处（source）")
    return Step(
        id=step_id,
        kind=kind,
        item=raw.get("item", raw.get("ask", "")),
        ask=raw.get("ask", ""),
        source=source,
        next=raw.get("next"),
        skippable=bool(raw.get("skippable", False)),
        from_text=bool(raw.get("from_text", True)),
        if_no=raw.get("if_no", ""),
        options=tuple(
            Option(
                value=str(o["value"]),
                label=o["label"],
                words=tuple(o.get("words", ())),
                say=o.get("say", ""),
                next=o.get("next"),
                source=_ref(o, where),
            )
            for o in raw.get("option", [])
        ),
        items=tuple(
            Item(i, None) if isinstance(i, str) else Item(i["text"], _ref(i, where)) for i in raw.get("items", [])
        ),
        bands=tuple(Band(float(b["max"]), b["say"], b.get("next"), _ref(b, where)) for b in raw.get("band", [])),
        rules=tuple(
            Rule(
                when={k: tuple(v) if isinstance(v, list) else (str(v),) for k, v in r.get("when", {}).items()},
                say=r["say"],
                next=r.get("next"),
                outcome=r.get("outcome", "ok"),
                source=_ref(r, where),
            )
            for r in raw.get("rule", [])
        ),
    )


def _check_graph(flow: Flow) -> None:
    name = flow.path.name if flow.path else flow.id
    if flow.start not in flow.steps:
        raise FlowError(f"{name}: 起始步骤 {flow.start} 不存在")
    for step in flow.steps.values():
        for target in step.successors():
            if target not in flow.steps:
                raise FlowError(f"{name}: 步骤 {step.id} 指向不存在的步骤 {target}")
        _check_step_shape(name, step)
    _check_acyclic(flow, name)
    reachable = _reachable(flow)
    unreachable = sorted(set(flow.steps) - reachable)
    if unreachable:
        raise FlowError(f"{name}: 这些步骤走不到：{'、'.join(unreachable)}")


def _check_step_shape(name: str, step: Step) -> None:
    if step.kind == "choice" and len(step.options) < 2:
        raise FlowError(f"{name}: 选择步骤 {step.id} 至少要有两个选项")
    if step.kind == "choice" and len({o.value for o in step.options}) != len(step.options):
        raise FlowError(f"{name}: 选择步骤 {step.id} 的选项值重复")
    if step.kind in ("checklist", "info") and not step.items:
        raise FlowError(f"{name}: 步骤 {step.id} 没有条目")
    if step.kind == "percent":
        bounds = [b.max for b in step.bands]
        if not bounds or bounds != sorted(bounds) or bounds[-1] != 100:
            raise FlowError(f"{name}: 百分比步骤 {step.id} 的分段上限须递增且最后一段到100")
    if step.kind == "decide" and not step.rules:
        raise FlowError(f"{name}: 判定步骤 {step.id} 没有规则")
    if step.kind != "end" and not step.successors() and step.kind != "decide":
        raise FlowError(f"{name}: 步骤 {step.id} 没有下一步（流程须以 end 步骤结束）")


def _check_acyclic(flow: Flow, name: str) -> None:
    state: dict[str, int] = {}

    def visit(step_id: str) -> None:
        if state.get(step_id) == 1:
            raise FlowError(f"{name}: 步骤 {step_id} 处形成循环")
        if state.get(step_id) == 2:
            return
        state[step_id] = 1
        for target in flow.steps[step_id].successors():
            visit(target)
        state[step_id] = 2

    visit(flow.start)


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        step_id = todo.pop()
        if step_id not in seen:
            seen.add(step_id)
            todo.extend(flow.steps[step_id].successors())
    return seen
