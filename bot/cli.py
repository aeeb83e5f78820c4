"""The `skillbot` command: run the bot, chat, ask, evaluate, and manage the knowledge base."""

from __future__ import annotations

import json
import re
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli_certs import certs_app
from bot.cli_common import DATE_ARG, cli_settings, console, fail, in_store, read_text, run_async
from bot.cli_questions import questions_app
from bot.cli_web import users_app, web
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from knowledge.base import KnowledgeBase

app = typer.Typer(help="技能人才评价政策助手 skillbot", no_args_is_help=False, add_completion=False)
notices_app = typer.Typer(help="管理政策文件（知识库）")
app.add_typer(notices_app, name="notices")
app.add_typer(certs_app, name="certs")
app.add_typer(questions_app, name="questions")
app.add_typer(users_app, name="users")
DEFAULT_CONSOLE_USER = 1


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """Without a sub-command: run the bot (Telegram if BOT_TOKEN is set, else console chat)."""
    if ctx.invoked_subcommand is None:
        settings = cli_settings()
        if settings.bot_token:
            run_async(_serve(settings, Framework.aiogram, None, 8080, 30))
            return
        run_async(_chat(settings, None, False, DEFAULT_CONSOLE_USER))


@app.command()
def chat(
    script: Annotated[Path | None, typer.Option(help="逐行回放的输入文件（- 为标准输入）")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="每条回复输出一个 JSON 对象")] = False,
    user: Annotated[int, typer.Option(help="用户编号；默认与上次相同")] = DEFAULT_CONSOLE_USER,
) -> None:
    """在终端里和助手对话。"""
    run_async(_chat(cli_settings(), script, json_out, user))


async def _chat(settings: Settings, script: Path | None, json_out: bool, user: int) -> None:
    from bot.console import ConsoleSession, json_lines, rich_lines, run_interactive, run_script

    engine = await start_engine(settings)
    try:
        session = ConsoleSession(engine, user)
        if script is None:
            await run_interactive(session, console.rich)
            return
        lines = sys.stdin.readlines() if str(script) == "-" else read_text(script).splitlines()
        await run_script(session, lines, json_lines(sys.stdout) if json_out else rich_lines(console.rich))
    finally:
        await engine.close()


def _knowledge(settings: Settings) -> KnowledgeBase:
    """The knowledge base of the store. Where the store is a SQLite file whose version has a
    saved knowledge base, that is loaded without SQLAlchemy, migrations or the clauses (a
    one-shot `ask` in well under a second); otherwise the store is opened, migrated and read."""
    from knowledge.snapshots import gc_paused
    from storage.quick_version import sqlite_knowledge_version

    directory = settings.snapshot_dir()
    version = sqlite_knowledge_version(settings.database_url)
    with gc_paused():
        from knowledge.base import KnowledgeBase

        known = KnowledgeBase.recalled(directory, version) if version is not None else None
    if known is not None:
        return known
    from storage.knowledge_inputs import knowledge_inputs

    passages, added, version = in_store(knowledge_inputs, settings)
    return KnowledgeBase.saved(passages, added, directory, version)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="问题")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    k: Annotated[int, typer.Option("-k", help="返回条款数")] = 5,
    batch: Annotated[Path | None, typer.Option(help="每行一个问题的文件（- 为标准输入）")] = None,
) -> None:
    """政策问答（给工具和热线人员用）：打印命中的条款。"""
    if (question is None) == (batch is None):
        fail("请给出一个问题，或用 --batch 指定问题文件（二选一）。", 2)
    if k < 1 or k > 50:
        fail("-k 须在 1 到 50 之间。", 2)
    kb = _knowledge(cli_settings())
    from knowledge.hits import citation, result_json  # after the knowledge base: see _knowledge

    if batch is not None:
        lines = sys.stdin.readlines() if str(batch) == "-" else read_text(batch).splitlines()
        questions = [x.strip() for x in lines]
    else:
        questions = [question or ""]
    for q in questions:
        result = kb.search(q, k) if q else None
        data = result_json(result) if result else {"answered": False, "hits": []}
        if json_out:
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
            continue
        if not data["answered"]:
            console.print(f"[yellow]未找到答案：[/]{q}")
            continue
        for hit in result.hits if result else []:
            console.print(f"[bold]{hit.score:.1f}[/] {citation(hit.passage)}\n{hit.passage.text}\n")


