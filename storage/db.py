"""Engine, sessions and migrations for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration; a test checks it is Alembic's head. A database already there is not
# handed to Alembic at all, which keeps it (a tenth of a second) out of one-shot commands.
HEAD_REVISION = "0006"


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection) -> None:
    from alembic import command

    cfg = _alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class Database:
    """One engine per process. On SQLite every write transaction takes the write lock up
    front (BEGIN IMMEDIATE), so two processes cannot interleave a read-modify-write; inside
    one process an asyncio lock queues writers instead of letting them spin on busy_timeout."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, object] = {"echo": echo}
        if self.is_sqlite:
            # Writers are serialised anyway, so one connection serves; every transaction ends
            # in an explicit commit or rollback, so the pool's reset round trip is waste.
            kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=4, pool_reset_on_return=None)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        # Parameters (names, numbers) stay out of SQLAlchemy's logs and error messages.
        self.engine = create_async_engine(url, hide_parameters=True, **kwargs)
        if self.is_sqlite:
            self._install_sqlite_hooks()
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    def _install_sqlite_hooks(self) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            # Let SQLAlchemy, not the driver, decide when a transaction begins.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one committed-or-rolled-back transaction."""
        lock = self._sqlite_writer or contextlib.nullcontext()
        async with lock, self.sessionmaker() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        async with self.engine.begin() as conn:
            if await _revision(conn) != HEAD_REVISION:
                await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _revision(conn) -> str | None:
    """The database's Alembic revision, None for a database Alembic has never seen."""
    try:
        async with conn.begin_nested():
            return await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # no such table: a new database
        return None
