"""Competition eligibility as data (knowledge/data/rules/eligibility.toml) and the decision
from a candidate's facts: which conditions are met, which are not, what is still unknown.

Boundaries follow Chinese legal usage: "一年以上" includes exactly twelve months.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from knowledge.datafile import Model, Value, load_toml
from knowledge.extract import LEVEL_NAMES
from knowledge.places import shared_places
from knowledge.retrieval import Passage
from knowledge.sources import SourceError, SourceRef, resolve

RULES_FILE = Path(__file__).parent / "data" / "rules" / "eligibility.toml"

# The order questions are asked in when several facts are missing.
QUESTION_ORDER = ("group", "pension", "pension_place", "hukou", "school", "level", "work_years")
TESTS = ("months_in_region", "in_region", "school_in_region")


class Condition(Model):
    id: str
    text: str
    test: str
    fact: str
    group: str | None = None


class MonthsCondition(Condition):
    test: Literal["months_in_region"]
    at_least: int = Field(ge=1)


class PlaceCondition(Condition):
    test: Literal["in_region"]


class SchoolCondition(Condition):
    test: Literal["school_in_region"]
    school_types: tuple[str, ...] = Field(min_length=1)


class Outsider(Model):
    text: str
    source: SourceRef


class Ruleset(Model):
    region: str
    province: Value
    source: SourceRef
    review_note: str = ""
    outsider: Outsider
    conditions: tuple[
        Annotated[MonthsCondition | PlaceCondition | SchoolCondition, Field(discriminator="test")], ...
    ] = Field(alias="condition", min_length=1)

    @property
    def outsider_text(self) -> str:
        return self.outsider.text

    @property
    def outsider_source(self) -> SourceRef:
        return self.outsider.source

    @property
    def short(self) -> str:
        return shared_places().by_code[self.province].short


class ResultRule(Model):
    region: str
    source: SourceRef
    text: str
    limits: str
    max_rank: int | None = Field(None, ge=1)


@dataclass
class Verdict:
    ruleset: Ruleset | None
    eligible: bool | None
    met: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # Why each condition is met or not, in the user's terms, keyed by condition id.
    reasons: dict[str, str] = field(default_factory=dict)
    advice: list[str] = field(default_factory=list)
    outsider: bool = False


class EligibilityRules(Model):
    rulesets: tuple[Ruleset, ...] = Field(alias="ruleset", min_length=1)
    result_rules: tuple[ResultRule, ...] = Field((), alias="result_rule")

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> EligibilityRules:
        return load_toml(cls, path, SourceError, {"condition": TESTS})

    def sources(self) -> list[SourceRef]:
        refs = [s for r in self.rulesets for s in (r.source, r.outsider_source)]
        return refs + [r.source for r in self.result_rules]

    def resolve_sources(self, passages: Iterable[Passage]) -> dict[SourceRef, Passage]:
        """Every cited clause resolved; raises SourceError on the first that is missing."""
        pool = list(passages)
        return {ref: resolve(ref, pool, RULES_FILE.name) for ref in self.sources()}

    def ruleset_for(self, province: str | None) -> Ruleset | None:
        """The rules of the competition's province; the first ruleset when it is not said."""
        if province is None:
            return self.rulesets[0]
        return next((r for r in self.rulesets if r.province == province), None)


def in_region(value: str | None, province: str) -> bool | None:
    """Whether a place value (see knowledge.extract) lies in the rules' province."""
    if value is None:
        return None
    if value == "local":
        return True
    if value == "nonlocal":
        return False
    if value == "othercity":
        return None
    if value.startswith("!"):
        # "户口不在河南" says nothing about Jiangsu; "户口不在江苏" does.
        return False if value[1:] == province else None
    return value == province


def place_name(value: str | None) -> str:
    if value is None:
        return "未说明的地区"
    if value in ("local", "nonlocal", "othercity"):
        return {"local": "本地", "nonlocal": "外省", "othercity": "外地"}[value]
    code = value.lstrip("!")
    province = shared_places().by_code.get(code)
    name = province.name if province else "其他省份"
    return f"{name}以外" if value.startswith("!") else name


