"""`skillbot web` (the console) and `skillbot users …` (its accounts)."""

from __future__ import annotations

import getpass
import socket
import sys
from enum import StrEnum
from typing import Annotated, TypeVar

import typer

from bot.cli_common import cli_settings, console, fail, in_store

users_app = typer.Typer(help="网页工作台的账号：添加、列出、停用、重设密码")
T = TypeVar("T")


class Role(StrEnum):
    staff = "staff"
    admin = "admin"


def web(
    host: Annotated[str, typer.Option(help="监听地址；对外提供服务请放在 HTTPS 反向代理之后")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口")] = 8000,
) -> None:
    """启动网页工作台（热线查询与管理后台），与机器人使用同一个数据库。"""
    from bot.web.server import run
    from knowledge.sources import SourceError

    _port_free(host, port)
    try:
        run(cli_settings(), host, port)
    except SourceError as exc:
        fail(f"规则或流程文件有误，工作台没有启动：{exc}")


def _port_free(host: str, port: int) -> None:
    """A clear Chinese line, before anything starts, when the address cannot be listened on
    (uvicorn would log an English error after building the whole site)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"无法在 {host}:{port} 上启动工作台：端口已被占用或地址不可用（{exc.strerror}）。请换一个 --port。")


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def _read_password(from_stdin: bool) -> str:
    from bot.web.auth import password_problem

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
    if problem := password_problem(password):
        fail(problem, 2)
    return password


STDIN = Annotated[bool, typer.Option("--password-stdin", help="从标准输入读一行作为密码（脚本用）")]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="用户名（登录用）")],
    role: Annotated[Role, typer.Option(help="staff：热线工作人员；admin：管理员")] = Role.staff,
    password_stdin: STDIN = False,
) -> None:
    """添加一个网页工作台账号；密码从提示输入（或 --password-stdin）。"""
    from bot.web.auth import hash_password
    from storage import admin_audit
    from storage.users import AccountError, add_account

    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        fail("用户名不能为空、不能含空格，最长64个字符。", 2)
    password_hash = hash_password(_read_password(password_stdin))

    async def work(session) -> None:
        await add_account(session, name, role.value, password_hash)
        await admin_audit.record(session, _operator(), "user.add", name, detail={"role": role.value})

    try:
        in_store(work)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"已添加账号 {name}（{'管理员' if role is Role.admin else '热线工作人员'}）。")


@users_app.command("password")
def users_password(name: Annotated[str, typer.Argument(help="用户名")], password_stdin: STDIN = False) -> None:
    """重设密码；该账号已登录的会话全部失效。"""
    from bot.web.auth import hash_password
    from storage import admin_audit
    from storage.users import AccountError, set_password

    password_hash = hash_password(_read_password(password_stdin))

    async def work(session) -> None:
        await set_password(session, name, password_hash)
        await admin_audit.record(session, _operator(), "user.password", name)

    try:
        in_store(work)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"已重设 {name} 的密码；已登录的会话已失效。")


def _set_active(name: str, active: bool) -> None:
    from storage import admin_audit
    from storage.users import AccountError, set_active

    async def work(session) -> None:
        await set_active(session, name, active)
        await admin_audit.record(session, _operator(), "user.enable" if active else "user.disable", name)

    try:
        in_store(work)
    except AccountError as exc:
        fail(str(exc))


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用账号（不能再登录，已登录的会话在 30 秒内失效）。"""
    _set_active(name, False)
    console.print(f"已停用 {name}。")


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """重新启用账号。"""
    _set_active(name, True)
    console.print(f"已启用 {name}。")


@users_app.command("list")
def users_list() -> None:
    """列出网页工作台账号。"""
    from rich.table import Table

    from storage.users import list_accounts

    table = Table(title="网页工作台账号")
    for column in ("用户名", "角色", "状态", "最近登录（UTC）"):
        table.add_column(column)
    for a in in_store(list_accounts):
        last = a.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if a.last_sign_in_at else "—"
        table.add_row(a.username, "管理员" if a.is_admin else "热线工作人员", "启用" if a.active else "停用", last)
    console.print(table)
