"""Filing checklists: walk HR staff through a 备案 flow one step per message, then hand
them a checklist (done / missing / next / contact, each line with its source)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from handlers import common
from handlers.base import Button, Context, Document, Reply
from handlers.buttons import Action, Press, decode, encode
from knowledge.base import shared_lexicon
from knowledge.extract import proportion
from knowledge.flows import (
    ChoiceStep,
    DecideStep,
    Flow,
    FlowBook,
    Line,
    Option,
    Step,
    checklist,
    parse_percent,
    step_lines,
)
from knowledge.lexicon import normalise
from knowledge.retrieval import Passage
from knowledge.sources import SourceRef, cited, source_line

# "We want to file": an organisation speaking for itself, plus what it wants to do.
_OWN_ORG = re.compile(r"我们|我单位|我公司|我司|我校|我院|本单位|本企业|本公司|本校|咱们|我们单位|我们学校|我厂")
_FILING_GOAL = re.compile(r"备案|报备|办赛|自主评价|认定机构|评价机构|等级认定|评价规范")
_YES = re.compile(r"^(是|有|对|具备|符合|已|已经|可以|能|嗯|yes|y)")
_NO = re.compile(r"^(否|不|没|无|未|还没|尚未|no|n)")
_NEXT_WORDS = re.compile(r"^(下一步|继续|好|好的|知道了|明白|ok|收到)")
_DONE_WORDS = re.compile(r"^(完成|好了|选好了|就这些)")
_ALL_WORDS = re.compile(r"都有|全部|都准备好|全都")

PLACE_WEIGHT = 3.0
OTHER_PLACE_FACTOR = 0.3
STATUS_TITLES = (
    ("done", "✅ 已具备"),
    ("missing", "❌ 还缺少 / 待补充"),
    ("todo", "➡️ 要做的事"),
    ("info", "📝 您的情况"),
    ("closed", "⛔ 不能办理"),
    ("contact", "☎️ 联系方式"),
)


PREFIX = "fl"


class Filing:
    name = "filing"
    prefix = PREFIX
    title = "备案指引"

    def __init__(self, book: FlowBook, sources: dict[SourceRef, Passage]) -> None:
        self.book = book
        self.sources = sources

    # -- routing -----------------------------------------------------------------------
    # A first message asking where or how to file also gets the clause that says so.
    answers_alongside = True

    def interrupts(self, text: str) -> bool:
        return False

    def claims(self, text: str) -> bool:
        return bool(_OWN_ORG.search(text) and _FILING_GOAL.search(text))

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        if args == "export":
            return self._export(ctx)
        if (outdated := self._outdated(ctx)) is not None:
            return outdated
        session = self._session(ctx)
        if args:
            return self._enter_from_text(ctx, args)
        if session is not None and not session.get("done"):
            return self._offer_resume(ctx, session)
        return self._menu(ctx)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        return self._enter_from_text(ctx, ctx.text)

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        if (outdated := self._outdated(ctx)) is not None:
            return outdated
        session = self._session(ctx)
        if session is None or session.get("done"):
            ctx.step_aside()
            return None
        _, step = self._current(session)
        answer = _typed_answer(step, ctx.text, session)
        if answer is None and ctx.asks_a_question():
            return None  # a question of its own; the flow waits for /filing
        if answer is None:
            return self._show(ctx, session, note=_reprompt(step), replace=False)
        if isinstance(answer, str) and answer.startswith("bad:"):
            return self._show(ctx, session, note=answer[4:], replace=False)
        return self._answer(ctx, session, answer)

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        press = decode(data)
        if press is None or not ctx.token_is_current(press.token):
            return common.stale_button("/filing")
        if press.action is Action.START and press.arg() in self.book.flows:
            return self._begin(ctx, self.book.flows[press.arg()])
        if press.action is Action.MENU:
            return self._menu(ctx)
        if press.action is Action.EXPORT:
            return self._export(ctx)
        if (outdated := self._outdated(ctx)) is not None:
            return outdated
        session = self._session(ctx)
        if session is None:
            return common.stale_button("/filing")
        if press.action is Action.RESUME and not session.get("done"):
            ctx.activate(self.name)
            return self._show(ctx, session, note="接着上次继续。")
        if press.action is Action.RESTART:
            return self._begin(ctx, self.book.flows[session["flow"]])
        if session.get("done"):
            return common.stale_button("/filing")
        return self._step_button(ctx, session, press)

    def _step_button(self, ctx: Context, session: dict[str, Any], press: Press) -> list[Reply]:
        _, step = self._current(session)
        action = press.action
        if action is Action.BACK:
            return self._back(ctx, session)
        if action is Action.CANCEL:
            ctx.end_dialogue(self.name)
            ctx.next_token()
            return [
                Reply("已取消备案指引。需要时发送 /filing 重新开始。", payload={"intent": self.name, "cancelled": True})
            ]
        if action is Action.SKIP and step.skippable:
            return self._answer(ctx, session, "skip")
        if action is Action.OPTION and step.kind == "choice" and (i := press.index(0, len(step.options))) is not None:
            return self._answer(ctx, session, step.options[i].value)
        if action in (Action.YES, Action.NO) and step.kind == "check":
            return self._answer(ctx, session, "yes" if action is Action.YES else "no")
        if action is Action.TICK and step.kind == "checklist" and (i := press.index(0, len(step.items))) is not None:
            ticks = set(session["ticks"].get(step.id, []))
            ticks ^= {i}
            session["ticks"][step.id] = sorted(ticks)
            return self._show(ctx, session)
        if action is Action.DONE and step.kind == "checklist":
            return self._answer(ctx, session, session["ticks"].get(step.id, []))
        if action is Action.NEXT and step.kind == "info":
            return self._answer(ctx, session, "seen")
        return common.stale_button("/filing")

    # -- state -------------------------------------------------------------------------
    def _session(self, ctx: Context) -> dict[str, Any] | None:
        session = ctx.state.get(self.name)
        if isinstance(session, dict) and session.get("flow") in self.book.flows:
            return session
        return None

    def _outdated(self, ctx: Context) -> list[Reply] | None:
        """A saved walk-through whose flow file has since changed under it (a step removed or
        renamed): say so and offer a fresh start, never the internal-error reply."""
        session = ctx.state.get(self.name)
        if not isinstance(session, dict) or "flow" not in session:
            return None
        flow = self.book.flows.get(str(session["flow"]))
        saved = [session.get("step"), *session.get("history", []), *session.get("answers", {})]
        if flow is not None and all(isinstance(s, str) and s in flow.steps for s in saved):
            return None
        ctx.end_dialogue(self.name)
        token = ctx.next_token()
        buttons = [_button(f"重新开始：{flow.title}", token, Action.START, flow.id)] if flow is not None else []
        buttons.append(_button("备案事项列表", token, Action.MENU))
        text = "备案指引的流程已经更新，您上次的进度无法接着办理，需要重新开始。已答过的问题请再选一次。"
        return [Reply(text, buttons, {"intent": self.name, "outdated": True})]

    def _current(self, session: dict[str, Any]) -> tuple[Flow, Step]:
        flow = self.book.flows[session["flow"]]
        return flow, flow.step(session["step"])

    def _begin(self, ctx: Context, flow: Flow, told: dict[str, Any] | None = None) -> list[Reply]:
        """Start `flow`; `told` holds answers the user's own words already gave (free text)."""
        session: dict[str, Any] = {"flow": flow.id, "step": flow.start, "history": [], "answers": {}, "ticks": {}}
        if told is not None:
            session["told"] = told
        ctx.state[self.name] = session
        ctx.activate(self.name)
        first = _told_answer(flow, session, flow.step(flow.start))
        if first is None:
            return self._show(ctx, session)
        return self._answer(ctx, session, first, replace=False, said=[_told_note(flow.step(flow.start), first)])

    def _answer(
        self,
        ctx: Context,
        session: dict[str, Any],
        answer: Any,
        replace: bool = True,
        said: list[str] | None = None,
    ) -> list[Reply]:
        """Record the answer to the current step and move on, through decisions and through
        questions the user already answered in their first message."""
        flow = self.book.flows[session["flow"]]
        said = list(said or [])
        while True:
            step = flow.step(session["step"])
            session["answers"][step.id] = answer
            session["history"].append(step.id)
            # Say right away what the answer means (the same lines the checklist will hold).
            if step.kind in ("choice", "check", "percent"):
                lines = step_lines(step, answer, session["answers"])
                said += [f"👉 {line.text}" for line in lines if line.status in ("todo", "missing")]
            next_id = flow.next_of(step, answer, session["answers"])
            while next_id is not None and flow.step(next_id).kind == "decide":
                decide = flow.step(next_id)
                session["history"].append(decide.id)
                said += [f"👉 {line.text}" for line in step_lines(decide, None, session["answers"])]
                next_id = flow.next_of(decide, None, session["answers"])
            if next_id is None or flow.step(next_id).kind == "end":
                return self._finish(ctx, session)
            session["step"] = next_id
            answer = _told_answer(flow, session, flow.step(next_id))
            if answer is None:
                return self._show(ctx, session, note="\n".join(said), replace=replace)
            said.append(_told_note(flow.step(next_id), answer))

    def go_back(self, ctx: Context) -> list[Reply]:
        """ "上一步" typed instead of pressed."""
        session = self._session(ctx)
        if session is None or session.get("done"):
            return common.notice(self.name, "当前没有可以返回的步骤。发送 /filing 开始备案指引。")
        ctx.next_token()  # the buttons of the step left behind go stale
        return self._back(ctx, session)

    def _back(self, ctx: Context, session: dict[str, Any]) -> list[Reply]:
        flow = self.book.flows[session["flow"]]
        while session["history"]:
            step_id = session["history"].pop()
            session["answers"].pop(step_id, None)
            if flow.step(step_id).kind != "decide":
                session["step"] = step_id
                return self._show(ctx, session, note="好的，回到上一步。", replace=True)
        return self._show(ctx, session, note="已经是第一步了。")

    # -- entry from free text ----------------------------------------------------------
    def _enter_from_text(self, ctx: Context, text: str) -> list[Reply]:
        flow = self._pick_flow(text)
        if flow is None:
            return self._menu(ctx, note="请先选择要办理的备案事项：")
        return self._begin(ctx, flow, _told(flow, text))

    def _pick_flow(self, text: str) -> Flow | None:
        """The flow the text is about: its trigger words, each weighted down by how many
        flows share it, plus its place if the text names it. None when unclear (a tie)."""
        flows = list(self.book.flows.values())
        sharing = Counter(t for f in flows for t in set(f.triggers))
        # Places as users name them, districts included (溧水 is 南京, 即墨 is 青岛).
        regions, _ = shared_lexicon().regions_in(normalise(text))
        named = [f.place for f in flows if f.place and (f.place in text or f.region in regions)]

        def score(flow: Flow) -> float:
            words = sum(len(t) / sharing[t] for t in flow.triggers if t in text)
            if flow.place in named:
                return words + PLACE_WEIGHT
            # A flow for another place than the one named is not what the user means.
            return words * (OTHER_PLACE_FACTOR if named else 1.0)

        scored = sorted(((score(f), f.id) for f in flows), reverse=True)
        if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            return None
        return self.book.flows[scored[0][1]]

    # -- replies -----------------------------------------------------------------------
    def _menu(self, ctx: Context, note: str = "") -> list[Reply]:
        token = ctx.next_token()
        lines = [note or "请选择要办理的备案事项（每一步都注明文件依据，可随时返回上一步或取消）："]
        lines += [f"· **{f.title}**：{f.summary}" for f in self.book.flows.values()]
        buttons = [_button(f.title, token, Action.START, f.id) for f in self.book.flows.values()]
        return [Reply("\n".join(lines), buttons, {"intent": self.name, "flow": None, "step": "menu"})]

    def _offer_resume(self, ctx: Context, session: dict[str, Any]) -> list[Reply]:
        flow, step = self._current(session)
        done, total = _progress(flow, session)
        token = ctx.next_token()
        text = f"您上次的「{flow.title}」进行到第{done}/{total}步。要接着办吗？"
        buttons = [
            _button("继续", token, Action.RESUME),
            _button("重新开始", token, Action.RESTART),
            _button("选择其他事项", token, Action.MENU),
        ]
        payload = {"intent": self.name, "flow": flow.id, "step": step.id, "progress": f"{done}/{total}", "resume": True}
        return [Reply(text, buttons, payload)]

    def _show(self, ctx: Context, session: dict[str, Any], note: str = "", replace: bool = False) -> list[Reply]:
        flow, step = self._current(session)
        ctx.activate(self.name)
        done, total = _progress(flow, session)
        token = ctx.next_token()
        lines = [note] if note else []
        lines.append(f"**{flow.title}**　第{done}/{total}步")
        lines.append(step.ask)
        ticks = set(session["ticks"].get(step.id, []))
        if step.kind in ("info", "checklist"):
            for i, item in enumerate(step.items):
                mark = ("☑" if i in ticks else "☐") if step.kind == "checklist" else f"{i + 1}."
                lines.append(f"{mark} {item.text}")
        if step.source is not None:
            lines.append(source_line(step.source, self.sources[step.source]))
        buttons = _step_buttons(step, token, ticks)
        if session["history"]:
            buttons.append(_button("上一步", token, Action.BACK))
        if step.skippable:
            buttons.append(_button("跳过", token, Action.SKIP))
        buttons.append(_button("取消", token, Action.CANCEL))
        payload = {
            "intent": self.name,
            "flow": flow.id,
            "step": step.id,
            "kind": step.kind,
            "progress": f"{done}/{total}",
            "answers": dict(session["answers"]),
            # Once the walk-through has decided the user's path, the clause it rests on is not
            # sent again alongside (PolicyQA.alongside): its other sentences would contradict
            # the path found. Before that, the clause is the answer the user has so far.
            "cites": [f"{step.source.doc} {step.source.clause}"] if step.source and _decided(flow, session) else [],
        }
        return [Reply("\n".join(line for line in lines if line), buttons, payload, replace=replace)]

    def _finish(self, ctx: Context, session: dict[str, Any]) -> list[Reply]:
        flow = self.book.flows[session["flow"]]
        session["done"] = True
        session["finished_at"] = ctx.now.isoformat(timespec="seconds")
        ctx.step_aside()
        lines = checklist(flow, session["history"], session["answers"])
        closed = any(line.status == "closed" for line in lines)
        token = ctx.next_token()
        text = render_checklist(flow, lines)
        if closed:
            text += "\n" + self._alternatives(flow, session)
        buttons = [
            _button("导出清单", token, Action.EXPORT),
            _button("重新开始", token, Action.RESTART),
        ]
        payload = {
            "intent": self.name,
            "flow": flow.id,
            "step": "end",
            "progress": "done",
            "outcome": "closed" if closed else "ok",
            "answers": dict(session["answers"]),
            "checklist": [line.to_json() for line in lines],
        }
        return [Reply(text, buttons, payload, replace=True)]

    def _alternatives(self, flow: Flow, session: dict[str, Any]) -> str:
        """For a closed combination, which choices of the last question would have been open."""
        answers = session["answers"]
        choices = [s for s in session["history"] if flow.step(s).kind == "choice"]
        decide = next((flow.step(s) for s in reversed(session["history"]) if flow.step(s).kind == "decide"), None)
        if not choices or decide is None:
            return ""
        last = flow.step(choices[-1])
        if not isinstance(last, ChoiceStep) or not isinstance(decide, DecideStep):
            return ""
        open_labels = [o.label for o in _open_options(last, decide, answers)]
        if not open_labels:
            return "按通知，这类机构没有可选的评价范围；请咨询下面的联系人。"
        return f"按通知，这类机构可以选择的{last.item}：{'、'.join(open_labels)}。可点“重新开始”重新选择。"

    def _export(self, ctx: Context) -> list[Reply]:
        session = self._session(ctx)
        if session is None or not session["history"]:
            return [
                Reply(
                    "还没有可以导出的备案清单。发送 /filing 开始备案指引，完成后即可导出。",
                    payload={"intent": self.name, "export": False},
                )
            ]
        flow = self.book.flows[session["flow"]]
        lines = checklist(flow, session["history"], session["answers"])
        content = export_markdown(flow, lines, self.sources, ctx.now, finished=bool(session.get("done")))
        stamp = ctx.now.strftime("%Y%m%d-%H%M%S")
        doc = Document(filename=f"备案清单-{flow.id}-{stamp}.md", content=content)
        note = "" if session.get("done") else "（流程尚未完成，清单只包含已回答的部分。）"
        text = f"已生成「{flow.title}」办理清单。{note}"
        return [Reply(text, payload={"intent": self.name, "export": True, "flow": flow.id}, document=doc)]