def decide(rules: Ruleset, facts: Mapping[str, Any]) -> Verdict:
    verdict = Verdict(ruleset=rules, eligible=None)
    unknown: list[list[str]] = []
    for condition in rules.conditions:
        status, needs = _check(condition, rules, facts, verdict)
        if status is True:
            verdict.met.append(condition.id)
        elif status is False:
            verdict.unmet.append(condition.id)
        else:
            unknown.append(needs)
    if verdict.met:
        verdict.eligible = True
        unknown = []  # one met condition is enough; the others need not be asked
    elif not unknown:
        verdict.eligible = False
    _check_requirements(facts, verdict, unknown)
    if verdict.eligible is None:
        wanted = {f for needs in unknown for f in needs}
        verdict.missing = [f for f in QUESTION_ORDER if f in wanted]
    verdict.outsider = in_region(facts.get("hukou"), rules.province) is False
    return verdict


def _check(
    condition: Condition, rules: Ruleset, facts: Mapping[str, Any], verdict: Verdict
) -> tuple[bool | None, list[str]]:
    if condition.group is not None:
        group = facts.get("group")
        if group is None:
            # The group is asked only where it decides: a graduate, or a student of a school
            # outside the region, meets no student condition in either group.
            status, _ = _test(condition, rules, facts, verdict)
            return (False, []) if status is False else (None, ["group", condition.fact])
        if group != condition.group:
            verdict.reasons[condition.id] = (
                "只适用于学生组；您没有提到在读（学籍），按职工组看"
                if facts.get("group_inferred")
                else "只适用于学生组，您报的是职工组"
            )
            return False, []
    return _test(condition, rules, facts, verdict)


def _test(
    condition: Condition, rules: Ruleset, facts: Mapping[str, Any], verdict: Verdict
) -> tuple[bool | None, list[str]]:
    if isinstance(condition, MonthsCondition):
        return _months(condition, rules, facts, verdict)
    if isinstance(condition, SchoolCondition):
        return _school(condition, rules, facts, verdict)
    return _place(condition, rules, facts, verdict)


def _months(
    c: MonthsCondition, rules: Ruleset, facts: Mapping[str, Any], verdict: Verdict
) -> tuple[bool | None, list[str]]:
    months = facts.get(f"{c.fact}_months")
    exact = facts.get(f"{c.fact}_exact", True)
    said = facts.get(f"{c.fact}_said") or (f"{months}个月" if months is not None else "")
    inside = in_region(facts.get(f"{c.fact}_place"), rules.province)
    if inside is False:
        verdict.reasons[c.id] = (
            f"养老保险在{place_name(facts.get(f'{c.fact}_place'))}缴纳，不计入{rules.short}的参保时间"
        )
        verdict.advice.append(f"在{rules.short}参加基本养老保险满一年后，即符合这一条件")
        return False, []
    if months is None:
        return None, [c.fact]
    if months == 0:
        verdict.reasons[c.id] = f"没有在{rules.short}缴纳基本养老保险"
        return False, []
    if facts.get(f"{c.fact}_approx") and abs(months - c.at_least) <= 1:
        # "一年左右" may fall either side of the line: how long exactly is asked.
        return None, [c.fact]
    if inside is None and months >= c.at_least:
        return None, [f"{c.fact}_place"]
    if months >= c.at_least:
        verdict.reasons[c.id] = f"在{rules.short}参加基本养老保险{said}，已满一年（满12个月即算“一年以上”）"
        return True, []
    verdict.reasons[c.id] = f"在{rules.short}参加基本养老保险{said}，还不满一年"
    if exact:
        verdict.advice.append(f"再缴纳{c.at_least - months}个月后满一年，即符合“{c.text}”")
    else:
        verdict.advice.append(f"缴满12个月后，即符合“{c.text}”")
    return False, []


