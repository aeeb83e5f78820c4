"""Filing checklists as data: one TOML file per flow under knowledge/data/flows/.

A flow is a graph of steps. Kinds:
  choice     one of several options (buttons, or typed words), each may say something and jump
  check      a yes/no condition; "no" records what must be put in place first
  checklist  items to tick (materials); unticked ones are recorded as missing
  info       what to do, item by item, each with its own source
  percent    a number 0–100 read into bands; upper bounds are inclusive ("10%之内" has 10)
  decide     no question: the first rule whose `when` matches the answers so far applies
  end        the end; the checklist is built from the path taken

The models below are the file format: loading checks every key, type and the graph, so a flow
pointing at a missing step fails loudly at start-up. Every step and item cites a clause of a
notice; `FlowBook.validate` resolves them all against the notices, a separate step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, model_validator

from knowledge.datafile import Model, Value, Values, load_toml
from knowledge.extract import digits
from knowledge.retrieval import Passage
from knowledge.sources import SourceError, SourceRef, resolve

FLOWS_DIR = Path(__file__).parent / "data" / "flows"
KINDS = ("choice", "check", "checklist", "info", "percent", "decide", "end")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s*(%|％)?")


class FlowError(SourceError):
    """A flow file that cannot be used: bad TOML, a dangling step, a missing clause."""


Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,12}$")]


class Item(Model):
    text: str
    source: SourceRef | None = None


# A bare string in `items` is an item without its own source.
_Item = Annotated[Item, BeforeValidator(lambda v: {"text": v} if isinstance(v, str) else v)]


class Option(Model):
    value: Value
    label: str
    words: tuple[str, ...] = ()
    say: str = ""
    next: str | None = None
    source: SourceRef | None = None


class Band(Model):
    max: float
    say: str
    next: str | None = None
    source: SourceRef | None = None


class Rule(Model):
    when: dict[str, Values] = {}
    say: str
    next: str | None = None
    # "closed": the combination is not open to the user; the flow ends here.
    outcome: Literal["ok", "closed"] = "ok"
    source: SourceRef | None = None

    def matches(self, answers: Mapping[str, Any]) -> bool:
        return all(str(answers.get(key)) in values for key, values in self.when.items())


class _Step(Model):
    id: Id
    kind: str
    item: str
    ask: str = ""
    next: str | None = None
    skippable: bool = False
    # Whether the user's first message may answer this step (see handlers.filing._told).
    from_text: bool = True

    @model_validator(mode="before")
    @classmethod
    def _item_defaults_to_ask(cls, data: Any) -> Any:
        return {"item": data.get("ask", ""), **data} if isinstance(data, dict) else data

    def _branches(self) -> Iterable[str | None]:
        return ()

    def successors(self) -> list[str]:
        return sorted({t for t in (self.next, *self._branches()) if t})


class _Cited(_Step):
    """Every step but the end rests on a clause."""

    source: SourceRef


class ChoiceStep(_Cited):
    kind: Literal["choice"]
    options: tuple[Option, ...] = Field(alias="option", min_length=2)

    @model_validator(mode="after")
    def _distinct_values(self) -> Self:
        if len({o.value for o in self.options}) != len(self.options):
            raise ValueError("选项值重复")
        return self

    def _branches(self) -> Iterable[str | None]:
        return (o.next for o in self.options)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


class CheckStep(_Cited):
    kind: Literal["check"]
    if_no: str = ""


class ItemsStep(_Cited):
    kind: Literal["checklist", "info"]
    items: tuple[_Item, ...] = Field(min_length=1)


class PercentStep(_Cited):
    kind: Literal["percent"]
    bands: tuple[Band, ...] = Field(alias="band", min_length=1)

    @model_validator(mode="after")
    def _bands_cover_0_to_100(self) -> Self:
        bounds = [b.max for b in self.bands]
        if bounds != sorted(bounds) or bounds[-1] != 100:
            raise ValueError("分段上限须递增，最后一段到100")
        return self

    def _branches(self) -> Iterable[str | None]:
        return (b.next for b in self.bands)

    def band_for(self, value: float) -> Band:
        return next(b for b in self.bands if value <= b.max)


class DecideStep(_Cited):
    kind: Literal["decide"]
    rules: tuple[Rule, ...] = Field(alias="rule", min_length=1)

    def _branches(self) -> Iterable[str | None]:
        return (r.next for r in self.rules if r.outcome != "closed")

    def rule_for(self, answers: Mapping[str, Any]) -> Rule | None:
        return next((r for r in self.rules if r.matches(answers)), None)


class EndStep(_Step):
    kind: Literal["end"]
    source: SourceRef | None = None


def _by_id(steps: Any) -> dict[str, Any]:
    """[[step]] tables keyed by their id, so that errors name the step."""
    if not isinstance(steps, list):
        raise ValueError("步骤须写成 [[step]]")
    ids = [str(raw.get("id", f"#{i}")) if isinstance(raw, dict) else f"#{i}" for i, raw in enumerate(steps, 1)]
    if twice := next((i for i in ids if ids.count(i) > 1), None):
        raise ValueError(f"步骤 {twice} 重复")
    return dict(zip(ids, steps, strict=True))


Step = Annotated[ChoiceStep | CheckStep | ItemsStep | PercentStep | DecideStep | EndStep, Field(discriminator="kind")]


class Flow(Model):
    id: Id
    title: str
    region: str
    summary: str = ""
    start: str
    steps: Annotated[dict[str, Step], BeforeValidator(_by_id)] = Field(alias="step")
    triggers: tuple[str, ...] = ()
    # The place users name for the flow's region ("南京"), for routing free text.
    place: str = ""
    contact: Item | None = None
    # Set by the loader (it names the file in errors), not by the file.
    path: Path | None = None

    @model_validator(mode="after")
    def _one_graph_from_start_to_end(self) -> Self:
        if self.start not in self.steps:
            raise ValueError(f"起始步骤 {self.start} 不存在")
        for step in self.steps.values():
            for target in step.successors():
                if target not in self.steps:
                    raise ValueError(f"步骤 {step.id} 指向不存在的步骤 {target}")
            if step.kind not in ("decide", "end") and not step.successors():
                raise ValueError(f"步骤 {step.id} 没有下一步（流程须以 end 步骤结束）")
        done: dict[str, bool] = {}  # False while the step is on the path being walked

        def walk(step_id: str) -> None:
            if done.get(step_id) is False:
                raise ValueError(f"步骤 {step_id} 处形成循环")
            if step_id not in done:
                done[step_id] = False
                for target in self.steps[step_id].successors():
                    walk(target)
                done[step_id] = True

        walk(self.start)
        if unreachable := sorted(set(self.steps) - set(done)):
            raise ValueError(f"这些步骤走不到：{'、'.join(unreachable)}")
        return self

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
        parts = [*self.steps.items(), ("contact", self.contact)]
        return [(f"{self.id}.{name}", ref) for name, part in parts for ref in _refs(part)]


def _refs(value: Any) -> Iterator[SourceRef]:
    """Every clause cited anywhere inside a model, in field order."""
    if isinstance(value, SourceRef):
        yield value
    elif isinstance(value, BaseModel | tuple):
        for part in dict(value).values() if isinstance(value, BaseModel) else value:
            yield from _refs(part)


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

    def resolve_sources(self, passages: Iterable[Passage]) -> dict[SourceRef, Passage]:
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
    return load_toml(Flow, path, FlowError, {"step": KINDS}).model_copy(update={"path": path})
