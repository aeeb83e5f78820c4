"""What both Telegram adapters share: turning updates into engine calls, delivering the
replies (edits, splits, documents), Telegram's own faults, and inline answers.

An adapter supplies only an `Outbox` (how its framework sends, edits and uploads) and a
classifier for its framework's exceptions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Protocol, TypeVar

from bot.engine import Engine
from bot.telegram.render import KeyButton, keyboard, split_text, to_html
from handlers import common
from handlers.base import Incoming, Reply
from handlers.common import COMMANDS
from knowledge.hits import citation

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 8.0
INLINE_RESULTS = 5


class Fault(Enum):
    RETRY_AFTER = "retry_after"  # 429: wait as long as Telegram says
    NETWORK = "network"  # connection trouble: back off and retry
    GONE = "gone"  # bot blocked, chat deleted: log and skip
    NOT_MODIFIED = "not_modified"  # an edit that changes nothing
    BAD_REQUEST = "bad_request"  # e.g. message too old to edit: fall back to sending
    FAILED = "failed"  # retries exhausted, or an error we do not know: logged, skipped


@dataclass(frozen=True)
class Classified:
    fault: Fault
    retry_after: float = 0.0


Classifier = Callable[[BaseException], Classified | None]


def classify_bad_request(description: str) -> Classified:
    """A 400 from Telegram, told apart by its description as both frameworks pass it on."""
    text = description.lower()
    if "not modified" in text:
        return Classified(Fault.NOT_MODIFIED)
    if "chat not found" in text:
        return Classified(Fault.GONE)
    return Classified(Fault.BAD_REQUEST)


class Outbox(Protocol):
    async def send_text(self, chat_id: int, html: str, rows: list[list[KeyButton]]) -> None: ...

    async def edit_text(self, chat_id: int, message_id: int, html: str, rows: list[list[KeyButton]]) -> None: ...

    async def send_document(self, chat_id: int, filename: str, data: bytes, caption: str) -> None: ...


@dataclass(frozen=True)
class InlineResult:
    id: str
    title: str
    description: str
    html: str


class Delivery:
    """Calls Telegram with the retry policy: honour 429's retry_after, back off on network
    errors, give up on a blocked bot or deleted chat without ever raising into the poller."""

    def __init__(self, classify: Classifier, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.classify = classify
        self.sleep = sleep

    async def call(self, what: str, fn: Callable[[], Awaitable[object]]) -> Fault | None:
        """None when the call went through; otherwise why it did not."""
        backoff = BACKOFF_START_S
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                await fn()
                return None
            except Exception as exc:
                kind = self.classify(exc)
                if kind is None:
                    log.exception("telegram %s failed", what)
                    return Fault.FAILED
                if kind.fault in (Fault.GONE, Fault.NOT_MODIFIED, Fault.BAD_REQUEST):
                    log.info("telegram %s: %s (%s)", what, kind.fault.value, exc)
                    return kind.fault
                if attempt == MAX_ATTEMPTS:
                    break
                wait = kind.retry_after if kind.fault is Fault.RETRY_AFTER else backoff
                log.warning("telegram %s: %s, retrying in %.1fs (attempt %d)", what, kind.fault.value, wait, attempt)
                await self.sleep(wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
        log.error("telegram %s: giving up after %d attempts", what, MAX_ATTEMPTS)
        return Fault.FAILED


class TelegramChannel:
    def __init__(self, engine: Engine, classify: Classifier, channel: str) -> None:
        self.engine = engine
        self.delivery = Delivery(classify)
        self.channel = channel

    def incoming(self, update_id: int, user_id: int, chat_id: int, text: str | None, button: str | None) -> Incoming:
        return Incoming(
            user_id=user_id,
            chat_id=chat_id,
            text=text,
            button=button,
            update_id=update_id,  # Telegram's update id is the engine's idempotency key
            channel=self.channel,  # the engine marks ADMIN_IDS users as admins
        )

    async def on_message(self, out: Outbox, update_id: int, user_id: int, chat_id: int, text: str | None) -> None:
        if text is None:  # a photo, sticker or voice message: nothing to route, no state to touch
            replies = common.no_words()
        else:
            replies = await self.engine.handle(self.incoming(update_id, user_id, chat_id, text, None))
        await self.deliver(out, chat_id, replies, edit_message_id=None)

    async def on_button(
        self, out: Outbox, update_id: int, user_id: int, chat_id: int, message_id: int | None, data: str
    ) -> None:
        replies = await self.engine.handle(self.incoming(update_id, user_id, chat_id, None, data))
        await self.deliver(out, chat_id, replies, edit_message_id=message_id)

    async def deliver(self, out: Outbox, chat_id: int, replies: list[Reply], edit_message_id: int | None) -> None:
        for i, reply in enumerate(replies):
            parts = split_text(reply.text)
            rows = keyboard(reply.buttons)
            for j, part in enumerate(parts):
                markup = rows if j == len(parts) - 1 else []
                if i == 0 and j == 0 and len(parts) == 1 and reply.replace and edit_message_id is not None:
                    outcome = await self.delivery.call(
                        "editMessageText", partial(out.edit_text, chat_id, edit_message_id, part, markup)
                    )
                    if outcome is Fault.GONE:
                        return
                    if outcome in (None, Fault.NOT_MODIFIED):
                        continue
                    # The message cannot be edited (too old, deleted): send the step anew.
                outcome = await self.delivery.call("sendMessage", partial(out.send_text, chat_id, part, markup))
                if outcome is Fault.GONE:
                    return  # blocked or deleted: nothing more can reach this chat
            if reply.document is not None:
                doc = reply.document
                caption = to_html(f"{doc.filename}")
                await self.delivery.call(
                    "sendDocument", partial(out.send_document, chat_id, doc.filename, doc.content.encode(), caption)
                )

    async def inline_results(self, user_id: int, query: str) -> list[InlineResult]:
        """Hotline staff type keywords in any chat (`@bot 异地选手 比例`): top clauses with
        citations, or the chat's own refusal; asked through the engine, so it is logged."""
        query = query.strip()[:256]
        if not query:
            return []
        result, refusal = await self.engine.lookup(user_id, query, INLINE_RESULTS)
        if not result.answered:
            return [InlineResult("none", "未找到相关条款", refusal, to_html(refusal))]
        out = []
        for hit in result.hits:
            p = hit.passage
            body = f"{p.text}\n\n{citation(p)}"
            title = f"{p.doc_no} {p.path}"[:100]
            out.append(InlineResult(f"p{p.id}", title, p.text[:120].replace("\n", " "), split_text(body)[0]))
        return out


