"""`skillbot certs …`: the certificate registry from the command line (admin actions)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli_common import cli_settings, console, err, fail, in_store, run_async
from bot.settings import Settings

if TYPE_CHECKING:
    from storage.db import Database

certs_app = typer.Typer(help="证书登记库：导入名册、注销、查询")


async def _database(settings: Settings) -> Database:
    """The store for an import, which runs its own transactions (it stages rows in many)."""
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
    except BaseException:
        await db.dispose()
        raise
    return db


@certs_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="《职业技能等级认定人员名册》CSV 或 XLSX 文件")],
    batch: Annotated[str | None, typer.Option(help="批次名（注销时可按批次）；默认用文件名")] = None,
    replace: Annotated[bool, typer.Option(help="允许用本名册替换登记库中已有的证书编号（已注销的仍保持注销）")] = False,
) -> None:
    """导入名册：逐行校验，全部正确才写入，否则一行也不写；已有的证书编号默认拒绝。"""
    if not file.is_file():
        fail(f"找不到文件 {file}")
    run_async(_import(cli_settings(), file, batch or file.stem, replace))


async def _import(settings: Settings, file: Path, batch: str, replace: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from knowledge.roster import RosterError
    from storage.certificates import import_roster

    db = await _database(settings)
    columns = (TextColumn("导入"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err.rich, transient=True) as progress:
            task = progress.add_task("rows", total=None)
            report = await import_roster(
                db,
                file,
                batch,
                datetime.now(UTC).date(),
                lambda n, total: progress.update(task, completed=n, total=total),
                replace=replace,
            )
    except RosterError as exc:
        fail(str(exc))
    finally:
        await db.dispose()
    if not report.ok:
        for line_no, message in report.errors[:200]:
            err.print(f"第{line_no}行：{message}")
        more = len(report.errors) - 200
        if more > 0:
            err.print(f"……另有{more}处错误未列出")
        fail(f"共{report.rows}行，发现{len(report.errors)}处错误，未导入任何数据。请修正后重新导入。")
    if report.rows == 0:
        fail("名册里只有表头，没有数据行：未导入任何数据。")
    console.print(f"已导入{report.inserted_or_updated}条证书记录（批次：{batch}）。")


@certs_app.command("revoke")
def revoke_(
    numbers: Annotated[list[str] | None, typer.Argument(help="要注销的证书编号")] = None,
    batch: Annotated[str | None, typer.Option(help="注销整个批次")] = None,
    reason: Annotated[str, typer.Option(help="注销原因（必填）")] = "",
) -> None:
    """注销证书：按编号，或按批次（苏人社办函〔2022〕54号 五）。"""
    if not reason.strip():
        fail("请用 --reason 写明注销原因。")
    if bool(numbers) == bool(batch):
        fail("请给出证书编号，或用 --batch 指定批次（二者选一）。")
    _revoke(cli_settings(), numbers or None, batch, reason.strip())


def _revoke(settings: Settings, numbers: list[str] | None, batch: str | None, reason: str) -> None:
    from storage.certificates import revoke

    count = in_store(lambda session: revoke(session, reason, datetime.now(UTC), numbers=numbers, batch=batch), settings)
    console.print(f"已注销{count}张证书。")


@certs_app.command("lookup")
def lookup_(
    number: Annotated[str, typer.Argument(help="证书编号")],
    name: Annotated[str, typer.Option(help="持证人姓名（必填，与编号一同核对）")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """按编号和姓名查询证书（结果中的姓名、证件号已打码）。"""
    if not name.strip():
        fail("请用 --name 给出持证人姓名。")
    _lookup(cli_settings(), number, name.strip(), json_out)


def _lookup(settings: Settings, number: str, name: str, json_out: bool) -> None:
    from knowledge.certno import SKILL_LEVEL, decode
    from storage.certificates import lookup

    now = datetime.now(UTC)
    decoded = decode(number, now.date())
    result = None
    if decoded.format == SKILL_LEVEL and not decoded.errors:
        # Audited as an operator's lookup, under the account that ran it.
        operator = f"operator:{getpass.getuser()}"
        result = in_store(lambda session: lookup(session, decoded.number, name, operator, now), settings)
    holder = result.holder if result else None
    data = {
        "intent": "certificate",
        "format": decoded.format,
        "fields": decoded.fields,
        "errors": decoded.errors,
        "found": result.found if result else None,
        "status": holder["status"] if holder else None,
        "holder": holder,
    }
    if json_out:
        print(json.dumps(data, ensure_ascii=False))
        return
    if result is None:
        console.print("编号格式不符合职业技能等级证书统一编码规则：" + "；".join(decoded.errors or ["格式未知"]))
        raise typer.Exit(1)
    from handlers.certificate import result_text

    console.print(result_text(result))