def _decided(flow: Flow, session: dict[str, Any]) -> bool:
    return any(flow.step(step_id).kind == "decide" for step_id in session["history"])


def _progress(flow: Flow, session: dict[str, Any]) -> tuple[int, int]:
    shown = sum(1 for s in session["history"] if flow.step(s).kind != "decide")
    return shown + 1, shown + flow.remaining(session["step"])


def _button(label: str, token: object, action: Action, *args: object) -> Button:
    return Button(label, encode(PREFIX, action, *args, token=token))


def _step_buttons(step: Step, token: str, ticks: set[int]) -> list[Button]:
    if step.kind == "choice":
        return [_button(o.label, token, Action.OPTION, i) for i, o in enumerate(step.options)]
    if step.kind == "check":
        return [
            _button("是，已具备", token, Action.YES),
            _button("否，还没有", token, Action.NO),
        ]
    if step.kind == "checklist":
        toggles = [
            Button(
                f"{'☑' if i in ticks else '☐'} {i + 1}. {_short(item.text)}",
                encode(PREFIX, Action.TICK, i, token=token),
            )
            for i, item in enumerate(step.items)
        ]
        return [*toggles, _button("完成", token, Action.DONE)]
    if step.kind == "info":
        return [_button("下一步", token, Action.NEXT)]
    return []


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _typed_answer(step: Step, text: str, session: dict[str, Any]) -> Any:
    """A typed reply read as the answer to the step shown; None if it is not one."""
    text = text.strip()
    if isinstance(step, ChoiceStep):
        if text.isdigit() and 1 <= int(text) <= len(step.options):  # "2" for the second button
            return step.options[int(text) - 1].value
        return _match_option(step, text)
    if step.kind == "check":
        if _NO.match(text):
            return "no"
        if _YES.match(text):
            return "yes"
        return None
    if step.kind == "percent":
        value = proportion(text)
        if value is None:
            value = parse_percent(text)  # a bare number: "15"
        if value is None:
            return None
        if not 0 <= value <= 100:
            return f"bad:比例应在0%到100%之间，您输入的是{value:g}%。请重新输入，例如“15%”。"
        return value
    if step.kind == "checklist":
        if _ALL_WORDS.search(text):
            return list(range(len(step.items)))
        if _DONE_WORDS.match(text):
            return session["ticks"].get(step.id, [])
        return None
    if step.kind == "info" and _NEXT_WORDS.match(text.lower()):
        return "seen"
    return None