def bot_commands() -> list[tuple[str, str]]:
    """The command menu (setMyCommands), in Chinese."""
    return list(COMMANDS.items())


# -- long polling, at least once ------------------------------------------------------------

POLL_RETRY_S = 2.0
U = TypeVar("U")  # a framework's update type


async def poll(
    fetch: Callable[[int | None, int], Awaitable[list[U]]],
    update_id: Callable[[U], int],
    handle: Callable[[U], Awaitable[None]],
    stopping: asyncio.Event,
    timeout: int = 30,
) -> None:
    """Long polling that confirms an update to Telegram only after the engine committed it.

    Telegram forgets updates below the `offset` of the next getUpdates, so the offset moves
    past a batch only once every update of it was handled: a crash before that means Telegram
    delivers the batch again, and the update id (the engine's idempotency key) makes the second
    delivery a no-op. At least once, and idempotent: exactly once. When `stopping` is set
    (SIGTERM), the batch in hand is finished and confirmed before returning."""
    offset: int | None = None
    while not stopping.is_set():
        fetching = asyncio.ensure_future(fetch(offset, timeout))
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({fetching, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not fetching.done():  # stopped while waiting: nothing fetched is lost, it was never confirmed
            fetching.cancel()
            break
        try:
            batch = fetching.result()
        except Exception:
            log.warning("getUpdates failed; retrying in %.0fs", POLL_RETRY_S, exc_info=True)
            await asyncio.sleep(POLL_RETRY_S)
            continue
        if not batch:
            continue
        results = await asyncio.gather(*(handle(u) for u in batch), return_exceptions=True)
        failed = [update_id(u) for u, r in zip(batch, results, strict=True) if isinstance(r, BaseException)]
        if failed:
            # Not confirmed: Telegram sends them (and the rest of the batch, already done) again.
            log.error("updates %s not handled; they will be delivered again", failed[:5])
            await asyncio.sleep(POLL_RETRY_S)
            continue
        offset = max(update_id(u) for u in batch) + 1
    if offset is not None:
        try:
            await fetch(offset, 0)  # confirm what was handled, without waiting for more
        except Exception:
            log.info("could not confirm the last updates; they will be delivered again and skipped")
