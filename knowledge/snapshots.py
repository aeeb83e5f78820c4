"""Built indexes saved to disk and loaded instead of rebuilt.

Building the knowledge base tokenises every clause and bank question and fits the vectorisers
(seconds bundled, tens of seconds at a thousand notices); loading what was built is a file read.
A snapshot is keyed by everything its content depends on: the clauses and added questions it
was built from, the bundled data files (lexicon, bank, model, utterances) and the code of this
package, so a changed input or a new release never loads a stale index, it builds a new one.

The files are Python pickles: write access to the snapshot directory is as good as write access
to the database beside it, which holds everything the bot says anyway."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
# Bump when what a snapshot holds changes in a way the code hash would not show.
FORMAT = 1
T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a knowledge base is imported and unpickled: it
    allocates a million objects that live as long as the process, and the collector would
    scan them over and over for cycles there are none of (30 ms of a 0.5 s cold `ask`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@lru_cache(maxsize=1)
def _package_digest() -> bytes:
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    files = sorted(PACKAGE_DIR.glob("*.py")) + sorted(p for p in (PACKAGE_DIR / "data").rglob("*") if p.is_file())
    for path in files:
        if path.suffix == ".pyc" or "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def fingerprint(*parts: str) -> str:
    """The key of a snapshot: this package's code and data, and the given inputs."""
    digest = hashlib.sha256(_package_digest())
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def load_or_build(directory: Path | None, name: str, key: str, build: Callable[[], T]) -> T:
    """The snapshot `name` with this key from `directory`, else `build()`, saved there for the
    next process. No directory: always build. An unreadable snapshot is rebuilt, never fatal."""
    if directory is None:
        return build()
    path = directory / f"{name}-{key}.pickle"
    if path.exists() and (loaded := _load(path)) is not None:
        return cast(T, loaded)  # our own file, saved from build()
    built = build()
    _save(directory, path, built)
    return built


def remember(directory: Path | None, name: str, key: str, stamp: str) -> None:
    """Notes that the snapshot `name` with this key is the one for `stamp` (a store's
    version, say), so that a process that knows only the stamp can load it (`recall`)
    without reading what the key is computed from."""
    if directory is None:
        return
    try:
        _write_whole(directory / f"{name}.stamp", lambda f: f.write(f"{stamp}\n{key}".encode()))
    except OSError:
        log.warning("could not note the snapshot for %s", name, exc_info=True)


def recall(directory: Path | None, name: str, stamp: str) -> object | None:
    """The snapshot `remember` noted for this stamp, or None (none noted, another stamp,
    the file gone or unreadable)."""
    if directory is None:
        return None
    try:
        noted, key = (directory / f"{name}.stamp").read_text(encoding="utf-8").split("\n")
    except (OSError, ValueError):
        return None
    path = directory / f"{name}-{key}.pickle"
    return _load(path) if noted == stamp and path.exists() else None


def _load(path: Path) -> object | None:
    """The pickled snapshot, or None if it cannot be read (it is then rebuilt, never fatal)."""
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # our own file: see the module docstring
    except Exception:
        log.warning("snapshot %s unreadable", path.name, exc_info=True)
        return None


def _write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Written to a temporary file beside it and renamed: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(directory: Path, path: Path, value: object) -> None:
    try:
        _write_whole(path, lambda f: pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        log.warning("could not save snapshot %s; the next start will build again", path.name, exc_info=True)
        return
    # Older snapshots of the same kind can never be loaded again by this code.
    name = path.stem.rsplit("-", 1)[0]
    for old in directory.glob(f"{name}-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