def _match_option(step: ChoiceStep, text: str) -> str | None:
    """The option whose label or words the text names; the longest match wins a tie."""
    best: tuple[int, str] | None = None
    tied = False
    for option in step.options:
        length = max((len(w) for w in (option.label, *option.words) if w and _said(w, text)), default=0)
        if length == 0:
            continue
        if best is None or length > best[0]:
            best, tied = (length, option.value), False
        elif length == best[0]:
            tied = True
    return None if best is None or tied else best[1]


_NEGATED = re.compile(r"不是|并非|不属于|没有|不算|非")


def _said(word: str, text: str) -> bool:
    """The text names the word and does not deny it just before ("我们不是省重点技工院校"
    names a 技工院校, but no 省重点)."""
    start = text.find(word)
    while start >= 0:
        if not _NEGATED.search(text[max(0, start - 4) : start]):
            return True
        start = text.find(word, start + 1)
    return False


def _told(flow: Flow, text: str) -> dict[str, Any]:
    """Answers the user's first message already gives, for any question of the flow: an
    option named in it, or a percentage. Steps marked `from_text = false` (yes/no questions
    whose words are too common) are never answered this way."""
    told: dict[str, Any] = {}
    for step in flow.steps.values():
        if not step.from_text:
            continue
        if isinstance(step, ChoiceStep):
            option = _match_option(step, text)
            if option is not None:
                told[step.id] = option
        elif step.kind == "percent":
            share = proportion(text)  # 三成, 一半多, 四分之一, "100人里有15个外地的"
            if share is not None and 0 <= share <= 100:
                told[step.id] = share
    return told


