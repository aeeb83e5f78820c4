"""The knowledge version of a SQLite store, read with the standard library's sqlite3.

A one-shot `skillbot ask` answers from the knowledge base saved for this version without
importing SQLAlchemy, the migrations or the ORM (half its cold start). The query is the one
`storage.knowledge_inputs.knowledge_version` runs on any database."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

# (clause count, highest clause id, highest added bank question id): changes whenever a
# notice is added, the clauses are rebuilt (new ids) or an operator adds a phrasing, so a
# running bot can tell that its in-memory index is out of date.
KNOWLEDGE_VERSION_SQL = (
    "SELECT (SELECT count(id) FROM clauses), (SELECT coalesce(max(id), 0) FROM clauses),"
    " (SELECT coalesce(max(id), 0) FROM bank_questions)"
)

# sqlite:///relative.db, sqlite:////absolute.db, sqlite+aiosqlite:///…?option=…; "sqlite://"
# alone (or :memory:) is a database in memory.
_SQLITE_URL = re.compile(r"sqlite(?:\+\w+)?://(?:/(?P<path>[^?]*))?(?:\?.*)?")


def sqlite_file(url: str) -> str | None:
    """The database file a SQLite URL names; None for another database or one in memory."""
    m = _SQLITE_URL.fullmatch(url.strip())
    path = m.group("path") if m else None
    return path if path and path != ":memory:" else None


def sqlite_knowledge_version(url: str) -> tuple[int, ...] | None:
    """The knowledge version, or None where it cannot be read this way (another database, no
    file yet, tables not created): the caller then goes the whole way."""
    path = sqlite_file(url)
    if path is None or not Path(path).is_file():
        return None
    try:
        with closing(sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)) as conn:
            row = conn.execute(KNOWLEDGE_VERSION_SQL).fetchone()
    except sqlite3.Error:
        return None
    return tuple(int(x) for x in row)
