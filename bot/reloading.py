"""Fresh services when the store's notices or bank questions change (`skillbot notices add`,
`questions add`, another process's console), for the bot's engine and the web console alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from bot.services import Services
from storage.db import Database

log = logging.getLogger(__name__)


class Reloader:
    """Looks for changes every `check_s` seconds in the background (`poke` on each request:
    the request that trips the check is served meanwhile, with what is in hand), or at once
    (`reload`); a new index is built off the event loop and handed whole to `swap`."""

    def __init__(
        self, db: Database, current: Callable[[], Services], swap: Callable[[Services], None], check_s: float
    ) -> None:
        self.db = db
        self.check_s = check_s
        self._current = current
        self._swap = swap
        self._checked = time.monotonic()
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None

    def poke(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.check_s or self._background is not None:
            return
        self._checked = now
        self._background = asyncio.create_task(self._check())

    async def _check(self) -> None:
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the knowledge base failed; keeping the current one")
        finally:
            self._background = None

    async def reload(self) -> bool:
        """Rebuilds from the store if it changed; True when new services are in place."""
        async with self._lock:  # two changes at once rebuild once each, in turn
            fresh = await self._current().reloaded(self.db)
            if fresh is None:
                return False
            self._swap(fresh)
            log.info("knowledge base reloaded: %d clauses", fresh.knowledge_version[0])
            return True

    async def settled(self) -> None:
        """Returns when no background check is in progress (for tests and orderly shutdown)."""
        if self._background is not None:
            await asyncio.shield(self._background)

    async def close(self) -> None:
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