def _place(c: Condition, rules: Ruleset, facts: Mapping[str, Any], verdict: Verdict) -> tuple[bool | None, list[str]]:
    value = facts.get(c.fact)
    inside = in_region(value, rules.province)
    if inside is None:
        return None, [c.fact]
    verdict.reasons[c.id] = f"户籍在{place_name(value)}" + ("" if inside else f"，不是{rules.short}户籍")
    return inside, []


def _school(
    c: SchoolCondition, rules: Ruleset, facts: Mapping[str, Any], verdict: Verdict
) -> tuple[bool | None, list[str]]:
    kind = facts.get("school_type")
    if kind in ("无学籍", "其他学校"):
        verdict.reasons[c.id] = (
            "没有技工院校、职业院校或高等院校的学籍"
            if kind == "无学籍"
            else "所在学校不属于技工院校、职业院校或高等院校"
        )
        return False, []
    inside = in_region(facts.get("school_place"), rules.province)
    if inside is False:
        verdict.reasons[c.id] = f"学籍在{place_name(facts.get('school_place'))}的学校，不是{rules.short}的院校"
        return False, []
    if kind is None or inside is None:
        return None, [c.fact]
    ok = kind in c.school_types
    verdict.reasons[c.id] = f"学籍在{rules.short}的{kind}" if ok else f"{kind}不在认可的院校类型内"
    return ok, []


def _check_requirements(facts: Mapping[str, Any], verdict: Verdict, unknown: list[list[str]]) -> None:
    """The competition's own level and work-year requirements, only where the user gave them."""
    for fact, required_key, describe in (
        ("level", "level_required", lambda v: f"职业技能等级{LEVEL_NAMES[v]}及以上"),
        ("work_years", "work_years_required", lambda v: f"工作年限{v}年以上"),
    ):
        required = facts.get(required_key)
        if required is None:
            continue
        have = facts.get(fact)
        key = f"{fact}_requirement"
        if have is None:
            unknown.append([fact])
            if verdict.eligible is True:
                verdict.eligible = None
            continue
        # A smaller level number is a higher level (一级 is the top).
        ok = have <= required if fact == "level" else have >= required
        shown = LEVEL_NAMES[have] if fact == "level" else f"{have}年"
        verdict.reasons[key] = f"竞赛要求{describe(required)}，您是{shown}" + ("，符合" if ok else "，不符合")
        if ok:
            verdict.met.append(key)
        else:
            verdict.unmet.append(key)
            verdict.eligible = False


def merge_facts(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """New facts win; returns the merged facts and what changed, in words, so the bot can
    say it is now going by the later answer."""
    merged = dict(old)
    changed: list[str] = []
    for key, value in new.items():
        before = merged.get(key)
        if before is not None and before != value and key in FACT_LABELS:
            changed.append(
                f"{FACT_LABELS[key]}：之前是“{describe_fact(key, before)}”，现在按“{describe_fact(key, value)}”"
            )
        merged[key] = value
        approx = key.removesuffix("_months") + "_approx"
        if key.endswith("_months") and approx not in new:
            merged.pop(approx, None)  # a duration said again is as exact as now said
        if f"{key}_inferred" not in new:
            merged.pop(f"{key}_inferred", None)  # a fact now said is no longer inferred
    return merged, changed


FACT_LABELS = {
    "group": "组别",
    "pension_months": "养老保险缴纳时长",
    "pension_place": "养老保险缴纳地",
    "hukou": "户籍",
    "school_type": "学校类型",
    "school_place": "学校所在地",
    "level": "您的职业技能等级",
    "work_years": "您的工作年限",
}


def describe_fact(key: str, value: Any) -> str:
    if key == "group":
        return "学生组" if value == "student" else "职工组"
    if key == "pension_months":
        return f"{value}个月"
    if key in ("pension_place", "hukou", "school_place"):
        return place_name(value)
    if key == "level":
        return LEVEL_NAMES.get(value, str(value))
    if key == "work_years":
        return f"{value}年"
    return str(value)
