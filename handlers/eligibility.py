"""Competition eligibility: decide from what the candidate says, ask only what is still
missing (one question at a time), explain the verdict and cite the clause."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handlers import common
from handlers.base import Button, Context, Reply
from handlers.buttons import Action, decode, encode
from knowledge.eligibility import (
    EligibilityRules,
    ResultRule,
    Ruleset,
    Verdict,
    decide,
    describe_fact,
    in_region,
    merge_facts,
    place_name,
)
from knowledge.extract import (
    COMPETITION_WORDS,
    LEVEL_NAMES,
    duration_months,
    extract,
    level_in,
    names_competition,
    place_value,
    school_type,
)
from knowledge.places import shared_places
from knowledge.retrieval import Passage
from knowledge.sources import SourceRef, source_line
from knowledge.spelling import typed_in_pinyin_already

_PERSONAL = re.compile(r"我|本人|孩子|儿子|女儿|老公|老婆|俺")
_ASKS_RESULT = re.compile(r"评|认定|晋升|晋级|升级|技师|高级工|等级|证书|直接|好处|奖励|待遇|有什么用|有啥用")
_YES = re.compile(r"^(是|对|嗯|有|在|是的|对的|没错|yes|y)[的啊呀吧。！!]*$", re.I)
_NO = re.compile(r"^(不是|没有|否|不在|没|不|no|n)[的啊呀吧。！!]*$", re.I)
NO_LEVEL = 9  # "还没有等级": lower than every level 1–5


@dataclass(frozen=True)
class Question:
    text: str
    # (label, facts the button sets); "{short}" is the rules' province, e.g. 江苏.
    options: tuple[tuple[str, dict[str, Any]], ...] = ()


QUESTIONS: dict[str, Question] = {
    # Asked first when the message does not say where the competition is: each region's
    # notice sets its own conditions, and the bot never assumes one (#12).
    "competition": Question(
        "这个比赛在哪里举办（由哪里主办）？我掌握的参赛条件是{short}的规定，其他地区以主办方通知为准。",
        (("{short}省内", {"competition_place": "local"}), ("其他省市或全国性比赛", {"competition_place": "elsewhere"})),
    ),
    "group": Question(
        "您报名的是职工组还是学生组？",
        (("职工组", {"group": "worker"}), ("学生组", {"group": "student"})),
    ),
    "pension": Question(
        "您在{short}参加基本养老保险（交社保）多长时间了？也可以直接输入，例如“14个月”“一年半”。",
        (
            (
                "满1年及以上",
                {"pension_months": 12, "pension_exact": False, "pension_said": "满一年", "pension_place": "local"},
            ),
            (
                "不满1年",
                {"pension_months": 11, "pension_exact": False, "pension_said": "不满一年", "pension_place": "local"},
            ),
            ("没有在{short}交过", {"pension_months": 0, "pension_exact": True, "pension_said": "没有缴纳"}),
        ),
    ),
    "pension_place": Question(
        "您说的{said}养老保险，是在{short}缴纳的吗？",
        (("是，在{short}交的", {"pension_place": "local"}), ("不是", {"pension_place": "nonlocal"})),
    ),
    "hukou": Question(
        "您的户籍（户口）在{short}吗？也可以直接输入户籍所在省份。",
        (("是，{short}户籍", {"hukou": "local"}), ("不是", {"hukou": "nonlocal"})),
    ),
    "school": Question(
        "您的学籍在哪类学校？",
        (
            ("{short}的技工院校", {"school_type": "技工院校", "school_place": "local"}),
            ("{short}的职业院校", {"school_type": "职业院校", "school_place": "local"}),
            ("{short}的高等院校", {"school_type": "高等院校", "school_place": "local"}),
            ("外省的学校", {"school_place": "nonlocal"}),
            ("没有这类学籍", {"school_type": "无学籍"}),
        ),
    ),
    "level": Question(
        "竞赛对职业技能等级有要求。您目前的职业技能等级是？",
        (
            *((name, {"level": level}) for level, name in sorted(LEVEL_NAMES.items())),
            ("还没有等级", {"level": NO_LEVEL}),
        ),
    ),
    "work_years": Question("竞赛对工作年限有要求。您从事本职业（工种）工作多少年了？请直接输入，例如“3年”。"),
}


class Eligibility:
    name = "eligibility"
    prefix = "el"
    title = "参赛资格自测"

    def __init__(self, rules: EligibilityRules, sources: dict[SourceRef, Passage]) -> None:
        self.rules = rules
        self.sources = sources

    # -- routing -----------------------------------------------------------------------
    def interrupts(self, text: str) -> bool:
        return False

    def claims(self, text: str) -> bool:
        facts = extract(text)
        if "rank" in facts and _ASKS_RESULT.search(text):
            return True
        if not COMPETITION_WORDS.search(text):
            return False
        personal = {k for k in facts if k not in ("competition_place", "competition_city", "rank", "rank_is_top_n")}
        return bool(personal) or bool(_PERSONAL.search(text))

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        session = ctx.state.get(self.name)
        if args:
            return self._begin(ctx, extract(args), notes=[])
        if isinstance(session, dict) and session.get("asking"):
            ctx.activate(self.name)
            return self._ask(ctx, session, notes=["继续上次的参赛资格自测。"])
        return self._begin(ctx, {}, notes=[])

    def accepts(self, text: str) -> bool:
        """Free text the classifier sent here that names no competition, rank or fact of a
        competitor ("社保断缴了怎么补") is a policy question after all; one that says how long
        the 社保 was paid ("交了11个月社保行吗") is a competitor's case. Facts are read from
        Chinese, so a message typed in pinyin is taken as the classifier says."""
        if typed_in_pinyin_already(text):
            return True
        facts = extract(text)
        return names_competition(text) or bool(
            {"rank", "prize_tier", "hukou", "school_type", "pension_months"} & set(facts)
        )

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        facts = extract(ctx.text)
        if ("rank" in facts or "prize_tier" in facts) and _ASKS_RESULT.search(ctx.text):
            return self._result_answer(ctx, facts)
        return self._begin(ctx, facts, notes=[])

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        session = ctx.state.get(self.name)
        if not isinstance(session, dict):
            ctx.step_aside()
            return None
        asking = session.get("asking")
        if asking is None and COMPETITION_WORDS.search(ctx.text):
            # After a verdict, a whole new question is a new case, not a correction of the last.
            ctx.step_aside()
            return None
        if asking is None and (more := _more_pension(ctx.text)) and "pension_months" in session["facts"]:
            return self._what_if(session, more)
        # What the reply says anew: "单位给我交了养老保险" repeats a 职工组 already answered and
        # still says nothing of how long.
        known = session["facts"]
        found = {k: v for k, v in _answer_from_text(ctx.text, asking).items() if known.get(k) != v}
        if "group" not in found:
            found.pop("group_inferred", None)
        if not found:
            if asking and not ctx.asks_a_question():
                hint = "请告诉我交了多长时间，例如“14个月”“一年半”。" if asking == "pension" else "没看懂您的回答。"
                return self._ask(ctx, session, notes=[hint], replace=False)
            # A verdict was given, or this is a question of its own: hand it to the router.
            # An unanswered question stays saved; /eligibility resumes it.
            ctx.step_aside()
            return None
        return self._advance(ctx, session, found)

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        press = decode(data)
        session = ctx.state.get(self.name)
        if press is None or not ctx.token_is_current(press.token) or not isinstance(session, dict):
            return common.stale_button("/eligibility")
        if press.action is Action.BACK:
            return self._back(ctx, session)
        if press.action is Action.CANCEL:
            ctx.end_dialogue(self.name)
            ctx.next_token()
            return [
                Reply(
                    "已取消参赛资格自测。需要时发送 /eligibility 重新开始。",
                    payload={"intent": self.name, "cancelled": True},
                )
            ]
        fact = press.arg(0)
        if press.action is Action.ANSWER and fact == session.get("asking") and fact in QUESTIONS:
            options = QUESTIONS[fact].options
            if (option := press.index(1, len(options))) is not None:
                return self._advance(ctx, session, dict(options[option][1]), replace=True)
        return common.stale_button("/eligibility")

    # -- dialogue ----------------------------------------------------------------------
    def _begin(self, ctx: Context, facts: dict[str, Any], notes: list[str]) -> list[Reply]:
        session: dict[str, Any] = {"facts": {}, "asked": [], "asking": None}
        ctx.state[self.name] = session
        ctx.activate(self.name)
        return self._advance(ctx, session, facts, notes=notes)

    def _advance(
        self,
        ctx: Context,
        session: dict[str, Any],
        new: dict[str, Any],
        notes: list[str] | None = None,
        replace: bool = False,
    ) -> list[Reply]:
        notes = list(notes or [])
        if new.get("competition_place") == "local":
            new = {**new, "competition_place": self.rules.rulesets[0].province}
        ruleset = self.rules.ruleset_for(_competition_province({**session["facts"], **new}))
        if ruleset is not None:
            new = _anchor_places(new, ruleset.province)
        merged, changed = merge_facts(session["facts"], new)
        if changed:
            notes.append("以您最新的说法为准——" + "；".join(changed) + "。")
        session["facts"] = merged
        asking = session.get("asking")
        if asking and any(key in new for key in _FACTS_OF[asking]):
            session["asked"].append(asking)
        if ruleset is None:
            return self._no_rules(ctx, merged)
        if merged.get("competition_place") is None:
            session["asking"] = "competition"
            return self._ask(ctx, session, notes=notes, replace=replace)
        verdict = decide(ruleset, merged)
        if verdict.eligible is None and verdict.missing:
            session["asking"] = verdict.missing[0]
            return self._ask(ctx, session, notes=notes, verdict=verdict, replace=replace)
        session["asking"] = None
        ctx.next_token()
        return [self._verdict_reply(merged, verdict, notes)]

    def _ask(
        self,
        ctx: Context,
        session: dict[str, Any],
        notes: list[str],
        verdict: Verdict | None = None,
        replace: bool = False,
    ) -> list[Reply]:
        facts = session["facts"]
        ruleset = self.rules.ruleset_for(_competition_province(facts)) or self.rules.rulesets[0]
        verdict = verdict or decide(ruleset, facts)
        fact = session["asking"]
        question = QUESTIONS[fact]
        fill = {"short": ruleset.short, "said": facts.get("pension_said", "")}
        token = ctx.next_token()
        buttons = [
            Button(label.format(**fill), encode(self.prefix, Action.ANSWER, fact, i, token=token))
            for i, (label, _) in enumerate(question.options)
        ]
        if session["asked"]:
            buttons.append(Button("上一步", encode(self.prefix, Action.BACK, token=token)))
        buttons.append(Button("取消", encode(self.prefix, Action.CANCEL, token=token)))
        known = [f"{label}：{describe_fact(k, facts[k])}" for k, label in _SHOWN_FACTS if k in facts]
        lines = [*notes]
        if known:
            lines.append("已记录——" + "；".join(known) + "。")
        lines.append(question.text.format(**fill))
        payload = _payload(verdict) | {"asking": fact}
        if fact == "competition":
            payload["eligible"] = None  # which rules apply is not known yet
        return [Reply("\n".join(lines), buttons, payload, replace=replace)]

    def go_back(self, ctx: Context) -> list[Reply]:
        """ "上一步" typed instead of pressed."""
        session = ctx.state.get(self.name)
        if not isinstance(session, dict) or session.get("asking") is None:
            return common.notice(self.name, "当前没有可以返回的问题。发送 /eligibility 开始参赛资格自测。")
        ctx.next_token()
        return self._back(ctx, session)

    def _what_if(self, session: dict[str, Any], more: int) -> list[Reply]:
        """ "那我再交一个月是不是就可以了" after a verdict: the same case with that many more
        months, answered as a what-if; the facts the user stated stay as they were."""
        facts = dict(session["facts"])
        facts["pension_months"] = int(facts["pension_months"]) + more
        ruleset = self.rules.ruleset_for(_competition_province(facts))
        if ruleset is None:
            return [Reply("这个比赛不按我掌握的规定判断，以主办方通知为准。", payload={"intent": self.name})]
        note = f"按您说的再缴{more}个月计算（共{facts['pension_months']}个月，其他情况不变）："
        return [self._verdict_reply(facts, decide(ruleset, facts), [note])]

    def _back(self, ctx: Context, session: dict[str, Any]) -> list[Reply]:
        if not session["asked"]:
            return self._ask(ctx, session, notes=["已经是第一个问题了。"])
        previous = session["asked"].pop()
        for key in _FACTS_OF[previous]:
            session["facts"].pop(key, None)
        session["asking"] = previous
        ctx.activate(self.name)
        return self._ask(ctx, session, notes=["好的，回到上一个问题。"], replace=True)

    # -- replies -----------------------------------------------------------------------
    def _verdict_reply(self, facts: dict[str, Any], verdict: Verdict, notes: list[str]) -> Reply:
        rules = verdict.ruleset
        assert rules is not None
        lines = [*notes]
        if facts.get("competition_inferred"):
            lines.append(f"（您没有说比赛在哪里举办，按{rules.short}的比赛来看；如果不在{rules.short}，请告诉我。）")
        if facts.get("pension_place_inferred"):
            paid = facts.get("pension_place")
            where = rules.short if in_region(paid, rules.province) else place_name(paid)
            lines.append(f"（您没有说社保在哪里交，按在{where}缴纳来看；如果不在{where}，请告诉我。）")
        names = {c.id: c.text for c in rules.conditions}
        if verdict.eligible:
            lines.append(f"**可以报名**（按{rules.short}的规定）。")
            lines += [f"符合条件：{names.get(i, '竞赛要求')}——{verdict.reasons[i]}。" for i in verdict.met]
            lines.append(f"选手只需符合以下条件之一：{_numbered(rules)}。")
        else:
            lines.append(f"**按{rules.short}的规定，暂不符合参赛资格。**")
            lines.append(f"选手须符合以下条件之一：{_numbered(rules)}。您的情况：")
            lines += [f"· {names.get(i, '竞赛要求')}：{verdict.reasons.get(i, '不符合')}" for i in verdict.unmet]
            if verdict.advice:
                lines.append("怎样可以符合：" + "；".join(dict.fromkeys(verdict.advice)) + "。")
        lines.append(rules.review_note)
        refs = [rules.source]
        if verdict.outsider:
            lines.append(rules.outsider_text)
            refs.append(rules.outsider_source)
        lines += [source_line(ref, self.sources[ref]) for ref in refs]
        payload = _payload(verdict) | {"basis": [r.label for r in refs]}
        return Reply("\n".join(lines), [Button("重新自测", "m:eligibility")], payload)

    def _no_rules(self, ctx: Context, facts: dict[str, Any]) -> list[Reply]:
        ctx.step_aside()
        ctx.state[self.name]["asking"] = None
        ctx.next_token()
        place = (
            facts.get("competition_city")
            or {"national": "全国性", "elsewhere": "其他地区"}.get(str(facts.get("competition_place")))
            or place_name(facts.get("competition_place"))
        )
        known = "、".join(f"{r.short}（{r.source.doc}）" for r in self.rules.rulesets)
        text = (
            f"您问的是{place}的比赛。我掌握的参赛资格条件只有{known}的规定，"
            f"{place}的比赛能否报名，以主办方发布的竞赛通知为准；我不替它设定条件。\n"
            "可以向主办单位或当地人社部门（12333）咨询报名条件。"
        )
        empty: dict[str, Any] = {"eligible": None, "met": [], "unmet": [], "missing": [], "basis": []}
        payload = {"intent": self.name, **empty}
        return [Reply(text, payload=payload | {"no_rules_for": facts.get("competition_place")})]

    def _result_answer(self, ctx: Context, facts: dict[str, Any]) -> list[Reply]:
        rank = int(facts["rank"]) if "rank" in facts else None
        if rank is None:
            rank_text = str(facts["prize_tier"])
        else:
            rank_text = f"前{rank}名" if facts.get("rank_is_top_n") else f"第{rank}名"
        province = shared_places().province(ctx.text)
        rules = [r for r in self.rules.result_rules if _rule_matches_place(r, province)]
        lines = [f"关于竞赛获奖（{rank_text}）能否晋升或直接认定等级，各地文件的规定如下："]
        basis = []
        for rule in rules:
            lines.append(f"【{rule.region}】{rule.text}")
            if rule.max_rank is not None and rank is None:
                lines.append(
                    f"  {rank_text}是奖项等次，不等于名次：这一条看的是名次（前{rule.max_rank}名），"
                    "请以竞赛公布的名次为准，告诉我第几名我再帮您对照。"
                )
            elif rule.max_rank is not None and rank is not None:
                fits = rank <= rule.max_rank
                lines.append(
                    f"  您的名次{'在' if fits else '不在'}前{rule.max_rank}名之内，"
                    + ("可以适用。" if fits else "不适用这一条。")
                )
            lines.append(f"  限制：{rule.limits}")
            lines.append("  " + source_line(rule.source, self.sources[rule.source]))
            applies = _applies(rule, rank) if rank is not None else None
            basis.append({"region": rule.region, "basis": rule.source.label, "applies": applies})
        if "技师" in ctx.text or level_in(ctx.text) is not None:
            lines.append(
                "注意：文件说的是“相应”职业技能等级，获奖后能认定到哪一级，由竞赛文件规定，不会因为名次自动评为技师。"
            )
        payload = {"intent": self.name, "topic": "competition_result", "rank": rank, "rules": basis}
        return [Reply("\n".join(lines), payload=payload)]


# Which facts each question sets, so "上一步" can forget them.
_FACTS_OF = {
    "competition": ("competition_place", "competition_city"),
    "group": ("group",),
    "pension": ("pension_months", "pension_exact", "pension_said", "pension_place"),
    "pension_place": ("pension_place",),
    "hukou": ("hukou",),
    "school": ("school_type", "school_place"),
    "level": ("level",),
    "work_years": ("work_years",),
}
_SHOWN_FACTS = (
    ("group", "组别"),
    ("pension_months", "养老保险"),
    ("pension_place", "缴纳地"),
    ("hukou", "户籍"),
    ("school_type", "学校"),
)


_MORE_PENSION = re.compile(r"再(?:交|缴|续交|续缴|多交|补交|交上|缴上)")


def _more_pension(text: str) -> int | None:
    """Months in "再交一个月" / "再缴半年", or None when the text says no such thing."""
    if not _MORE_PENSION.search(text):
        return None
    found = duration_months(text)
    return found[0] if found and found[0] > 0 else None


def _answer_from_text(text: str, asking: str | None) -> dict[str, Any]:
    """What the text says, read as the answer to the question asked where it is short."""
    facts = extract(text)
    if asking is not None:
        facts.update({k: v for k, v in _contextual_answer(text, asking).items() if k not in facts})
    return facts


def _contextual_answer(text: str, asking: str) -> dict[str, Any]:
    """A short reply read as the answer to the question just asked ("14个月", "是", "河南")."""
    yes, no = bool(_YES.match(text.strip())), bool(_NO.match(text.strip()))
    where = place_value(text, shared_places())
    if asking == "competition":
        if re.search(r"全国|国赛|外省|外地|其他|省外", text):
            return {"competition_place": "elsewhere"}
        if where is not None and not where.startswith("!") and where not in ("local", "nonlocal"):
            return {"competition_place": where}
        if yes or re.search(r"省内|本省|本地", text):
            return {"competition_place": "local"}
    elif asking == "group":
        if "学生" in text:
            return {"group": "student"}
        if re.search(r"职工|工人|员工|上班", text):
            return {"group": "worker"}
    elif asking == "pension":
        if no or re.search(r"没交|没有交|没缴", text):
            return {"pension_months": 0, "pension_exact": True, "pension_said": "没有缴纳"}
        found = duration_months(text)
        if found is not None:
            months, exact, said = found
            return {
                "pension_months": months,
                "pension_exact": exact,
                "pension_said": said,
                "pension_place": where or "local",
            }
    elif asking in ("pension_place", "hukou"):
        key = "pension_place" if asking == "pension_place" else "hukou"
        if where is not None:
            return {key: where}
        if yes or no:
            return {key: "local" if yes else "nonlocal"}
    elif asking == "school":
        kind = school_type(text)
        out: dict[str, Any] = {}
        if kind:
            out["school_type"] = kind
        if where:
            out["school_place"] = where
        if re.search(r"没有|无", text) and not out:
            out["school_type"] = "无学籍"
        return out
    elif asking == "level":
        level = level_in(text)
        if level is not None:
            return {"level": level}
        if no or "没有" in text:
            return {"level": NO_LEVEL}
    elif asking == "work_years":
        found = duration_months(text)
        if found is not None:
            return {"work_years": found[0] // 12}
    return {}


def _anchor_places(facts: dict[str, Any], province: str) -> dict[str, Any]:
    """本地/外地 mean the competition's province; store them as that province's code."""
    anchored = dict(facts)
    for key in ("pension_place", "hukou", "school_place"):
        if anchored.get(key) == "local":
            anchored[key] = province
        elif anchored.get(key) == "nonlocal":
            anchored[key] = f"!{province}"
    return anchored


def _competition_province(facts: dict[str, Any]) -> str | None:
    place = facts.get("competition_place")
    return None if place is None else str(place)


def _numbered(rules: Ruleset) -> str:
    return "".join(f"（{i}）{c.text}" for i, c in enumerate(rules.conditions, 1))


def _rule_matches_place(rule: ResultRule, province: Any) -> bool:
    if province is None or rule.region == "全国":
        return True
    return rule.region.startswith(province.name)


def _applies(rule: ResultRule, rank: int) -> bool | None:
    return None if rule.max_rank is None else rank <= rule.max_rank


def _payload(verdict: Verdict) -> dict[str, Any]:
    rules = verdict.ruleset
    return {
        "intent": "eligibility",
        "eligible": verdict.eligible,
        "met": list(verdict.met),
        "unmet": list(verdict.unmet),
        "missing": list(verdict.missing),
        "basis": [rules.source.label] if rules else [],
        "region": rules.region if rules else None,
    }
