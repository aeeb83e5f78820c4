"""名册 imports started from the console: the upload checked, then storage.certificates'
import (all rows or none) run in a thread of its own with its own event loop, so a large
roster neither blocks the console nor is blocked by it; the page polls the job's progress."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from knowledge.roster import RosterError
from storage.certificates import ImportReport, import_roster
from storage.db import Database

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx")
KEEP_JOBS = 50
MAX_REPORTED = 200  # per-row errors shown; the count says how many more


class UploadError(ValueError):
    """An upload refused before anything is read into the registry; shown as is."""


@dataclass
class ImportJob:
    id: str
    owner: str
    batch: str
    filename: str
    replace: bool
    rows: int = 0
    total: int | None = None
    state: str = "running"  # running | done | rejected | failed
    report: ImportReport | None = None
    message: str = ""
    started: float = field(default_factory=time.time)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def percent(self) -> int | None:
        return min(int(100 * self.rows / self.total), 100) if self.total else None


def check_upload(filename: str, head: bytes) -> str:
    """The file's suffix if it looks like what it claims to be; UploadError otherwise."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(f"不支持的文件类型“{suffix or filename}”：请上传 .csv 或 .xlsx 格式的名册")
    if suffix == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        raise UploadError("文件扩展名是 .xlsx，但内容不是 Excel 工作簿；请用 Excel 另存为 .xlsx 后再上传")
    if suffix == ".csv" and b"\x00" in head:
        raise UploadError("文件扩展名是 .csv，但内容不是文本（含空字节）；请另存为 CSV（UTF-8 或 GBK）后再上传")
    if not head:
        raise UploadError("上传的文件是空的")
    return suffix


def save_upload(source: BinaryIO, suffix: str) -> Path:
    """A private copy under the system's temporary directory; deleted when the job ends."""
    with tempfile.NamedTemporaryFile(prefix="skillbot-roster-", suffix=suffix, delete=False) as out:
        shutil.copyfileobj(source, out, 1 << 20)
        return Path(out.name)


Finished = Callable[[ImportJob], Awaitable[None]]


class ImportJobs:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> ImportJob | None:
        return self._jobs.get(job_id)

    def start(self, owner: str, path: Path, filename: str, batch: str, replace: bool, done: Finished) -> ImportJob:
        job = ImportJob(secrets.token_urlsafe(12), owner, batch, filename, replace)
        self._jobs[job.id] = job
        for old in list(self._jobs)[:-KEEP_JOBS]:
            if not self._jobs[old].running:
                del self._jobs[old]
        task = asyncio.create_task(self._run(job, path, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, job: ImportJob, path: Path, done: Finished) -> None:
        try:
            job.report = await asyncio.to_thread(self._import, job, path)
            job.state = "done" if job.report.ok and job.report.rows else "rejected"
            if job.report.rows == 0:
                job.message = "名册里只有表头，没有数据行：未导入任何数据。"
        except RosterError as exc:
            job.state, job.message = "rejected", str(exc)
        except Exception:
            log.exception("roster import %s failed", job.id)
            job.state, job.message = "failed", "导入时发生内部错误，登记库未作任何改动。错误已记录，请联系技术人员。"
        finally:
            path.unlink(missing_ok=True)
        try:
            await done(job)
        except Exception:
            log.exception("recording roster import %s failed", job.id)

    def _import(self, job: ImportJob, path: Path) -> ImportReport:
        """In a worker thread, on a database connection of its own."""

        def progress(rows: int, total: int | None) -> None:
            job.rows, job.total = rows, total

        async def run() -> ImportReport:
            db = Database(self.database_url)
            try:
                today = datetime.now(UTC).date()
                return await import_roster(db, path, job.batch, today, progress, replace=job.replace)
            finally:
                await db.dispose()

        return asyncio.run(run())

    async def close(self) -> None:
        """Waits for imports in progress: each is all or nothing, so none is cut short."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
