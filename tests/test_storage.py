"""The database layer: migrations and the saved-index location."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.settings import Settings
from storage.db import HEAD_REVISION, Database, _alembic_config
from storage.notices import seed_bundled


def test_head_revision_is_alembics_head() -> None:
    """migrate() skips Alembic when the database is at HEAD_REVISION: a new migration that
    forgot to move it would never run."""
    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION


async def test_migrate_creates_a_new_database_and_leaves_a_current_one(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        await db.migrate()
        async with db.transaction() as session:
            assert await session.scalar(text("SELECT version_num FROM alembic_version")) == HEAD_REVISION
            seeded = await seed_bundled(session)
        await db.migrate()  # already current: nothing dropped or re-created
        async with db.transaction() as session:
            assert seeded and await session.scalar(text("SELECT count(*) FROM notices")) == seeded
    finally:
        await db.dispose()


def test_saved_indexes_live_beside_the_sqlite_file(tmp_path) -> None:
    assert Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x/bot.db").snapshot_dir() == tmp_path / "x" / "index"
    assert Settings(database_url="postgresql+asyncpg://u@h/db").snapshot_dir() is not None
    assert Settings(index_dir="off").snapshot_dir() is None
    assert Settings(index_dir=str(tmp_path / "i")).snapshot_dir() == tmp_path / "i"
