"""Console channel: an interactive chat in the terminal, or a scripted replay as JSON lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from bot.engine import Engine
from handlers.base import Incoming, Reply

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
BUTTON_LINE = re.compile(r"^#btn\s+(\d+)\s*$")
# "#btn -1", "#btn abc": a button press that names no button, never a question to log.
BAD_BUTTON_LINE = re.compile(r"^#btn\b")


def to_rich(text: str) -> str:
    """Our **bold** markup as Rich markup, with everything else escaped."""
    parts = _BOLD.split(text)
    return "".join(f"[bold yellow]{escape(p)}[/]" if i % 2 else escape(p) for i, p in enumerate(parts))


def save_document(reply: Reply, directory: Path) -> None:
    """Console users get exported files on disk; the reply then names the path."""
    doc = reply.document
    if doc is None or doc.path:
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / doc.filename
    path.write_text(doc.content, encoding="utf-8")
    object.__setattr__(doc, "path", str(path))


class ConsoleSession:
    def __init__(self, engine: Engine, user_id: int) -> None:
        self.engine = engine
        self.user_id = user_id
        self.last_buttons: list[str] = []
        # A step that asks for a number ("15" meaning 15%) takes digits as text, not as buttons.
        self.wants_number = False

    async def send(self, text: str | None = None, button: str | None = None) -> list[Reply]:
        replies = await self.engine.handle(
            Incoming(user_id=self.user_id, chat_id=self.user_id, text=text, button=button)
        )
        for reply in replies:
            save_document(reply, self.engine.services.exports_dir)
        with_buttons = [r for r in replies if r.buttons]
        if with_buttons:
            self.last_buttons = [b.payload for b in with_buttons[-1].buttons]
        if replies:
            self.wants_number = any(r.payload.get("kind") == "percent" for r in replies)
        return replies

    async def press(self, number: int) -> list[Reply] | None:
        if 1 <= number <= len(self.last_buttons):
            return await self.send(button=self.last_buttons[number - 1])
        return None


async def run_script(session: ConsoleSession, lines: Iterable[str], emit: Callable[[list[Reply]], None]) -> None:
    """One input per line; `#btn N` presses button N of the last reply."""
    for raw in lines:
        line = raw.rstrip("\n")
        match = BUTTON_LINE.match(line.strip())
        if match:
            replies = await session.press(int(match.group(1)))
            if replies is None:
                replies = [Reply(text=f"没有第{match.group(1)}个按钮。", payload={"intent": "no_such_button"})]
        elif BAD_BUTTON_LINE.match(line.strip()):
            replies = [Reply(text="“#btn”后面应是按钮的序号，例如 #btn 1。", payload={"intent": "no_such_button"})]
        else:
            replies = await session.send(text=line)
        emit(replies)


def json_lines(out: TextIO) -> Callable[[list[Reply]], None]:
    """One JSON object per reply, flushed so a pipe reader sees each as it comes."""

    def emit(replies: list[Reply]) -> None:
        for reply in replies:
            out.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        out.flush()

    return emit


def rich_lines(console: Console) -> Callable[[list[Reply]], None]:
    return lambda replies: show(console, replies)


async def run_interactive(session: ConsoleSession, console: Console) -> None:
    console.print("[bold]技能人才评价政策助手[/] — 输入问题开始，输入数字选择按钮，Ctrl-D 或 /quit 退出。")
    show(console, await session.send(text="/start"))
    while True:
        try:
            line = Prompt.ask("[cyan]您[/]", console=console)
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if line.strip() in ("/quit", "/exit"):
            return
        pressed = line.strip().isdigit() and not session.wants_number
        replies = await session.press(int(line)) if pressed else None
        show(console, replies if replies is not None else await session.send(text=line))


def show(console: Console, replies: list[Reply]) -> None:
    for reply in replies:
        console.print(f"[green]助手[/] {to_rich(reply.text)}")
        for i, button in enumerate(reply.buttons, 1):
            console.print(f"   [magenta]{i}[/]. {escape(button.label)}")
        if reply.document is not None:
            console.print(f"   [blue]已保存文件：{escape(str(reply.document.path))}[/]")
