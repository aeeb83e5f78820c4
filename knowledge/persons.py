"""Whose facts a clause states, when one message speaks of several people.

"俺媳妇户口在南京，俺户口在黑龙江，南京这比赛俺能参加不" asks for the speaker; "三个新员工：
A户口河南…；B常州户口；C在常州交社保两年了。A能报吗" asks for A. A clause's subject is the
person it opens with (我, 俺媳妇, 老陈, 小周, A, 他); a clause without one speaks of the last
person named. The person asked about is the one named in the question before its modal verb
(能, 可以, 行…), else the speaker if they told of themselves, else the first person told of.
Facts told of anyone else are not the asker's: their clauses are left out, except where they
also name the competition."""

from __future__ import annotations

import re

# The commonest surnames: 老陈, 小周 are people; 老家, 小区, 老板 are not.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金廖贾夏韦付傅方邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵钱严覃戴莫孔汤"
)
_OWNER = r"(?:我们|俺们|咱们|我|俺|咱)?(?:的|家|家的)?"
_FAMILY = (
    r"(?:孩子|娃|小孩)他?(?:爸|妈)|媳妇|老婆|老公|爱人|对象|丈夫|妻子|男朋友|女朋友|儿子|女儿|闺女|孩子|娃|小孩|"
    r"孙子|孙女|外孙女?|"
    r"侄子|侄女|外甥女?|弟弟|妹妹|哥哥|姐姐|老弟|老妹|爸爸?|妈妈?|父亲|母亲|表弟|表妹|堂弟|堂妹"
)
_OTHERS = r"同事|朋友|徒弟|师傅|老乡|室友|同学|员工|工人|学员|学徒|新人|小伙子?|姑娘"
_OWNER_PREFIX = re.compile("^" + _OWNER)
_PERSON = re.compile(
    rf"(?P<family>{_OWNER}(?:{_FAMILY}))"
    rf"|(?P<other>(?:我|俺|咱)(?:们)?(?:的|家)?(?:{_OTHERS})(?!组))"
    rf"|(?P<name>(?:老|小|阿)[{_SURNAMES}]|[{_SURNAMES}]某|(?<![A-Za-z])[A-E](?![A-Za-z]))"
    r"|(?P<pronoun>他|她)(?!们)"
    r"|(?P<self>我|俺|咱|本人|自己)(?!们)"
)
_MODAL = re.compile(
    r"(?<![技职功智性])能|可以|可不可以|行不行|中不中|够不够|有没有资格|有资格|符合|报得了|报得上|让不让"
)
_FACT = re.compile(
    r"户口|户籍|籍贯|老家|身份证|社保|养老|参保|学籍|读书|在读|上学|毕业|技校|学院|大学|职校|上班|工作|交了|缴了|本地|外地|外省"
    r"|是.{1,8}(?:人|的)[咯啊呀哈嘛哦噢哒]?$"  # "我是常州人": where one is from
)
_LEAD = re.compile(r"^\s*(?:其中|还有|另外|然后|至于|可是|可|但是|但|不过|而)?\s*")
_COMPETITION = re.compile(r"赛|比武|练兵|报名")
_ENTER = re.compile(r"赛|比武|练兵|报|参加|参赛|资格|条件")
_TOGETHER = re.compile(r"^[^，]{0,6}(?:和|跟|与|同)[^，]{0,6}(?:都|俩|两个|一样)|^(?:我们|俺们|咱们)?(?:俩|两个|都)")


def about_the_one_asked(parts: list[str]) -> list[str]:
    """The clauses that state facts of the person the message asks about (all of them when it
    speaks of one person only)."""
    subjects = _subjects(parts)
    told = [s for s, clause in zip(subjects, parts, strict=True) if s is not None and _FACT.search(clause)]
    if len(set(told)) < 2:
        return parts
    # A question that names no one asks for the speaker, if the speaker told of themselves.
    target = _asked_about(parts, subjects) or ("self" if "self" in told else told[0])
    return [
        clause
        for subject, clause in zip(subjects, parts, strict=True)
        if subject in (None, target) or not _FACT.search(clause) or _COMPETITION.search(clause)
    ]


def _subjects(parts: list[str]) -> list[str | None]:
    """Each clause's subject; None where a clause speaks of several people together."""
    out: list[str | None] = []
    current: str | None = None
    last_other: str | None = None
    for clause in parts:
        found = _opening_person(clause, last_other)
        if found is not None:
            current = found
            if found != "self":
                last_other = found
        out.append(None if _TOGETHER.search(clause) else current)
    return out


def _opening_person(clause: str, last_other: str | None) -> str | None:
    match = _PERSON.match(_LEAD.sub("", clause))
    return None if match is None else _who(match, last_other)


def _who(match: re.Match[str], last_other: str | None) -> str:
    kind = match.lastgroup or ""
    if kind == "self":
        return "self"
    if kind == "pronoun":
        return last_other or "他"
    # 俺媳妇 and 媳妇 are one person.
    return match.group(0) if kind == "name" else _OWNER_PREFIX.sub("", match.group(0))


def _asked_about(parts: list[str], subjects: list[str | None]) -> str | None:
    """The person named in the last question of entering before its modal verb ("南京这比赛
    俺能参加不"; not "我户口在这能不能带上他", which asks something else)."""
    for index in range(len(parts) - 1, -1, -1):
        modal = _MODAL.search(parts[index])
        if modal is None or not _ENTER.search(parts[index]):
            continue
        last_other = next((s for s in reversed(subjects[:index]) if s not in (None, "self")), None)
        named = _PERSON.search(parts[index], 0, modal.start())
        return _who(named, last_other) if named else None
    return None
