"""The engine's per-update bookkeeping: claim the update id, lock and read the user's
state, write it back. Two implementations of the same three statements:

* `CoreStateStore`: SQLAlchemy Core on PostgreSQL (the row is locked FOR UPDATE).
* `SqliteStateStore`: the same SQL sent straight to the aiosqlite connection under the
  session. Through SQLAlchemy each statement costs several thread hops (execute, fetch,
  close); here each is one, which is most of an update's cost on SQLite.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Conversation, ProcessedUpdate, User


class StateStore(Protocol):
    async def claim(self, session: AsyncSession, update_id: int, user_id: int) -> bool: ...

    async def lock_state(self, session: AsyncSession, user_id: int) -> tuple[dict[str, Any], int]: ...

    async def save_state(self, session: AsyncSession, user_id: int, state: dict[str, Any], version: int) -> None: ...


class CoreStateStore:
    @staticmethod
    def _insert_ignore(model: type) -> Any:
        return postgresql.insert(model).on_conflict_do_nothing()

    async def claim(self, session: AsyncSession, update_id: int, user_id: int) -> bool:
        values = {"update_id": update_id, "user_id": user_id, "processed_at": datetime.now(UTC)}
        result = await session.execute(self._insert_ignore(ProcessedUpdate).values(**values))
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def lock_state(self, session: AsyncSession, user_id: int) -> tuple[dict[str, Any], int]:
        # FOR UPDATE serialises the instances: a second one waits here for the first's commit.
        query = (
            select(Conversation.state, Conversation.version).where(Conversation.user_id == user_id).with_for_update()
        )
        row = (await session.execute(query)).first()
        if row is None:
            now = datetime.now(UTC)
            await session.execute(self._insert_ignore(User).values(id=user_id, first_seen=now))
            await session.execute(
                self._insert_ignore(Conversation).values(user_id=user_id, state={}, version=0, updated_at=now)
            )
            row = (await session.execute(query)).one()
        return dict(row.state or {}), int(row.version)

    async def save_state(self, session: AsyncSession, user_id: int, state: dict[str, Any], version: int) -> None:
        await session.execute(
            update(Conversation)
            .where(Conversation.user_id == user_id)
            .values(state=state, version=version + 1, updated_at=datetime.now(UTC))
        )


async def sqlite_driver(session: AsyncSession) -> Any:
    """The aiosqlite connection under the session's transaction: statements sent to it
    directly take one thread hop instead of SQLAlchemy's several."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def sqlite_now(at: datetime | None = None) -> str:
    """The text form SQLAlchemy's SQLite DateTime type writes and reads back."""
    return (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


class SqliteStateStore:
    """SQLite's BEGIN IMMEDIATE (storage.db) already holds the write lock for the update."""

    async def claim(self, session: AsyncSession, update_id: int, user_id: int) -> bool:
        driver = await sqlite_driver(session)
        cursor = await driver.execute(
            "INSERT OR IGNORE INTO processed_updates (update_id, user_id, processed_at) VALUES (?, ?, ?)",
            (update_id, user_id, sqlite_now()),
        )
        claimed = cursor.rowcount == 1
        await cursor.close()
        return bool(claimed)

    async def lock_state(self, session: AsyncSession, user_id: int) -> tuple[dict[str, Any], int]:
        driver = await sqlite_driver(session)
        query = "SELECT state, version FROM conversations WHERE user_id = ?"
        rows = await driver.execute_fetchall(query, (user_id,))
        if not rows:
            now = sqlite_now()
            await driver.execute("INSERT OR IGNORE INTO users (id, first_seen) VALUES (?, ?)", (user_id, now))
            await driver.execute(
                "INSERT OR IGNORE INTO conversations (user_id, state, version, updated_at) VALUES (?, '{}', 0, ?)",
                (user_id, now),
            )
            rows = await driver.execute_fetchall(query, (user_id,))
        state, version = rows[0]
        return dict(json.loads(state) if state else {}), int(version)

    async def save_state(self, session: AsyncSession, user_id: int, state: dict[str, Any], version: int) -> None:
        driver = await sqlite_driver(session)
        await driver.execute(
            "UPDATE conversations SET state = ?, version = ?, updated_at = ? WHERE user_id = ?",
            (json.dumps(state, ensure_ascii=False), version + 1, sqlite_now(), user_id),
        )


def state_store(is_sqlite: bool) -> StateStore:
    return SqliteStateStore() if is_sqlite else CoreStateStore()


async def prune_processed_updates(db: Database, before: datetime) -> int:
    """Forget update ids older than `before`; run at start-up so the log stays small."""
    async with db.transaction() as session:
        result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
