"""A local fake Telegram Bot API server (aiohttp) for end-to-end tests and benchmarks.

It implements the methods the bot uses, records everything the bot sends, hands out
updates through getUpdates (long polling) or posts them to a webhook, and can inject
faults: 429 with retry_after, dropped connections, 403 for blocked chats.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = 4242
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "SkillBot", "username": "skillbot_test_bot"}
# Fields that clients send JSON-encoded inside form data.
_JSON_FIELDS = ("reply_markup", "commands", "results", "allowed_updates", "entities", "link_preview_options")


@dataclass
class Sent:
    """One thing the bot did in a chat."""

    method: str
    chat_id: int
    message_id: int
    text: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)
    filename: str | None = None
    document: bytes | None = None


class FakeBotAPI:
    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.url = ""
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[Sent] = []
        self.inline_answers: list[dict[str, Any]] = []
        self.blocked_chats: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._faults: dict[str, list[tuple[str, int]]] = {}
        self._runner: web.AppRunner | None = None
        self._messages: dict[int, dict[str, Any]] = {}

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the scripted users do ------------------------------------------------------
    def user_says(self, user_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": f"用户{user_id}"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}", "language_code": "zh-hans"},
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._queue({"message": message}, update_id)

    def user_presses(self, user_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
        if message_id is None:
            message_id = next(s.message_id for s in reversed(self.sent) if s.chat_id == user_id and s.buttons)
        message = self._messages.get(message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": BOT_USER,
            "text": "…",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
            "message": message,
            "chat_instance": str(user_id),
            "data": data,
        }
        return self._queue({"callback_query": query})

    def user_inline(self, user_id: int, query: str) -> dict[str, Any]:
        inline = {
            "id": str(next(self._callback_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
            "query": query,
            "offset": "",
        }
        return self._queue({"inline_query": inline})

    def _queue(self, body: dict[str, Any], update_id: int | None = None) -> dict[str, Any]:
        update = {"update_id": update_id if update_id is not None else next(self._update_ids), **body}
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    webhook_secret = "test-secret"

    async def post_webhook(self, url: str, update: dict[str, Any], secret: str | None = "") -> int:
        """Deliver one update to a webhook worker, as Telegram (or a load balancer) would,
        with the secret header (the configured one by default; None sends none)."""
        self._updates.remove(update)
        secret = self.webhook_secret if secret == "" else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with aiohttp.ClientSession() as session, session.post(url, json=update, headers=headers) as response:
            return response.status

    # -- faults --------------------------------------------------------------------------
    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` fail: "429" (with retry_after) or "drop"."""
        self._faults.setdefault(method, []).extend([(kind, retry_after)] * times)

    # -- waiting -------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(wait(), timeout)

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Sent]:
        await self.wait_for(lambda: len(self.to(chat_id)) >= count, timeout)
        return self.to(chat_id)

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # -- the Bot API ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        fault = self._faults.get(method)
        if fault:
            kind, retry_after = fault.pop(0)
            self.calls.append((f"{method}:{kind}", params))
            if kind == "429":
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
                return web.json_response(body, status=429)
            if request.transport is not None:
                request.transport.close()  # the connection drops mid-request
            return web.Response(status=500)
        self.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        chat_id = params.get("chat_id")
        if chat_id is not None and int(chat_id) in self.blocked_chats:
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return web.json_response(body, status=403)
        result = await handler(params)
        async with self._changed:
            self._changed.notify_all()
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    params[part.name] = (part.filename, await part.read())  # type: ignore[union-attr]
                else:
                    params[part.name] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(await request.post())
        for name in _JSON_FIELDS:
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        message = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": f"用户{chat_id}"},
            "from": BOT_USER,
            "text": text,
        }
        self._messages[message["message_id"]] = message
        return message

    @staticmethod
    def _buttons(params: dict[str, Any]) -> list[dict[str, str]]:
        markup = params.get("reply_markup") or {}
        return [dict(b) for row in markup.get("inline_keyboard", []) for b in row]

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)  # short, so tests stop quickly
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            try:
                await self.wait_for(lambda: bool(self._updates), timeout)
            except TimeoutError:
                return []
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(int(params["chat_id"]), str(params["text"]))
        self.sent.append(
            Sent("sendMessage", message["chat"]["id"], message["message_id"], message["text"], self._buttons(params))
        )
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(int(params["chat_id"]), str(params["text"]), int(params["message_id"]))
        self.sent.append(
            Sent(
                "editMessageText", message["chat"]["id"], message["message_id"], message["text"], self._buttons(params)
            )
        )
        return message

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = params["document"]
        if isinstance(document, str) and document.startswith("attach://"):  # aiogram's way
            document = params[document.removeprefix("attach://")]
        filename, data = document if isinstance(document, tuple) else ("file", b"")
        message = self._message(int(params["chat_id"]), "")
        message.pop("text")
        message["document"] = {"file_id": f"f{message['message_id']}", "file_unique_id": "u", "file_name": filename}
        self.sent.append(
            Sent(
                "sendDocument",
                message["chat"]["id"],
                message["message_id"],
                params.get("caption", ""),
                [],
                filename,
                data,
            )
        )
        return message

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        self.inline_answers.append(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
