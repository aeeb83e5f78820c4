"""What the web console's tests share: accounts, sign-in, CSRF tokens, and the data they seed
(questions in the Q&A log, 名册 files, notices) through the storage layer."""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bench.roster import HEADER, rows
from bot.web.auth import hash_password
from knowledge.retrieval import SearchResult
from storage.db import Database
from storage.models import QaLog
from storage.qa_log import log_question, record_vote
from storage.users import add_account

T = TypeVar("T")
PASSWORDS = {"boss": "boss-password-1", "alice": "alice-password-1"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def in_store(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """`work(session)` in one transaction on the database at `url`, from synchronous test code."""

    async def run() -> T:
        db = Database(url)
        try:
            await db.migrate()
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


def add_accounts(url: str, accounts: dict[str, str] | None = None) -> None:
    accounts = accounts or {"boss": "admin", "alice": "staff"}

    async def work(session: Any) -> None:
        for name, role in accounts.items():
            await add_account(session, name, role, hash_password(PASSWORDS.get(name, f"{name}-password-1")))

    in_store(url, work)


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: Any, name: str, password: str | None = None, next_url: str = "/") -> Any:
    """Signs `client` (an httpx-style client) in afresh; returns the sign-in response."""
    client.cookies.clear()
    token = csrf_in(client.get("/login").text)
    form = {"csrf": token, "username": name, "password": password or PASSWORDS[name], "next": next_url}
    return client.post("/login", data=form, follow_redirects=False)


def refused(question: str) -> SearchResult:
    return SearchResult(question=question, answered=False, hits=[], reason="low_confidence")


def log_questions(url: str, asked: list[tuple[str, SearchResult, int]], days_ago: int = 0) -> list[int]:
    """Each (question, result, vote) asked once by its own user; vote 0 for none."""

    async def work(session: Any) -> list[int]:
        ids = []
        for i, (question, result, vote) in enumerate(asked):
            qa_id = await log_question(session, 900_000 + i, question, result)
            row = await session.get(QaLog, qa_id)
            row.created_at = datetime.now(UTC) - timedelta(days=days_ago, minutes=i)
            if vote:
                await record_vote(session, qa_id, 900_000 + i, vote)
            ids.append(qa_id)
        return ids

    return in_store(url, work)


def roster_csv(path: Path, n: int, seed: int = 7, start: int = 0, bad_line: int | None = None) -> list[list[str]]:
    """A 名册 of `n` valid rows; with `bad_line`, that file line's certificate number is broken."""
    data = list(rows(n, seed=seed, start=start))
    if bad_line is not None:
        data[bad_line - 2][HEADER.index("证书编号")] = "S12345"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(data)
    return data


def holder(row: list[str]) -> tuple[str, str]:
    """(certificate number, holder's name) of a roster row."""
    return row[HEADER.index("证书编号")], row[HEADER.index("姓名")]


NOTICE = """关于技能人才评价测试事项的通知
测人社发〔2026〕9号

一、评价机构备案。评价机构应当在开展评价前向所在地人社部门备案，备案材料包括申请表和评价方案。

二、收费管理。测试评价不得向参评人员收取任何报名费和证书费。

三、本通知自印发之日起施行，原《省人力资源社会保障厅办公室转发人力资源社会保障部办公厅关于支持企业大力开展技能人才评价工作的通知》（苏人社办函〔2021〕26号）同时废止。

联系电话：025-12345678
"""
