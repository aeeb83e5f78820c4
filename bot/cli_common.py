"""What every `skillbot` sub-command shares: the consoles, settings, and error exits."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from bot.settings import Settings, load_settings
from knowledge.redact import redact

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class LazyConsole:
    """rich's Console, made on first use: `skillbot ask --json` writes plain JSON, and
    importing rich would cost its measured cold start (bench/cold_start.py) 25 ms."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._made: Console | None = None

    @property
    def rich(self) -> Console:
        if self._made is None:
            from rich.console import Console

            self._made = Console(**self._options)
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)


console = LazyConsole()
err = LazyConsole(stderr=True, soft_wrap=True)


class RedactingFilter(logging.Filter):
    """No log level prints an ID, phone or certificate number, whoever logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def cli_settings() -> Settings:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # SQL statements carry names and numbers as parameters: never logged, even at DEBUG.
    for name in ("alembic", "sqlalchemy", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return settings


def read_text(path: Path) -> str:
    """A user-supplied text file, or a clear error if it is missing or not UTF-8."""
    if not path.is_file():
        fail(f"找不到文件 {path}")
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        fail(f"{path} 不是 UTF-8 文本文件，请先转换编码。")
    raise AssertionError("unreachable")


DATE_ARG = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, importing asyncio only here: `skillbot ask` answering from a saved index
    never runs a coroutine, and its cold start is measured (bench/cold_start.py)."""
    import asyncio

    return asyncio.run(coroutine)


def in_store(work: Callable[[AsyncSession], Awaitable[T]], settings: Settings | None = None) -> T:
    """`work(session)` in one transaction on the configured database, migrated and with the
    bundled notices seeded; the connection is closed whatever happens."""
    from storage.db import Database
    from storage.notices import seed_bundled

    async def run() -> T:
        db = Database((settings or cli_settings()).database_url)
        try:
            await db.migrate()
            async with db.transaction() as session:
                await seed_bundled(session)
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return run_async(run())


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]错误：[/]{message}")
    raise typer.Exit(code)