def _told_answer(flow: Flow, session: dict[str, Any], step: Step) -> Any:
    told = session.get("told")
    if told is None or step.id in session["answers"]:
        return None
    if step.id in told:
        return told[step.id]
    return _only_open_option(flow, step, session["answers"])


def _told_note(step: Step, answer: Any) -> str:
    option = step.option(str(answer)) if isinstance(step, ChoiceStep) else None
    shown = option.label if option is not None else f"{answer:g}%"
    return f"根据您的描述，{step.item}：{shown}"


def _open_options(step: ChoiceStep, decide: DecideStep, answers: dict[str, Any]) -> list[Option]:
    """The options of `step` for which `decide` reaches an open (not closed) rule."""
    return [
        o
        for o in step.options
        if (rule := decide.rule_for({**answers, step.id: o.value})) is not None and rule.outcome != "closed"
    ]


def _only_open_option(flow: Flow, step: Step, answers: dict[str, Any]) -> str | None:
    """If just one option of this question leads anywhere open, the user's earlier answers
    already decide it (南京市属企业 can only file for 企业内自主评价)."""
    if not answers or not isinstance(step, ChoiceStep):
        return None
    following = [s for t in step.successors() if isinstance(s := flow.step(t), DecideStep)]
    if len(following) != 1:
        return None
    open_options = _open_options(step, following[0], answers)
    return open_options[0].value if len(open_options) == 1 else None


