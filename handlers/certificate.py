"""Certificate lookup: check the number's format, then look it up with the holder's name.
Wrong name and unknown number get the same answer, so the bot is no oracle for numbers."""

from __future__ import annotations

import re
from typing import Any

from handlers import common
from handlers.base import Button, Context, Reply
from knowledge.certno import OLD_QUALIFICATION, SKILL_LEVEL, Decoded, decode, describe, find_number
from knowledge.retrieval import Passage
from knowledge.sources import SourceRef, source_line
from storage.certificates import LookupResult, RateLimits, lookup, revoke

UNIFIED_RULE = SourceRef("苏人社办函〔2022〕54号", "四、规范证书核发", "通过其他途径生成、制作的证书及证书号一律无效")
QUERY_SYSTEMS = SourceRef("青人社发〔2020〕7号", "七、自主评价实施流程（三）", "职业技能等级全国联网查询系统")
SOURCES = (UNIFIED_RULE, QUERY_SYSTEMS)

_MY_CERT = re.compile(r"(我的|我这个|我这张|这张|这个|帮我查|查一下|查查|核验|验证).{0,6}证")
_NAMED = re.compile(r"(?:姓名|名字|持证人|证书人|本人叫|我叫|叫做|叫)\s*[:：是为]?\s*([\u4e00-\u9fff·]{2,6})")
# "S000032010000243001234 张三": a short name standing right after (or before) the number.
_NAME_BESIDE = re.compile(
    r"(?:[\dOo]\s*[,，、;；\s]\s*([\u4e00-\u9fff·]{2,4})\s*$)|(?:^\s*([\u4e00-\u9fff·]{2,4})\s*[,，、;；\s]\s*[SsYy]?\d)"
)
_NOT_NAMES = re.compile(r"证书|编号|查询|真伪|帮我|这个|请问|一下|核验|是否|多少|等级|技能")


def holder_name(text: str) -> str | None:
    """The holder's name when the message gives it beside the number; None if it does not."""
    m = _NAMED.search(text) or _NAME_BESIDE.search(text)
    if not m:
        return None
    name = next(g for g in m.groups() if g)
    return None if _NOT_NAMES.search(name) else name


_NAME_ONLY = re.compile(r"[\u4e00-\u9fff·]{2,4}")
_NAME = re.compile(r"^[\u4e00-\u9fff·•A-Za-z\s]{2,30}$")
_NUMBERISH = re.compile(r"[A-Za-z0-9０-９Ａ-Ｚａ-ｚ][\sA-Za-z0-9０-９Ａ-Ｚａ-ｚ\-]{6,}")
# A number typed with a few letters wrong still has most of its digits; "what is this" has none.
_DIGITS_IN_A_NUMBER = 6


