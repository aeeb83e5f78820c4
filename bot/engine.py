"""The core: one transport-agnostic async function from an incoming message to replies."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.reloading import Reloader
from bot.router import Router
from bot.services import Services
from bot.settings import Settings
from bot.textclean import clean_text
from handlers import common
from handlers.base import Context, Incoming, Reply
from handlers.qa import PolicyQA
from knowledge.retrieval import SearchResult
from storage.db import Database
from storage.state import prune_processed_updates, state_store

log = logging.getLogger(__name__)

# How often a running bot looks for notices added by `skillbot notices add`.
KNOWLEDGE_CHECK_S = 30.0
# Telegram redelivers an update for at most a day; older update ids need not be kept.
UPDATE_ID_RETENTION = timedelta(days=7)


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]


class Engine:
    """Serialises each user's updates (in process, and across processes through the
    database), handles each update exactly once, and keeps the user's state in the same
    transaction as everything the update wrote."""

    def __init__(self, db: Database, services: Services) -> None:
        self.db = db
        self.services = services
        self.router = Router(services.capabilities, classify=services.classify)
        self._user_locks = KeyedLocks()
        self.store = state_store(db.is_sqlite)
        self.reloader = Reloader(db, lambda: self.services, self._swap, KNOWLEDGE_CHECK_S)

    @classmethod
    async def start(cls, settings: Settings) -> Engine:
        db = Database(settings.database_url)
        await db.migrate()
        await prune_processed_updates(db, datetime.now(UTC) - UPDATE_ID_RETENTION)
        services = await Services.load(db, settings)
        return cls(db, services)

    @property
    def knowledge_check_s(self) -> float:
        """How often notices or bank questions added by another process are looked for."""
        return self.reloader.check_s

    @knowledge_check_s.setter
    def knowledge_check_s(self, seconds: float) -> None:
        self.reloader.check_s = seconds

    async def close(self) -> None:
        await self.reloader.close()
        await self.db.dispose()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.reloader.poke()
        incoming = self._normalise(incoming)
        answerable = False
        if incoming.text and not incoming.text.startswith("/"):
            # Searched here, outside the database lock (on SQLite one per process), so the
            # transaction below holds it for reads and writes only: a policy question's search
            # inside it is then a lookup of this one.
            answerable = self.services.knowledge.search(incoming.text).answered
        async with self._user_locks.hold(incoming.user_id):
            try:
                async with self.db.transaction() as session:
                    if incoming.update_id is not None and not await self.store.claim(
                        session, incoming.update_id, incoming.user_id
                    ):
                        log.info("duplicate update %s ignored", incoming.update_id)
                        return []
                    state, version = await self.store.lock_state(session, incoming.user_id)
                    ctx = Context(incoming, copy.deepcopy(state), session, datetime.now(UTC), answerable)
                    replies = await self.router.route(ctx)
                    if ctx.state != state:
                        await self.store.save_state(session, incoming.user_id, ctx.state, version)
                return replies
            except Exception:
                # The transaction rolled back: state and the update log are as they were.
                log.exception("update %s from user %s failed", incoming.update_id, incoming.user_id)
                return common.internal_error()

    async def lookup(self, user_id: int, query: str, k: int) -> tuple[SearchResult, str]:
        """A hotline lookup outside any dialogue (Telegram inline mode), through the Q&A
        capability: logged like a question; the user's dialogue state is neither read nor changed."""
        self.reloader.poke()
        text = clean_text(query)
        async with self.db.transaction() as session:
            ctx = Context(Incoming(user_id, user_id, text=text, channel="inline"), {}, session, datetime.now(UTC))
            return await self._policy_qa().lookup(ctx, k)

    def _policy_qa(self) -> PolicyQA:
        return next(c for c in self.services.capabilities if isinstance(c, PolicyQA))

    async def knowledge_settled(self) -> None:
        """Returns when no reload is in progress (for tests and orderly shutdown)."""
        await self.reloader.settled()

    def _swap(self, fresh: Services) -> None:
        self.services = fresh
        self.router = Router(fresh.capabilities, classify=fresh.classify)

    def _normalise(self, incoming: Incoming) -> Incoming:
        text = clean_text(incoming.text) if incoming.text is not None else None
        button = incoming.button.strip() if incoming.button is not None else None
        is_admin = incoming.is_admin or incoming.user_id in self.services.settings.admin_ids
        return replace(incoming, text=text, button=button, is_admin=is_admin)