@app.command(name="eval")
def evaluate_cmd(
    file: Annotated[Path, typer.Argument(help="评测集（JSON lines）")],
    failures: Annotated[bool, typer.Option(help="列出答错的问题")] = False,
) -> None:
    """按评测集打分：top-1、top-3、MRR、拒答率。"""
    from knowledge.evaluation import evaluate, load_items

    try:
        items = load_items(file) if file.is_file() else None
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        fail(f"评测集 {file} 格式不对（每行应是含 q、kind 字段的 JSON）：{exc}")
    if items is None:
        fail(f"找不到评测集 {file}")
    kb = _knowledge(cli_settings())

    def answer(q: str) -> tuple[bool, list[str]]:
        result = kb.search(q, 5)
        return result.answered, [h.passage.text for h in result.hits]

    report = evaluate(items, answer)
    from rich.table import Table

    table = Table(title=f"评测：{file.name}")
    table.add_column("指标")
    table.add_column("数值", justify="right")
    for name, value in report.metrics().items():
        table.add_row(name, f"{value:.3f}")
    console.print(table)
    for title, groups in (("按风格", report.by_style), ("按文件", report.by_doc)):
        console.print(title + "：" + "，".join(f"{k} {ok}/{n}" for k, (ok, n) in sorted(groups.items())))
    if failures:
        for f in report.failures:
            console.print(f"  {f['id']} {f['why']}: {f['q']}")
    m = report.metrics()
    console.print(
        f"top1={m['top1']:.3f} top3={m['top3']:.3f} mrr={m['mrr']:.3f} "
        f"oos_rejected={m['out_of_scope_rejected']:.3f} false_rejection={m['false_rejection']:.3f}"
    )


@notices_app.command("list")
def notices_list() -> None:
    """列出知识库中的政策文件。"""
    from rich.table import Table

    from storage.notices import list_notices

    table = Table(title="政策文件")
    for col in ("文号", "标题", "地区", "日期", "条款数", "来源"):
        table.add_column(col)
    for n in in_store(list_notices):
        table.add_row(n.doc_no, n.title, n.region, n.date, str(n.clauses), "内置" if n.bundled else "新增")
    console.print(table)


@notices_app.command("add")
def notices_add(
    file: Annotated[Path, typer.Argument(help="通知全文（UTF-8 文本）")],
    doc_no: Annotated[str, typer.Option("--doc-no", help="文号，如 苏人社办函〔2022〕54号")],
    region: Annotated[str, typer.Option(help="地区，如 江苏省南京市")],
    date: Annotated[str, typer.Option(help="发文日期 YYYY-MM-DD")],
    title: Annotated[str | None, typer.Option(help="标题（默认取文件第一行）")] = None,
    issuer: Annotated[str | None, typer.Option(help="发文单位")] = None,
    effective: Annotated[str | None, typer.Option(help="施行日期")] = None,
) -> None:
    """添加一份政策文件；解析失败时知识库保持不变。"""
    from knowledge.notices import NoticeError, new_notice_meta, notice_problem
    from storage.notices import add_notice

    raw = read_text(file)
    if not DATE_ARG.match(date.strip()) or (effective and not DATE_ARG.match(effective.strip())):
        fail("日期格式应为 YYYY-MM-DD（或只写年份 YYYY）。", 2)
    meta = new_notice_meta(
        raw, doc_no, region, date, title=title or "", issuer=issuer or "", effective=effective or "", source=file.name
    )
    if not meta.doc_no or not meta.region or not meta.date:
        fail("文号、地区和日期都不能为空。", 2)
    if (problem := notice_problem(meta, raw)) is not None:
        fail(f"无法添加 {file.name}：{problem}。知识库未作任何改动。", 2)

    try:
        count = in_store(lambda session: add_notice(session, meta, raw))
    except NoticeError as exc:
        fail(f"无法添加 {file.name}：{exc}。知识库未作任何改动。")
    console.print(f"已添加 {meta.doc_no}：{count} 个条款，重启机器人后即可检索。")


