"""Policy Q&A: the clause that answers, its source, and an honest "not covered" otherwise."""

from __future__ import annotations

import re
from collections.abc import Collection

from handlers import common
from handlers.base import Button, Context, Reply
from handlers.buttons import Action, decode, encode
from knowledge.base import NATIONAL_HOTLINE, KnowledgeBase, tidy_contact
from knowledge.hits import citation, result_json
from knowledge.lexicon import normalise
from knowledge.retrieval import Passage, SearchResult
from knowledge.sources import squeeze
from storage.qa_log import log_question, record_vote

RELATED_MAX = 2
# A related clause is offered only if it scores at least this share of the best one.
RELATED_MIN_RATIO = 0.5
_SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")
_FULL_SENTENCE = re.compile(r"[^。！？\n]+[。！？]?")


def answering_sentences(
    text: str, terms: dict[str, float], evidence: list[str] | None = None, whole: bool = False
) -> list[str]:
    """The sentence(s) of the clause that answer: those holding the quotes of the nearest bank
    questions (the bank knows which sentence answers what; nearer questions weigh more), else
    those carrying most of the question's terms; in clause order. A form or list is shown whole.

    The choice is made between the parts of sentences (up to a ；), but a chosen part is shown
    with the rest of its sentence: "占比10%—50%的，报设区市…备案；" alone is a third of a rule
    whose other bands a hotline worker would leave out of the reply."""
    parts = [m for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    if whole or len(parts) <= 1:
        return [text.strip()]
    chosen = _chosen_parts([m.group(0).strip() for m in parts], terms, evidence)
    sentences = [m for m in _FULL_SENTENCE.finditer(text) if m.group(0).strip()]
    starts = [parts[i].start() for i in chosen]
    return [m.group(0).strip() for m in sentences if any(m.start() <= at < m.end() for at in starts)]


def _chosen_parts(parts: list[str], terms: dict[str, float], evidence: list[str] | None) -> list[int]:
    if evidence:
        squeezed = [squeeze(s) for s in parts]
        votes = [0.0] * len(parts)
        for rank, quote in enumerate(evidence):
            q = squeeze(quote)
            for i, s in enumerate(squeezed):
                if q in s or (len(q) > 12 and q[:12] in s):
                    votes[i] += 1 / (1 + rank)
        if max(votes) > 0:
            return [i for i, v in enumerate(votes) if v >= 0.5 * max(votes)]
    norm_terms = {normalise(t): w * len(t) for t, w in terms.items() if len(t) > 1}
    scores = [sum(w for t, w in norm_terms.items() if t in normalise(s)) for s in parts]
    best = max(scores)
    if best <= 0:
        return [0]
    return [i for i, score in enumerate(scores) if score >= 0.75 * best]


def whose_rule(asked: set[str], p: Passage, kb: KnowledgeBase) -> str:
    """Say whose rule this is, and whether it binds the place the user asked about."""
    if not asked or p.region in asked:
        return f"【{p.region}的规定】"
    asked_name = "、".join(sorted(_short_region(a) for a in asked))
    if any(p.region in kb.lexicon.ancestors(name) for name in asked):
        return f"【{p.region}的规定，同样适用于{asked_name}】"
    return f"【注意：这是{p.region}的规定，{asked_name}的做法可能不同，请以当地文件为准】"


class PolicyQA:
    name = "qa"
    prefix = "qa"
    title = "政策问答"

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.kb = knowledge

    def interrupts(self, text: str) -> bool:
        return False

    def claims(self, text: str) -> bool:
        return True

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        if not args:
            return common.notice("qa", "请直接输入您的问题，例如：“异地选手占比超过50%向谁备案？”")
        return await self._answer(ctx, args)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        return await self._answer(ctx, ctx.text)

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        return None  # Q&A keeps no dialogue of its own

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        press = decode(data)
        if press is None:
            return common.stale_button()
        if press.action is Action.CLAUSE and press.arg().isdigit():
            passage = self.kb.passage(int(press.arg()))
            if passage is not None:
                return [self._clause_reply(passage)]
        if press.action is Action.VOTE and press.arg(0).isdigit() and press.arg(1) in ("up", "down"):
            return await self._feedback(ctx, int(press.arg(0)), 1 if press.arg(1) == "up" else -1)
        return common.stale_button()

    async def lookup(self, ctx: Context, k: int) -> tuple[SearchResult, str]:
        """A hotline lookup (Telegram inline mode): the clauses for ctx.text, logged like any
        question so the gap report sees it, and the refusal the chat would give when none answers."""
        result = self.kb.search(ctx.text, k=k)
        await log_question(ctx.session, ctx.incoming.user_id, ctx.text, result)
        return result, "" if result.answered else self.refusal(result).text

    async def alongside(self, ctx: Context, cited: Collection[str] = ()) -> list[Reply]:
        """The clause that answers a question which started another capability's dialogue
        (a filing walk-through), or nothing: a refusal there would only be noise, and a clause
        the dialogue's reply already cites ("文号 条款" in `cited`) would only repeat it, often
        with sentences other than the one the dialogue found for this user."""
        result = self.kb.search(ctx.text, k=1 + RELATED_MAX)
        if not result.answered:
            return []
        best = result.hits[0].passage
        if f"{best.doc_no} {best.path}" in cited:
            return []
        replies = await self._answer(ctx, ctx.text, result)
        replies[0].text = "【相关条款】\n" + replies[0].text
        return replies

    async def _answer(self, ctx: Context, question: str, result: SearchResult | None = None) -> list[Reply]:
        result = result or self.kb.search(question, k=1 + RELATED_MAX)
        if not result.answered:
            await log_question(ctx.session, ctx.incoming.user_id, question, result)
            return [self.refusal(result)]
        best = result.hits[0]
        qa_id = await log_question(ctx.session, ctx.incoming.user_id, question, result)
        lead = as_shown(
            answering_sentences(best.passage.text, result.terms, result.evidence, whole_clause(best.passage)),
            best.passage,
        )
        text = "\n".join(
            [
                whose_rule(result.regions, best.passage, self.kb),
                *(f"**{sentence}**" for sentence in lead),
                "",
                citation(best.passage),
            ]
        )
        related = [h for h in result.hits[1:] if h.score >= RELATED_MIN_RATIO * best.score][:RELATED_MAX]
        buttons = [Button("📄 查看条款全文", encode(self.prefix, Action.CLAUSE, best.passage.id))]
        buttons += [
            Button(f"相关：{_label(h.passage)}", encode(self.prefix, Action.CLAUSE, h.passage.id)) for h in related
        ]
        buttons += [
            Button("👍 有帮助", encode(self.prefix, Action.VOTE, qa_id, "up")),
            Button("👎 没帮助", encode(self.prefix, Action.VOTE, qa_id, "down")),
        ]
        payload = {"intent": "qa", "qa_id": qa_id, **result_json(result)}
        return [Reply(text=text, buttons=buttons, payload=payload)]

    def refusal(self, result: SearchResult) -> Reply:
        """An honest refusal that says where to go: the referral of the out-of-scope topic the
        question is nearest to, else 12333 and the contacts of the region asked about."""
        payload = {"intent": "qa", "answered": False, "hits": [], "reason": result.reason, "topic": result.topic}
        # "other" has no referral of its own: the region's contacts and 12333 serve better.
        topic = self.kb.referral(result.topic) if result.topic not in ("", "other") else None
        if topic is not None and topic.id == "chitchat":
            return Reply(text=topic.referral, buttons=list(common.MENU_BUTTONS), payload=payload)
        if result.uncovered_places and not result.regions:
            places = "、".join(sorted(result.uncovered_places))
            head = f"知识库里暂时没有{places}的政策文件，无法回答这个问题。现有文件覆盖：全国、江苏、南京、青岛、黄石。"
        elif result.reason == "other_region":
            places = "、".join(sorted(_short_region(r) for r in result.regions))
            head = f"现有文件里没有{places}关于这个问题的规定（只有别处的），我不能拿别处的规定作答。"
        else:
            head = "抱歉，现有的政策文件里没有找到能回答这个问题的条款，我不能凭猜测作答。"
        lines = [head, ""]
        if topic is not None:
            lines.append(f"【{topic.name}】{topic.referral}")
        # The places asked about get their own contacts, and never a 举报电话 as general help.
        contacts = [c for c in self.kb.contacts_for(result.regions) if "举报" not in c.text] if result.regions else []
        # A place whose notice gives no contact is still named: its own office is the referral.
        uncontacted = sorted({_short_region(r) for r in result.regions} - {_short_region(c.region) for c in contacts})
        if contacts or topic is None:
            lines.append("您可以咨询：")
            lines += [f"· {c.text}（{c.doc_no}）" for c in contacts[:2]]
            lines += [f"· {place}当地人力资源社会保障部门" for place in uncontacted if place != "全国"]
        if topic is None:
            lines.append(f"· 全国人社服务热线 {NATIONAL_HOTLINE}")
        return Reply(text="\n".join(lines), payload=payload)

    def _clause_reply(self, p: Passage) -> Reply:
        text = f"【{p.region}的规定】\n{p.text}\n\n{citation(p)}"
        payload = {"intent": "qa", "clause": {"doc_no": p.doc_no, "clause": p.path, "text": p.text}}
        return Reply(text=text, payload=payload)

    async def _feedback(self, ctx: Context, qa_id: int, vote: int) -> list[Reply]:
        if not await record_vote(ctx.session, qa_id, ctx.incoming.user_id, vote):
            return common.stale_button()
        text = "感谢您的反馈！" if vote > 0 else "感谢反馈，我们会据此补充和改进知识库。"
        return common.notice("qa_feedback", text, qa_id=qa_id, vote=vote)


def whole_clause(p: Passage) -> bool:
    """Forms and material lists read as a whole."""
    return p.kind == "attachment"


def as_shown(lead: list[str], p: Passage) -> list[str]:
    """An answer's leading sentences as the user reads them: a sign-off's contact lines tidied,
    with the office they belong to when no line says (青岛's reads only "(联系人: 刘崑 联系电话:
    85845299)"); other clauses' sentences as they stand."""
    if p.kind != "closing" or not any("联系人" in s or "电话" in s for s in lead):
        return lead
    tidy = ["\n".join(tidy_contact(line) for line in s.splitlines()) for s in lead]
    if any(word in s for s in tidy for word in _OFFICE_WORDS):
        return tidy
    return [f"{p.issuer}　{tidy[0]}", *tidy[1:]]


_OFFICE_WORDS = ("中心", "局", "厅", "部", "单位", "办公室")


def _short_region(name: str) -> str:
    """ "江苏省南京市" reads as "南京市" once the province is obvious."""
    return name.rsplit("省", 1)[-1] or name


def _label(p: Passage) -> str:
    label = f"{p.doc_no} {p.path}"
    return label if len(label) <= 30 else label[:29] + "…"
