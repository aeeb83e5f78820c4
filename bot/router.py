"""Decides which capability an incoming message is for: command, button, dialogue, or intent."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.textclean import MAX_MESSAGE_CHARS, has_words
from handlers import common
from handlers.base import Context, Reply
from handlers.capability import Capability
from knowledge.intents import INTENTS

# Command → capability name. /export belongs to the filing checklists.
COMMAND_TARGETS = {
    "ask": "qa",
    "filing": "filing",
    "eligibility": "eligibility",
    "cert": "certificate",
    "export": "filing",
}


_CANCEL_WORDS = re.compile(
    r"(?:取消|退出|结束|不办了|不弄了|不查了|不测了|算了|算了吧|算了不弄了|算了不办了|不用了|cancel|quit|exit)"
    r"[。！!~～ ]*",
    re.I,
)
_BACK_WORDS = re.compile(r"(?:上一步|返回|返回上一步|后退|退回|上一个|上一题|back)[。！!~～ ]*", re.I)
# The label of the checklist's export button, typed: the same as /export.
_EXPORT_WORDS = re.compile(r"(?:导出|下载|生成|发我|给我)(?:备案)?(?:办理)?(?:材料)?清单[。！!~～ ]*|export", re.I)


class Router:
    def __init__(
        self,
        capabilities: Sequence[Capability],
        fallback: str = "qa",
        classify: Callable[[str], str] | None = None,
    ) -> None:
        # Free text outside a dialogue goes where `classify` (the intent classifier learnt from
        # labelled utterances) says; without one, to the first capability that claims it.
        self.classify = classify
        self.capabilities = list(capabilities)
        self.by_name = {c.name: c for c in self.capabilities}
        self.by_prefix = {c.prefix: c for c in self.capabilities}
        self.fallback = self.by_name[fallback]

    async def route(self, ctx: Context) -> list[Reply]:
        if ctx.incoming.button is not None:
            return await self._button(ctx, ctx.incoming.button)
        text = ctx.text
        if not text:
            return common.empty_message()
        if len(text) > MAX_MESSAGE_CHARS:
            return common.too_long(len(text), MAX_MESSAGE_CHARS)
        if text.startswith("/"):
            return await self._command(ctx, text)
        if not has_words(text):
            return common.no_words()
        if common.is_greeting(text):
            return common.welcome()
        active = self._active(ctx)
        # Dialogue words typed instead of pressed: "取消", "算了不弄了", "上一步", "返回".
        if _CANCEL_WORDS.fullmatch(text):
            return self._cancel(ctx)
        if _EXPORT_WORDS.fullmatch(text):
            return await self._command(ctx, "/export")
        if active is not None and _BACK_WORDS.fullmatch(text) and hasattr(active, "go_back"):
            return active.go_back(ctx)
        interrupting = next((c for c in self.capabilities if c is not active and c.interrupts(text)), None)
        if interrupting is not None:
            return await interrupting.on_free_text(ctx)
        if active is not None:
            replies = await active.on_text(ctx)
            if replies is not None:
                return replies
        target = self._by_intent(text)
        replies = await target.on_free_text(ctx)
        if getattr(target, "answers_alongside", False) and hasattr(self.fallback, "alongside"):
            cited = {c for r in replies for c in r.payload.get("cites", [])}
            replies += await self.fallback.alongside(ctx, cited)
        return replies

    def _by_intent(self, text: str) -> Capability:
        # A capability the classifier was not trained for (a plug-in without utterances)
        # still claims its text by its own rule; the rest go where the classifier says.
        for capability in self.capabilities:
            learnt = self.classify is not None and capability.name in INTENTS
            if capability is not self.fallback and not learnt and capability.claims(text):
                return capability
        if self.classify is not None:
            target = self.by_name.get(self.classify(text), self.fallback)
            accepts = getattr(target, "accepts", None)
            return target if accepts is None or accepts(text) else self.fallback
        return self.fallback

    def _active(self, ctx: Context) -> Capability | None:
        active = ctx.state.get("active")
        if isinstance(active, dict):
            return self.by_name.get(str(active.get("kind")))
        return None

    async def _command(self, ctx: Context, text: str) -> list[Reply]:
        head, _, args = text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()  # "/ask@SkillBot" in group chats
        args = args.strip()
        if name == "start":
            return common.welcome()
        if name == "help":
            return common.help_reply()
        if name == "cancel":
            return self._cancel(ctx)
        target = COMMAND_TARGETS.get(name)
        if target is None:
            return common.unknown_command(name)
        capability = self.by_name[target]
        if name == "export":
            args = "export"
        return await capability.start(ctx, args)

    def _cancel(self, ctx: Context) -> list[Reply]:
        active = self._active(ctx)
        if active is not None:
            ctx.end_dialogue(active.name)
        else:
            ctx.step_aside()
        ctx.next_token()  # buttons of the cancelled step go stale
        return common.cancelled(active.title if active is not None else None)

    async def _button(self, ctx: Context, data: str) -> list[Reply]:
        prefix, _, rest = data.partition(":")
        if prefix == "m" and rest in COMMAND_TARGETS:
            return await self.by_name[COMMAND_TARGETS[rest]].start(ctx, "")
        capability = self.by_prefix.get(prefix)
        if capability is None or not rest:
            return common.stale_button()
        return await capability.on_button(ctx, rest)