def _has_digits(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= _DIGITS_IN_A_NUMBER


WHERE_TO_CHECK = (
    "职业技能等级全国联网查询系统（http://jndj.osta.org.cn）"
    "或发证地的人社部门网上办事服务大厅（江苏：江苏省人力资源和社会保障厅网上办事服务大厅）"
)


class CertificateLookup:
    name = "certificate"
    prefix = "ct"
    title = "证书查询"

    def __init__(self, sources: dict[SourceRef, Passage], limits: RateLimits | None = None) -> None:
        self.sources = sources
        self.limits = limits or RateLimits()

    def interrupts(self, text: str) -> bool:
        return find_number(text) is not None

    def claims(self, text: str) -> bool:
        return find_number(text) is not None or bool(_MY_CERT.search(text))

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        head, _, rest = args.partition(" ")
        if head in ("revoke", "注销"):
            return await self._admin_revoke(ctx, rest)
        number = find_number(args) or (args.strip() if args.strip() else None)
        if number:
            return self._number(ctx, number)
        return self._ask_number(ctx)

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        number = find_number(ctx.text)
        if not number:
            return self._ask_number(ctx)
        replies = self._number(ctx, number)
        holder = holder_name(ctx.text)
        session = ctx.state.get(self.name)
        if holder and isinstance(session, dict) and session.get("asking") == "name":
            return await self._lookup(ctx, session["number"], holder)  # number and name in one message
        return replies

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        if find_number(ctx.text) and holder_name(ctx.text):
            return await self.on_free_text(ctx)
        session = ctx.state.get(self.name)
        if not isinstance(session, dict):
            ctx.step_aside()
            return None
        text = ctx.text.strip()
        number = find_number(text) or (text if _NUMBERISH.fullmatch(text) and _has_digits(text) else None)
        if session.get("asking") == "name":
            if number:
                return self._number(ctx, number)
            if not _NAME.match(text):
                return [
                    self._reply("请只输入持证人的姓名（2–30个汉字或字母），例如“张三”。发送 /cancel 可退出。", None)
                ]
            return await self._lookup(ctx, session["number"], text)
        if number:
            return self._number(ctx, number)
        if _NAME_ONLY.fullmatch(text):  # a name sent before a valid number: ask for the number again
            text = "请先发送正确的证书编号（22位，以S或Y开头），再输入持证人姓名。发送 /cancel 可退出。"
            return [self._reply(text, None)]
        ctx.end_dialogue(self.name)  # not a number: the user moved on to something else
        return None

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        return common.stale_button("/cert")

    # -- steps -------------------------------------------------------------------------
    def _ask_number(self, ctx: Context) -> list[Reply]:
        ctx.state[self.name] = {"asking": "number"}
        ctx.activate(self.name)
        text = "请发送要查询的证书编号（职业技能等级证书为22位，以S或Y开头，例如 S000032010001213000123）。"
        return [self._reply(text, None, asking="number")]

    def _number(self, ctx: Context, raw: str) -> list[Reply]:
        decoded = decode(raw, ctx.now.date())
        if decoded.format == SKILL_LEVEL and not decoded.errors:
            ctx.state[self.name] = {"asking": "name", "number": decoded.number}
            ctx.activate(self.name)
            text = (
                f"这是职业技能等级证书编号（全国统一编码规则）：{describe(decoded)}。\n"
                "编号格式正确不代表证书一定真实，还需要查登记记录。"
                "为保护持证人信息，请输入**持证人姓名**，核对一致后才显示结果。"
            )
            return [self._reply(text, decoded, asking="name")]
        ctx.state[self.name] = {"asking": "number"}
        ctx.activate(self.name)
        if decoded.format == SKILL_LEVEL:
            text = (
                f"编号“{decoded.number}”不符合职业技能等级证书的全国统一编码规则：\n"
                + "\n".join(f"· {e}" for e in decoded.errors)
                + "\n请核对证书上的编号后重新发送。"
            )
            return [self._reply(text, decoded, asking="number")]
        ctx.end_dialogue(self.name)
        if decoded.format == OLD_QUALIFICATION:
            text = (
                f"这是旧版{decoded.fields['kind']}的编号"
                + (f"（{describe(decoded)}）" if describe(decoded) else "")
                + f"，不是现行的职业技能等级证书编号，本助手的登记库不收录。旧版证书可到{WHERE_TO_CHECK}查询。\n"
                + source_line(QUERY_SYSTEMS, self.sources[QUERY_SYSTEMS])
            )
            return [self._reply(text, decoded)]
        text = (
            f"“{_shown(decoded.number)}”不是我认识的证书编号格式。现行职业技能等级证书编号为22位，"
            "以S（社会培训评价组织）或Y（用人单位）开头，后接21位数字。"
            "江苏省规定，职业技能等级证书号须按人社部统一编码规则生成，通过其他途径生成的证书号无效。"
            "如果编号抄写无误，建议向发证机构核实。\n" + source_line(UNIFIED_RULE, self.sources[UNIFIED_RULE])
        )
        return [self._reply(text, decoded)]

    async def _lookup(self, ctx: Context, number: str, name: str) -> list[Reply]:
        limits = self.limits
        requester = f"{ctx.incoming.channel}:{ctx.incoming.user_id}"
        result = await lookup(ctx.session, number, name, requester, ctx.now, limits)
        decoded = decode(number, ctx.now.date())
        if result.result.startswith("rate_limited"):
            return [self._reply(limited_text(result), decoded, found=None, limited=True)]
        ctx.end_dialogue(self.name)
        return [self._reply(result_text(result), decoded, found=result.found, holder=result.holder)]

    async def _admin_revoke(self, ctx: Context, args: str) -> list[Reply]:
        if not ctx.incoming.is_admin:
            return [self._reply("只有管理员可以注销证书。", None)]
        number, _, reason = args.strip().partition(" ")
        if not number or not reason.strip():
            return [self._reply("用法：/cert revoke 证书编号 注销原因", None)]
        count = await revoke(ctx.session, reason.strip(), ctx.now, numbers=[number])
        return [self._reply(f"已注销{count}张证书。" if count else "没有找到可注销的有效证书。", None, revoked=count)]

    def _reply(self, text: str, decoded: Decoded | None, **extra: Any) -> Reply:
        payload: dict[str, Any] = {
            "intent": self.name,
            "format": decoded.format if decoded else None,
            "fields": decoded.fields if decoded else {},
            "errors": decoded.errors if decoded else [],
            "found": extra.pop("found", None),
            "status": (extra.get("holder") or {}).get("status"),
        }
        buttons = [Button("再查一张", "m:cert")] if payload["found"] is not None else []
        return Reply(text, buttons, payload | extra)


def _shown(number: str) -> str:
    return number if len(number) <= 30 else number[:30] + "…"


def limited_text(result: LookupResult) -> str:
    """Why a lookup was refused by the rate limits, and when to try again."""
    minutes = max(result.retry_after_s // 60, 1)
    who = "您" if result.result == "rate_limited_user" else "当前查询的人较多，系统"
    return f"{who}查询太频繁了，请约{minutes}分钟后再试。这是为了防止有人批量试探证书编号。"


def result_text(result: LookupResult) -> str:
    """What a lookup found, in the words the chat and the CLI both use."""
    if not result.found or result.holder is None:
        return (
            "没有查到与这个编号和姓名都相符的证书记录。请核对编号和姓名是否与证书一致。\n"
            f"本助手的登记库只包含已导入的评价机构数据；也可以到{WHERE_TO_CHECK}查询。"
        )
    h = result.holder
    lines = [
        "查到了这张证书：",
        f"持证人：{h['name']}（证件号 {h['id_no']}）",
        f"职业/工种：{h['occupation']}（{h['occupation_code']}）" + (f" / {h['job']}" if h["job"] else ""),
        f"等级：{h['level_name']}",
        f"发证日期：{h['issue_date']}",
        f"评价机构：{h['org_name']}",
    ]
    if h["status"] == "注销":
        lines.append(f"状态：**已注销**（{h['revoked_at']}，原因：{h['revoke_reason']}）。这张证书已经无效。")
    else:
        lines.append("状态：**有效**")
    return "\n".join(lines)
