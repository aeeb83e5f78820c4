"""Replies that belong to no single capability: welcome, help, and answers to bad input."""

from __future__ import annotations

import re

from handlers.base import Button, Reply

COMMANDS: dict[str, str] = {
    "start": "开始使用，显示主菜单",
    "help": "使用说明",
    "ask": "政策问答：/ask 问题",
    "filing": "备案指引（可接着上次继续）",
    "eligibility": "竞赛参赛资格自测",
    "cert": "证书查询：/cert 证书编号",
    "export": "导出备案清单",
    "cancel": "取消当前流程",
}

MENU_BUTTONS = [
    Button("问政策", "m:ask"),
    Button("备案指引", "m:filing"),
    Button("参赛资格", "m:eligibility"),
    Button("查证书", "m:cert"),
]

WELCOME = (
    "您好，我是技能人才评价政策助手。\n"
    "我可以：\n"
    "1. 回答技能人才评价政策问题，并注明文件出处（江苏、南京、青岛、黄石及国家文件）；\n"
    "2. 一步步指导企业、院校办理自主评价、认定机构和竞赛备案；\n"
    "3. 判断您能否报名职业技能竞赛；\n"
    "4. 核验职业技能等级证书编号。\n"
    "直接输入问题即可，例如：“异地选手占比超过50%向谁备案？”"
)

HELP = (
    "使用说明：\n"
    + "\n".join(f"/{name} — {desc}" for name, desc in COMMANDS.items())
    + "\n\n也可以直接打字提问；流程中可随时发送 /cancel 取消。"
    "\n政策答复以文件原文为准，具体办理请咨询当地人社部门或拨打12333。"
)


_GREETING = re.compile(
    r"^(你好|您好|hi|hello|哈喽|嗨|在吗|在不在|有人吗|早上好|下午好|晚上好|谢谢|多谢|感谢)[呀啊吗？?！!。~～ ]*$", re.I
)


def is_greeting(text: str) -> bool:
    """Small talk ("你好", "在吗", "谢谢") gets the menu, not a policy search."""
    return bool(_GREETING.match(text.strip()))


def welcome() -> list[Reply]:
    return [Reply(text=WELCOME, buttons=list(MENU_BUTTONS), payload={"intent": "start"})]


def help_reply() -> list[Reply]:
    return [Reply(text=HELP, buttons=list(MENU_BUTTONS), payload={"intent": "help"})]


def notice(intent: str, text: str, **extra: object) -> list[Reply]:
    """A one-line answer to input we cannot act on; nothing else happens."""
    return [Reply(text=text, payload={"intent": intent, **extra})]


def unknown_command(name: str) -> list[Reply]:
    shown = name if len(name) <= 20 else name[:20] + "…"
    return notice("unknown_command", f"没有“/{shown}”这个命令。发送 /help 查看可用命令，或直接输入您的问题。")


def empty_message() -> list[Reply]:
    return notice("empty", "您发送的内容是空的。请直接输入您想咨询的问题，或发送 /help 查看用法。")


def too_long(length: int, limit: int) -> list[Reply]:
    return notice(
        "too_long",
        f"您的消息有{length}个字符，超过了{limit}字的上限。请只写您想问的问题，精简后再发一次。",
    )


def no_words() -> list[Reply]:
    return notice("no_words", "我只能看懂文字。请用文字描述您的问题，例如：“青岛企业自主评价要交哪些材料？”")


def stale_button(command: str = "/help") -> list[Reply]:
    """A button from an older step, another flow, or forged: refused, nothing changes.
    `command` is where the user picks up again (/filing resumes a flow)."""
    return notice("stale_button", f"这个按钮已失效或无法识别，请使用最新一条消息中的按钮，或发送 {command}。")


def internal_error() -> list[Reply]:
    return notice("error", "抱歉，处理您的消息时出了点问题，您的进度没有受影响。请稍后再试一次。")


def cancelled(what: str | None) -> list[Reply]:
    if what:
        return notice("cancel", f"已取消{what}。需要时可以随时重新开始。", cancelled=True)
    return notice("cancel", "当前没有进行中的流程，无需取消。", cancelled=False)