@notices_app.command("reindex")
def notices_reindex() -> None:
    """用当前解析规则重新拆分全部政策文件。"""
    from knowledge.notices import NoticeError
    from storage.notices import reindex

    try:
        count = in_store(reindex)
    except NoticeError as exc:
        fail(f"重建索引失败：{exc}。知识库未作任何改动。")
    console.print(f"已重建：共 {count} 个条款。")


@app.command()
def report(limit: Annotated[int, typer.Option(help="每类最多列出几条")] = 20) -> None:
    """知识库缺口报告：未答问题（按次数）与差评最多的回答。"""
    from storage.reports import feedback_report

    unanswered, disliked = in_store(lambda session: feedback_report(session, limit))
    from rich.table import Table

    table = Table(title="未能回答的问题")
    table.add_column("次数", justify="right")
    table.add_column("问题")
    for question, count in unanswered:
        table.add_row(str(count), question)
    console.print(table)
    table = Table(title="差评最多的回答")
    for col in ("👎", "👍", "文号", "条款", "示例问题"):
        table.add_column(col)
    for row in disliked:
        table.add_row(str(row.down), str(row.up), row.doc_no, row.clause_path, row.question)
    console.print(table)


@app.command()
def migrate() -> None:
    """把数据库升级到最新结构。"""
    in_store(_nothing_more)  # opening the store migrates it
    console.print("数据库已是最新结构。")


async def _nothing_more(_: AsyncSession) -> None:
    return None


async def start_engine(settings: Settings):
    """The engine, or a one-line Chinese error if a flow or rule file is broken."""
    from bot.engine import Engine
    from knowledge.sources import SourceError

    try:
        return await Engine.start(settings)
    except SourceError as exc:  # FlowError too: flows are checked against the notices at start
        fail(f"规则或流程文件有误，机器人没有启动：{exc}")


class Framework(StrEnum):
    aiogram = "aiogram"
    ptb = "ptb"


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@app.command()
def serve(
    framework: Annotated[
        Framework, typer.Option(help="Telegram 框架：aiogram（默认）或 ptb（python-telegram-bot）")
    ] = (Framework.aiogram),
    webhook: Annotated[str | None, typer.Option(help="Webhook 模式：Telegram 回调的公网 URL；不给则用长轮询")] = None,
    port: Annotated[int, typer.Option(help="Webhook 模式下本机监听的端口")] = 8080,
    polling_timeout: Annotated[int, typer.Option(help="长轮询 getUpdates 的超时秒数")] = 30,
) -> None:
    """通过 Telegram 运行机器人（需要 BOT_TOKEN；TELEGRAM_API_URL 可指向自建 Bot API 服务器）。"""
    settings = cli_settings()
    if not settings.bot_token:
        fail("没有设置 BOT_TOKEN。请先在 BotFather 创建机器人，把令牌写入环境变量 BOT_TOKEN 或 .env 文件。")
    if webhook and not _WEBHOOK_SECRET.fullmatch(settings.webhook_secret or ""):
        fail("Webhook 模式需要设置 WEBHOOK_SECRET（1–256 位字母、数字、_ 或 -）：否则任何知道地址的人都能伪造消息。")
    run_async(_serve(settings, framework, webhook, port, polling_timeout))


async def _serve(
    settings: Settings, framework: Framework, webhook: str | None, port: int, polling_timeout: int
) -> None:
    import asyncio
    from urllib.parse import urlparse

    if framework is Framework.aiogram:
        from bot.telegram import aiogram_adapter as adapter
    else:
        from bot.telegram import ptb_adapter as adapter  # type: ignore[no-redef]
    engine = await start_engine(settings)
    token = settings.bot_token or ""
    try:
        if webhook:
            path = urlparse(webhook).path or "/"
            secret = settings.webhook_secret or ""
            await adapter.run_webhook(engine, token, settings.telegram_api_url, webhook, port, path, secret)
        else:
            # SIGTERM/SIGINT: finish and confirm the updates in hand, then stop (nothing is lost).
            stopping = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stopping.set)
            await adapter.run_polling(engine, token, settings.telegram_api_url, polling_timeout, stopping)
    finally:
        await engine.close()


app.command()(web)

if __name__ == "__main__":
    app()