def _reprompt(step: Step) -> str:
    hints = {
        "choice": "请点击下面的按钮选择，或输入选项中的文字。",
        "check": "请回答“是”或“否”，或点击按钮。",
        "percent": "请输入一个百分比，例如“15%”。",
        "checklist": "请点选已准备好的材料，选完后点“完成”（也可输入“完成”）。",
        "info": "看完后请点“下一步”（或输入“下一步”）。",
    }
    return f"没能识别您的回答。{hints.get(step.kind, '')}发送 /cancel 可退出，进度会保留到您取消为止。"


def render_checklist(flow: Flow, lines: list[Line]) -> str:
    """The checklist as a chat message."""
    return "\n".join([f"**{flow.title}** 办理清单", *_checklist_sections(lines, heading="")])


def _checklist_sections(lines: list[Line], heading: str) -> list[str]:
    out: list[str] = []
    for status, title in STATUS_TITLES:
        group = [line for line in lines if line.status == status]
        if not group:
            continue
        out.append(heading + title)
        for line in group:
            src = f"（{line.source.label}）" if line.source else ""
            out.append(f"- {line.text}{src}")
    return out


def export_markdown(
    flow: Flow, lines: list[Line], sources: dict[SourceRef, Passage], now: datetime, finished: bool
) -> str:
    body = "\n".join(_checklist_sections(lines, heading="## "))
    cited_refs = sorted({line.source for line in lines if line.source}, key=lambda r: r.label)
    refs = "\n".join(f"- {cited(ref.label, sources[ref])}" for ref in cited_refs if ref in sources)
    status = "已完成" if finished else "未完成（只含已回答部分）"
    return (
        f"# {flow.title} 办理清单\n\n生成时间：{now:%Y-%m-%d %H:%M}　状态：{status}\n\n"
        f"{body}\n\n## 依据文件\n{refs}\n\n"
        "> 本清单依据公开文件整理，具体办理以当地人社部门要求为准；咨询电话 12333。\n"
    )
