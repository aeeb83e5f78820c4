"""python-telegram-bot adapter: a thin shell that hands every update to the engine via
TelegramChannel, exactly as the aiogram adapter does."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta

# PTB 22 deprecates retry_after as an int in favour of a timedelta; opt in now (classify
# reads both) so PTB's own code stops warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, InlineQueryHandler, MessageHandler, filters

from bot.engine import Engine
from bot.telegram.core import Classified, Fault, TelegramChannel, bot_commands, classify_bad_request, poll
from bot.telegram.render import KeyButton

log = logging.getLogger(__name__)


def classify(exc: BaseException) -> Classified | None:
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        return Classified(Fault.RETRY_AFTER, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    if isinstance(exc, Forbidden):
        return Classified(Fault.GONE)
    if isinstance(exc, BadRequest):  # a subclass of NetworkError in PTB, so it comes first
        return classify_bad_request(str(exc))
    if isinstance(exc, NetworkError):
        return Classified(Fault.NETWORK)
    return None


def _markup(rows: list[list[KeyButton]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(k.text, callback_data=k.callback_data) for k in row] for row in rows]
    )


class PtbOutbox:
    def __init__(self, app: Application) -> None:
        self.bot = app.bot

    async def send_text(self, chat_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        await self.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=_markup(rows))

    async def edit_text(self, chat_id: int, message_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        await self.bot.edit_message_text(
            html, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=_markup(rows)
        )

    async def send_document(self, chat_id: int, filename: str, data: bytes, caption: str) -> None:
        await self.bot.send_document(chat_id, data, filename=filename, caption=caption, parse_mode=ParseMode.HTML)


def make_application(engine: Engine, token: str, api_url: str | None) -> Application:
    builder = Application.builder().token(token).concurrent_updates(256)
    if api_url:
        base = api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    app = builder.build()
    channel = TelegramChannel(engine, classify, "telegram")
    outbox = PtbOutbox(app)

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.from_user is None:
            return
        text = message.text or message.caption
        await channel.on_message(outbox, update.update_id, message.from_user.id, message.chat.id, text)

    async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await channel.delivery.call("answerCallbackQuery", query.answer)
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        message_id = message.message_id if message is not None else None
        await channel.on_button(outbox, update.update_id, query.from_user.id, chat_id, message_id, query.data or "")

    async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        results = [
            InlineQueryResultArticle(
                id=r.id,
                title=r.title,
                description=r.description,
                input_message_content=InputTextMessageContent(r.html, parse_mode=ParseMode.HTML),
            )
            for r in await channel.inline_results(query.from_user.id, query.query)
        ]
        await channel.delivery.call("answerInlineQuery", lambda: query.answer(results, cache_time=60))

    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, on_message))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_error_handler(_log_error)
    app.bot_data["channel"] = channel
    app.bot_data["failed"] = set()  # update ids whose handling raised: the poller must not confirm them
    return app


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update):
        context.application.bot_data["failed"].add(update.update_id)


async def _set_commands(app: Application) -> None:
    channel: TelegramChannel = app.bot_data["channel"]
    commands = [BotCommand(c, d) for c, d in bot_commands()]
    await channel.delivery.call("setMyCommands", lambda: app.bot.set_my_commands(commands))


async def run_polling(
    engine: Engine, token: str, api_url: str | None, polling_timeout: int = 30, stopping: asyncio.Event | None = None
) -> None:
    """Our own getUpdates loop (core.poll): PTB's Updater confirms updates before handling them."""
    app = make_application(engine, token, api_url)
    failed: set[int] = app.bot_data["failed"]

    async def fetch(offset: int | None, timeout: int) -> list[Update]:
        return list(await app.bot.get_updates(offset=offset, timeout=timeout, read_timeout=timeout + 10))

    async def handle(update: Update) -> None:
        await app.process_update(update)
        if update.update_id in failed:  # PTB logs handler errors, never raises
            failed.discard(update.update_id)
            raise RuntimeError(f"update {update.update_id} not handled")

    async with app:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await _set_commands(app)
        await poll(fetch, lambda u: u.update_id, handle, stopping or asyncio.Event(), polling_timeout)


async def run_webhook(
    engine: Engine, token: str, api_url: str | None, url: str, port: int, path: str, secret: str
) -> None:
    app = make_application(engine, token, api_url)
    async with app:
        await _set_commands(app)
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="0.0.0.0", port=port, url_path=path.lstrip("/"), webhook_url=url, secret_token=secret
        )
        await app.start()
        log.info("ptb webhook listening on :%d%s for %s", port, path, url)
        try:
            await asyncio.Event().wait()
        finally:
            await app.updater.stop()
            await app.stop()
