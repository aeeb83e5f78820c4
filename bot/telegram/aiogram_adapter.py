"""aiogram 3 adapter: a thin shell that hands every update to the engine via TelegramChannel."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
    Message,
    Update,
)

from bot.engine import Engine
from bot.telegram.core import Classified, Fault, TelegramChannel, bot_commands, classify_bad_request, poll
from bot.telegram.render import KeyButton

log = logging.getLogger(__name__)


def classify(exc: BaseException) -> Classified | None:
    if isinstance(exc, TelegramRetryAfter):
        return Classified(Fault.RETRY_AFTER, float(exc.retry_after))
    if isinstance(exc, (TelegramNetworkError, TelegramServerError)):
        return Classified(Fault.NETWORK)
    if isinstance(exc, (TelegramForbiddenError, TelegramNotFound)):
        return Classified(Fault.GONE)
    if isinstance(exc, TelegramBadRequest):
        return classify_bad_request(str(exc))
    return None


def _markup(rows: list[list[KeyButton]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=k.text, callback_data=k.callback_data) for k in row] for row in rows
        ]
    )


class AiogramOutbox:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, chat_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        await self.bot.send_message(chat_id, html, reply_markup=_markup(rows))

    async def edit_text(self, chat_id: int, message_id: int, html: str, rows: list[list[KeyButton]]) -> None:
        await self.bot.edit_message_text(text=html, chat_id=chat_id, message_id=message_id, reply_markup=_markup(rows))

    async def send_document(self, chat_id: int, filename: str, data: bytes, caption: str) -> None:
        await self.bot.send_document(chat_id, BufferedInputFile(data, filename=filename), caption=caption)


def make_bot(token: str, api_url: str | None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def make_dispatcher(engine: Engine) -> Dispatcher:
    channel = TelegramChannel(engine, classify, "telegram")
    router = Router(name="skillbot")

    @router.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        if message.from_user is None:
            return
        text = message.text or message.caption
        await channel.on_message(
            AiogramOutbox(bot), event_update.update_id, message.from_user.id, message.chat.id, text
        )

    @router.callback_query()
    async def on_callback(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        await channel.delivery.call("answerCallbackQuery", lambda: query.answer())
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        message_id = message.message_id if isinstance(message, Message) else None
        data = query.data or ""
        await channel.on_button(
            AiogramOutbox(bot), event_update.update_id, query.from_user.id, chat_id, message_id, data
        )

    @router.inline_query()
    async def on_inline(query: InlineQuery) -> None:
        results: list[InlineQueryResultUnion] = [
            InlineQueryResultArticle(
                id=r.id,
                title=r.title,
                description=r.description,
                input_message_content=InputTextMessageContent(message_text=r.html, parse_mode=ParseMode.HTML),
            )
            for r in await channel.inline_results(query.from_user.id, query.query)
        ]
        await channel.delivery.call(
            "answerInlineQuery", lambda: query.answer(results, cache_time=60, is_personal=False)
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)

    @dispatcher.startup()
    async def set_commands(bot: Bot) -> None:
        commands = [BotCommand(command=c, description=d) for c, d in bot_commands()]
        await channel.delivery.call("setMyCommands", lambda: bot.set_my_commands(commands))

    return dispatcher


async def run_polling(
    engine: Engine, token: str, api_url: str | None, polling_timeout: int = 30, stopping: asyncio.Event | None = None
) -> None:
    """Our own getUpdates loop (core.poll): aiogram's confirms updates before handling them."""
    bot = make_bot(token, api_url)
    dispatcher = make_dispatcher(engine)
    await bot.delete_webhook(drop_pending_updates=False)
    await dispatcher.emit_startup(bot=bot)  # setMyCommands

    async def fetch(offset: int | None, timeout: int) -> list[Update]:
        return list(await bot.get_updates(offset=offset, timeout=timeout, request_timeout=timeout + 10))

    async def handle(update: Update) -> None:
        await dispatcher.feed_update(bot, update)  # raises if not handled

    try:
        await poll(fetch, lambda u: u.update_id, handle, stopping or asyncio.Event(), polling_timeout)
    finally:
        await bot.session.close()


async def run_webhook(
    engine: Engine, token: str, api_url: str | None, url: str, port: int, path: str, secret: str
) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    bot = make_bot(token, api_url)
    dispatcher = make_dispatcher(engine)
    app = web.Application()
    handler = SimpleRequestHandler(dispatcher=dispatcher, bot=bot, handle_in_background=False, secret_token=secret)
    handler.register(app, path=path)
    setup_application(app, dispatcher, bot=bot)
    await bot.set_webhook(url, secret_token=secret)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    log.info("aiogram webhook listening on :%d%s for %s", port, path, url)
    try:
        await asyncio.Event().wait()  # until the process is stopped
    finally:
        await runner.cleanup()
        await bot.session.close()
