"""Facts a candidate states in their own words: how long they paid into the pension and
where, their 户籍, their group and school, the competition's region, a rank won.

Text is read clause by clause (split at punctuation), because users pack several facts
into one message ("我在苏州交了14个月社保，户口在河南") and each fact belongs to the
clause that names it. Numbers are read after cn2an turns Chinese numerals into digits.

A place value is a province code ("32"), "!32" (explicitly not that province), "local"
(本地/本省: the competition's own region), "nonlocal" (外省: outside its province) or
"othercity" (外地/异地: outside its city, perhaps not its province).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from knowledge.persons import about_the_one_asked
from knowledge.places import Places, shared_places
from knowledge.spelling import respelled

# Keyword-style messages ("社保交了一年 户口四川 江苏大赛") separate their facts by single spaces.
_CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n、：:]+|(?<=[\u4e00-\u9fff\d])\s+(?=[\u4e00-\u9fff])")

# 社包/社宝: how 社保 is mistyped (homophones).
PENSION_WORDS = re.compile(
    r"社保|社包|社宝|设保|社会保险|养老保险|养老|参保|缴费|五险|pension|social (?:insurance|security)", re.I
)
# 身份证是安徽的: the ID card's province is the 户籍's.
HUKOU_WORDS = re.compile(r"户口|户籍|籍贯|老家|身份证|hukou|household registration", re.I)
SCHOOL_WORDS = re.compile(
    r"学籍|院校|学校|技校|技师学院|技工|职校|职业学院|职业技术学院|高职|中职|职专|大学|学院|大专|本科|高校"
)
COMPETITION_WORDS = re.compile(r"赛|比武|比舞|练兵|打擂|竟赛|大塞|报名|职工组|学生组|competition|contest", re.I)
# A school left behind: no 学籍 any more (but 毕业班 / 快毕业 / 明年毕业 still study there).
GRADUATED = re.compile(r"(?<![快要将没未])(?<!明年)(?<!即将)毕业(?!班)(?!后)|graduat", re.I)
_MOVED_TO = re.compile(r"迁(?:到|去|往|至|入|回)|转到|落户(?:到|在)?|往(?=[\u4e00-\u9fff]{2,6}?迁)")
# "正在往苏州迁", "准备迁到南京": a move not made yet.
_MOVING = re.compile(r"(?:正在|正|还在|准备|打算|要|想|申请)$")
# 厂/公司/单位: where one works is where the employer pays the 社保.
WORK_WORDS = re.compile(r"工作|上班|打工|就业|务工|厂|公司|单位|工地|码头|干活|干了")
REQUIREMENT_WORDS = re.compile(r"要求|需要|须|门槛|条件是")

STUDENT_WORDS = re.compile(SCHOOL_WORDS.pattern + r"|学生|在读|读书|上学|实习|student", re.I)
WORKER_GROUP = re.compile(r"职工组|(?<!不是)职工|在职|员工|工人|上班族|企业组")
EXPLICIT_GROUP = re.compile(r"(学生|职工|企业|教师)(?:组|(?:技能)?(?:大赛|竞赛|比赛|赛))")

_LOCAL = re.compile(r"本地|本省|本市|当地|省内|我省")
_NONLOCAL = re.compile(r"外地|外省|省外|异地|外市")
_OUT_OF_PROVINCE = re.compile(r"外省|省外")
# "外省户口在南京交社保": a place word written onto its role word is that role's, and the named
# place goes to the other role.
_BOUND_PLACE = re.compile(r"(外省|省外|外地|异地|外市|本地|本省|本市|当地)(?:的)?(?=户口|户籍|社保|养老)")
_NEGATION = re.compile(r"不是|没有|没|不在|非")

_YEARS_MONTHS = re.compile(
    r"(?<![\d.])(\d{1,2}(?:\.\d)?)\s*年\s*(半)?\s*(多)?\s*(?:零)?\s*(?:(\d{1,2})\s*个\s*(?:多)?\s*月)?"
)
# "十来个月", "十个来月": about ten months, read as said and marked approximate.
_MONTHS = re.compile(r"(?<![\d.])(\d{1,3})\s*(?:来\s*)?(?:个\s*(多|来)?\s*月|months?\b)", re.I)
_HALF_YEAR = re.compile(r"半年")
# 七八个月, 两三年: two neighbouring numerals are a range (cn2an would read 七八 as 78).
_RANGE = re.compile(r"(一|二|两|三|四|五|六|七|八|九)(二|三|四|五|六|七|八|九|十)(?=\s*(?:个|年|月))")
# "社保一个月没落下" says it never stopped, not how long.
_NEVER_MISSED = re.compile(r"(?:一个月|一天|一次)(?:都|也)?(?:没|没有|未)(?:落下|落|断过|断|停过|停|欠过|欠)")
_SHORT_OF = re.compile(r"差\s*(\d{1,2})\s*个?\s*月\s*(?:就|才)?满\s*(\d)\s*年")
_ABOUT = re.compile(r"左右|大概|大约|差不多|上下|来个|个来|" + _RANGE.pattern)
_LESS_THAN = re.compile(r"不到|不满|没满|未满|没交满|未交满|不够|不足|还差|差一点|差点|差一些|快|将近|接近")
_NO_PENSION = re.compile(
    r"(?:没|没有|未|从未|从没)(?:有)?(?:交|缴|缴纳|参加|买)(?:过)?(?:社保|养老保险|保险)|没有社保|没社保"
    r"|(?:一天|一次|从来|从)(?:都)?没(?:有)?(?:交|缴)过"
    r"|(?:从未|从没|没|没有|未)(?:有)?在[^，。,]{1,6}(?:交|缴纳|缴|参保)过"
    r"|(?<!给)(?:没|没有|未)(?:有)?给(?:我|他|她)?(?:交|缴)(?:过)?(?:社保|养老)"
    r"|(?:社保|养老)(?:保险|那块|那部分|那一块|这块)?(?:也|都|一直|还|从来)?(?:没|没有|未)(?:有)?(?:交|缴)(?!满|够|到|齐)"
    r"|无社保|无养老|(?:社保|养老保险|pension|social security)\s*(?:never|not)\s*paid|no (?:social security|pension)"
)

# A start date ("2025年9月开始", "从去年国庆起", "今年2月才开始交"): the duration runs from it to today.
# (一直 is read before digits() turns it into 1直.)
_SINCE_MARK = (
    r"\s*(?:份)?\s*(?:\d{1,2}\s*[日号])?\s*(?:以?后)?\s*"
    r"(?:就|才|刚|开始|起|以来|至今|到现在|一直|1直|来|入职|参保|(?:交|缴)(?:到|至)(?:现在|今)"
    r"|(?:[我他她俺]们?)?(?:进|来|到|入)(?:的|了)"
    r"|(?:[^，。,\d]{1,6}?(?:开始|起)(?:给[我他她]?)?(?:交|缴|参保)))"
)
_SEASON_MONTH = {
    "国庆": 10, "春节": 2, "过年": 2, "过完年": 2, "元旦": 1, "年初": 1, "年中": 6, "年底": 12, "五一": 5,
    "端午": 6, "中秋": 9, "开春": 3, "腊月": 12, "暑假": 7, "寒假": 1, "劳动节": 5, "底": 12, "初": 1,
}  # fmt: skip
_SINCE = re.compile(
    r"(?P<date>(?:(\d{4})\s*年|(今年|去年|前年)|(?<![\d.])(\d{2})\s*年(?=\s*(?:\d{1,2}\s*月|"
    + "|".join(_SEASON_MONTH)
    + r")))\s*(?:的)?\s*(?:(\d{1,2})\s*月|(?:年)?("
    + "|".join(_SEASON_MONTH)
    + r"|这个时候|这时候|同期))?)"
    + _SINCE_MARK
)
_SINCE_MONTH = re.compile(r"(?<![\d年个])(\d{1,2})\s*月" + _SINCE_MARK)
_SINCE_LAST_MONTH = re.compile(r"上个?月(?:份)?\s*(?:才|刚|开始|起)")
_YEAR_AGO = {"今年": 0, "去年": 1, "前年": 2}

# "第3名", "前三名"; and "拿了第一", "整了个全市焊工第三": a place won, said without 名.
_RANK = re.compile(
    r"(?:第|前)\s*(\d{1,2})\s*名"
    r"|(?:拿了?|得了?|获得?了?|考了|整了个?|夺得?了?)[^\d，。,!?！？]{0,8}?第\s*(\d{1,2})(?![\d次步批条项个天年级类章款届])"
)
_PRIZE_RANK = {"冠军": 1, "头名": 1, "金牌": 1, "亚军": 2, "银牌": 2, "季军": 3, "铜牌": 3}
# 一等奖/二等奖 are prize tiers: several people share one, so a tier is not a rank (黄石's 前3名 is).
_PRIZE_TIER = re.compile(r"([1-3])\s*等奖|(特等)奖|(优秀)奖")

# National level names; 1 is the highest (一级/高级技师), 5 the lowest (五级/初级工).
LEVEL_NAMES = {1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工"}
_LEVEL_WORDS = [("高级技师", 1), ("技师", 2), ("高级工", 3), ("中级工", 4), ("初级工", 5)]
_LEVEL_DIGIT = re.compile(r"(?<!\d)([1-5])\s*级(?!技师)")

_SCHOOL_TYPES = [
    (re.compile(r"技工|技校|技师学院"), "技工院校"),
    (re.compile(r"职业|职校|高职|中职|职专"), "职业院校"),
    (re.compile(r"大学|学院|大专|本科|高校|高等"), "高等院校"),
    (re.compile(r"高中|初中|中学|小学"), "其他学校"),
]


@dataclass
class Extracted:
    facts: dict[str, Any] = field(default_factory=dict)

    def set(self, key: str, value: Any) -> None:
        self.facts.setdefault(key, value)

    def set_pension(self, duration: tuple[int, bool, str]) -> None:
        """The pension's (months, exact, as said), unless already read."""
        months, exact, said = duration
        self.set("pension_months", months)
        self.set("pension_exact", exact)
        self.set("pension_said", said)


_MAY_DAY = re.compile(r"(?<![一二三四五六七八九十百千万两])五一(?![一二三四五六七八九十百千万个])")


def digits(text: str) -> str:
    """Chinese numerals as digits (十三个月 → 13个月, 一年半 → 1年半)."""
    import cn2an  # a tenth of a second to import: only when a dialogue reads numbers

    text = _MAY_DAY.sub("劳动节", text)  # 五一 is a date, not 51
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.transform(text, "cn2an"))
        except Exception:  # cn2an refuses some odd strings; the original is still readable
            return text


def clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT.split(text) if c.strip()]


def duration_months(clause: str) -> tuple[int, bool, str] | None:
    """(months, exact, as said) of the first duration in a clause; exact is False for
    "一年多", "不到一年" and the like, and for a duration counted from a start date. A range
    ("七八个月") is read as its upper end, and marked approximate by `_ABOUT`."""
    clause = _NEVER_MISSED.sub("一直", _RANGE.sub(lambda m: m.group(2), clause))
    num = digits(clause)
    short = _SHORT_OF.search(num)
    if short:  # "差两个月满一年": a year less two months
        return max(int(short.group(2)) * 12 - int(short.group(1)), 0), True, short.group(0)
    since = since_months(num)
    if since is not None:
        return since
    less = bool(_LESS_THAN.search(clause))
    m = _YEARS_MONTHS.search(num)
    if m and float(m.group(1)) < 60:
        months = round(float(m.group(1)) * 12) + (6 if m.group(2) else 0) + int(m.group(4) or 0)
        said = ("不满" if less else "") + m.group(0).strip()
        exact = not (m.group(3) or less)
        return (max(months - 1, 0) if less else months), exact, said
    m = _MONTHS.search(num)
    if m:
        months = int(m.group(1))
        exact = not (m.group(2) or less or "来" in m.group(0))
        return (max(months - 1, 0) if less else months), exact, ("不满" if less else "") + m.group(0).strip()
    if _HALF_YEAR.search(clause):
        return (5 if less else 6), not less, "半年"
    return None


def since_months(text: str, today: date | None = None) -> tuple[int, bool, str] | None:
    """Whole months from a stated start date to today: 2025年9月 → 2026年11月 is 14. A year
    said without its month is read only when every month of it gives the same side of a
    year ("今年才开始交" is under a year; "2025年开始" in November 2026 could be either)."""
    today = today or date.today()
    m = _SINCE.search(text)
    if m:
        if m.group(2):
            year = int(m.group(2))
        elif m.group(4):  # "23年底": this century's
            year = 2000 + int(m.group(4))
        else:
            year = today.year - _YEAR_AGO[m.group(3)]
        said_season = m.group(6) or ""
        # "去年这个时候": the month it is now.
        season = m.group(5) or _SEASON_MONTH.get(said_season) or (today.month if said_season else None)
        first, last = (int(season), int(season)) if season else (1, 12)
        low = (today.year - year) * 12 + today.month - last
        high = (today.year - year) * 12 + today.month - first
        if 1 <= first <= 12 and 0 <= high < 600 and (low >= 12 or high < 12):
            months = max(low, 0) if low >= 12 else high
            return months, False, f"自{m.group('date').strip()}起（约{months}个月）"
    if _SINCE_LAST_MONTH.search(text):
        return 1, False, "上个月起（约1个月）"
    m = _SINCE_MONTH.search(text)
    if m:  # "7月进厂才开始交": the last July
        month = int(m.group(1))
        months = today.month - month + (12 if month > today.month else 0)
        if 1 <= month <= 12:
            return months, False, f"自{m.group(1)}月起（约{months}个月）"
    return None


def place_value(clause: str, places: Places) -> str | None:
    """Which province a clause puts something in, in the encoding described above."""
    found = places.mentions(clause)
    if found:
        code = found[0].province.code
        before = clause[: found[0].start]
        negated = bool(_NEGATION.search(before[-4:])) or bool(re.search(r"不是|不在", clause[found[0].start :]))
        if negated and not found[0].names_province:
            return None  # not this city may still be its province
        return f"!{code}" if negated else code
    return _unnamed_place(clause)


def level_in(clause: str) -> int | None:
    clause = clause.replace("技师学院", "")
    for word, level in _LEVEL_WORDS:
        if word in clause:
            return level
    m = _LEVEL_DIGIT.search(digits(clause))
    return int(m.group(1)) if m else None


def school_type(clause: str) -> str | None:
    for pattern, kind in _SCHOOL_TYPES:
        if pattern.search(clause):
            return kind
    return None


def extract(text: str) -> dict[str, Any]:
    """Every fact the text states; a key is absent when the text does not say. A fresh dict
    each time (callers add to it); the reading itself is cached, because routing asks the
    same message whether it is about eligibility before the handler reads it again."""
    return dict(_extract(text))


def names_competition(text: str) -> bool:
    """Names a competition, however typed ("技能必武")."""
    return bool(COMPETITION_WORDS.search(respelled(text)))


@lru_cache(maxsize=256)
def _extract(text: str) -> Mapping[str, Any]:
    return _read(respelled(text))


def _read(text: str) -> Mapping[str, Any]:
    corrected = _corrected(text)
    if corrected is not None:
        return corrected
    parts = clauses(text)
    doubted = {i + 1 for i, c in enumerate(parts) if _DOUBT.search(c)}
    if doubted or any(_unsure(c) for c in parts):
        # "超市有没有给她交社保我也不清楚": what the asker does not know is not stated.
        parts = [c for i, c in enumerate(parts) if not (_unsure(c) or _DOUBT.search(c) or i in doubted)]
        text = "，".join(parts)
    asked = about_the_one_asked(parts)
    if asked != parts:
        # "俺媳妇户口在南京，俺户口在黑龙江…俺能参加不": another person's facts are not the asker's.
        parts, text = asked, "，".join(asked)
    places = shared_places()
    out = Extracted()
    work = [c for c in parts if WORK_WORDS.search(c)]
    work_place = next((v for c in work if (v := _work_place(c, places)) is not None), None)
    unclaimed: list[tuple[str, str]] = []
    at = 0
    for clause in parts:
        _read_clause(clause, places, out, work_place)
        at = text.find(clause, at)
        if not any(rx.search(clause) for rx in (*_ROLE_WORDS.values(), _MOVED_TO)):
            unclaimed += [
                (m.province.code, m.word) for m in places.mentions(clause) if not _origin(text, at + m.start, m.word)
            ]
    if "competition_place" not in out.facts and unclaimed and COMPETITION_WORDS.search(text):
        # "杭州 技能大赛 江苏户口": a place standing on its own beside a competition is where it is held.
        out.set("competition_place", unclaimed[0][0])
        out.set("competition_city", unclaimed[0][1])
    if "pension_months" not in out.facts:
        _read_paid_on(parts, out)
    _add_periods(parts, places, out)
    paid_at_work = work_place is not None and out.facts.get("pension_place") == work_place
    if (
        "pension_place" in out.facts
        and "pension_months" not in out.facts
        and (_SINCE_JOINED.search(text) or paid_at_work)
    ):
        # "在南京上班两年了，社保一直交着", "勒太仓厂里做了两年，社保太仓交额": the pension runs
        # as long as the job, when said to run on or to be paid where the job is.
        # "他2024年就来常州了，社保一直在常州交": or as long as since they came.
        found = next((d for c in work if (d := duration_months(c)) is not None), None) or next(
            (d for c in parts if (d := since_months(digits(c))) is not None), None
        )
        if found is not None:
            out.set_pension(found)
    if "competition_place" not in out.facts and COMPETITION_WORDS.search(text):
        _infer_competition_place(text, out, work_place)
    _settle_pension_place(parts, places, out, work_place)
    if "school_type" in out.facts and GRADUATED.search(text):
        # "在无锡读的本科，去年毕业了": the school was named in another clause; the 学籍 ended.
        out.facts["school_type"] = "无学籍"
    _read_group(text, out)
    if "group" not in out.facts and not _student(text) and _working(text, out.facts):
        # Someone who tells of their job or their 社保 and of no school has no 学籍 to count:
        # the student condition cannot hold, so the group need not be asked.
        out.set("group", "worker")
        out.set("group_inferred", True)
    _read_rank(text, out)
    return MappingProxyType(out.facts)


_OTHER_ROLE = re.compile(PENSION_WORDS.pattern + "|" + WORK_WORDS.pattern + "|" + SCHOOL_WORDS.pattern, re.I)
_TO = re.compile(r"调到|转到|来到|迁到|去了|到了|换到|跳槽到")
_ORIGIN = re.compile(
    r"(?:[、和与及]\s*[\u4e00-\u9fff]{2,3})*"  # "甘肃、贵州来的学生"
    r"[\u4e00-\u9fff]{0,3}?(?:的)?(?:学生|人|来的|籍|老乡|小伙|姑娘)"
)


def _origin(text: str, start: int, word: str) -> bool:
    """ "新疆的学生", "甘肃、贵州来的学生", "小陈是湖南的": where people come from, not where a
    competition is held."""
    end = start + len(word)
    return bool(_ORIGIN.match(text, end)) or (text[start - 1 : start] == "是" and text[end : end + 1] in ("的", "人"))


_ROLE_WORDS = {
    "pension": PENSION_WORDS,
    "hukou": HUKOU_WORDS,
    "school": SCHOOL_WORDS,
    "competition": COMPETITION_WORDS,
    "work": WORK_WORDS,
}


_LINK = re.compile(r"(?:市|省|区|县)?(?:的|这边的?|那边的?|有个|有一个|举办的?|要办的?|办的?|搞的?|组织的?)?")
_OUTSIDE = re.compile(r"(?:的)?(?:不是|以外|之外|省外|市外|外(?![资企商国籍语]))")


def places_by_role(clause: str, places: Places) -> dict[str, str]:
    """Each place named in the clause goes to the role word nearest to it ("户口四川社保在南京":
    四川 is the 户口's, 南京 the pension's), as a value in the encoding above."""
    bound = {m.end() for m in _BOUND_PLACE.finditer(clause)}
    anchors = [
        (m.start(), m.end(), role)
        for role, rx in _ROLE_WORDS.items()
        for m in rx.finditer(clause)
        if m.start() not in bound
    ]
    out: dict[str, str] = {}
    if not anchors:
        return out
    for mention in places.mentions(clause):
        end = mention.start + len(mention.word)
        link = _LINK.match(clause, end)
        linked = [a for a in anchors if link is not None and link.end() > end and a[0] == link.end()]
        if linked:
            # "无锡市的contest", "镇江有个学生组的技能大赛": the role word the place is joined to.
            out.setdefault(linked[0][2], mention.province.code)
            out.setdefault(f"{linked[0][2]}_word", mention.word)
            continue

        def gap(anchor: tuple[int, int, str], start: int = mention.start, stop: int = end) -> tuple[int, int]:
            # On a tie the word before the place wins: "户口四川社保…" — 四川 is the 户口's.
            return max(anchor[0] - stop, start - anchor[1], 0), 0 if anchor[1] <= start else 1

        role = min(anchors, key=gap)[2]
        before = clause[max(0, mention.start - 4) : mention.start]
        # "户口在江苏省外", "江苏以外": the place named is where it is not.
        negated = bool(_NEGATION.search(before)) or bool(_OUTSIDE.match(clause[end:]))
        if negated and not mention.names_province:
            # "不是无锡本地人": not this city, which may still be its province: unsaid, so asked.
            continue
        out.setdefault(role, f"!{mention.province.code}" if negated else mention.province.code)
        out.setdefault(f"{role}_word", mention.word)
    return out


def _read_clause(clause: str, places: Places, out: Extracted, work_place: str | None) -> None:
    roles = places_by_role(clause, places)
    if _NO_PENSION.search(clause):
        out.set_pension((0, True, "没有缴纳"))
    elif PENSION_WORDS.search(clause):
        found = duration_months(clause)
        if found is not None:
            out.set_pension(found)
            if _ABOUT.search(clause):
                out.set("pension_approx", True)
        # "在常州上班交社保": the job's place, said in the same clause.
        where = _bound(clause, PENSION_WORDS) or roles.get("pension") or _unnamed_place(clause) or roles.get("work")
        if where is not None:
            out.set("pension_place", where)
        elif work_place is not None and "pension_place" not in out.facts:
            # The job's place said in another clause: taken as where the 社保 is paid, and
            # marked as inferred, so the reply says so.
            out.set("pension_place", work_place)
            out.set("pension_place_inferred", True)
    moved = _MOVED_TO.search(clause)
    if moved and (_PENDING.search(clause, moved.end()) or _MOVING.search(clause, 0, moved.start())):
        moved = None  # "迁到徐州的手续还在办": not moved yet
    # (社保转到南京, "今年4月才转到泰州来交" move the 社保, not the 户口.)
    if moved and (
        HUKOU_WORDS.search(clause)
        or (out.facts.get("hukou") and not _OTHER_ROLE.search(clause) and not _PAID.search(clause))
    ):
        # "户口本来是南通的，前几年迁到上海去了": the 户口 is where it moved to.
        after = places.mentions(clause[moved.end() :])
        if after:
            out.facts["hukou"] = after[0].province.code
    if HUKOU_WORDS.search(clause) and not (moved is None and _MOVED_TO.search(clause)):
        where = _bound(clause, HUKOU_WORDS) or roles.get("hukou") or (None if roles else _unnamed_place(clause))
        if where is not None and "全国" not in clause:
            out.set("hukou", where)
    elif re.search(r"[\u4e00-\u9fff]{2,3}人$", clause) or _from_place(clause, places):  # "我是河南人"
        where = place_value(clause, places)
        if where is not None:
            out.set("hukou", where)
    if SCHOOL_WORDS.search(clause) and not COMPETITION_WORDS.search(clause):
        if re.search(r"没有学籍|没学籍|无学籍", clause) or GRADUATED.search(clause):
            out.set("school_type", "无学籍")
        else:
            kind = school_type(clause)
            if kind is not None:
                out.set("school_type", kind)
            where = roles.get("school") or (None if roles else _unnamed_place(clause))
            if moved and (to := place_value(clause[moved.end() :], places)) is not None:
                where = to  # "从安徽的学校转到南通一所高职": the school now
            if where is not None:
                out.set("school_place", where)
    if COMPETITION_WORDS.search(clause):
        _read_competition(clause, roles, out)
    if REQUIREMENT_WORDS.search(clause):
        _read_requirement(clause, out)
    elif re.search(r"工作|干了|从业|工龄", clause) and not PENSION_WORDS.search(clause):
        found = duration_months(clause)
        if found is not None:
            out.set("work_years", found[0] // 12)
    if re.search(r"(我|本人)(?:是|有|已经是|拿了|考了|取得了?)", clause) and not REQUIREMENT_WORDS.search(clause):
        level = level_in(clause)
        if level is not None and not re.search(r"评|认定|晋升", clause):
            out.set("level", level)


_PENDING = re.compile(r"[^，。,]{0,8}?(?:还在办|正在办|在办理|办理中|还没办|没办完|没办下来|还没批)")
_FROM = re.compile(r"^(?:我|他|她|俺|咱)(?:们|俩)?(?:都)?(?:是|系)(?P<place>.{2,10}?)(?:的|人)[咯啊呀哈嘛哦噢哒]?$")


def _from_place(clause: str, places: Places) -> bool:
    """ "我是湖南衡阳的": where one is from, said with nothing but place names."""
    m = _FROM.match(clause)
    if m is None:
        return False
    rest = m.group("place")
    for mention in places.mentions(rest):
        rest = rest.replace(mention.word, "")
    return bool(rest != m.group("place")) and not rest.strip("省市县区")


def _bound(clause: str, role: re.Pattern[str]) -> str | None:
    """The place word written onto this role's word ("外省户口" → outside the province)."""
    for m in _BOUND_PLACE.finditer(clause):
        if role.match(clause, m.end()):
            if _NEGATION.search(clause[max(0, m.start() - 2) : m.start()]):
                # "非本市户籍": not this city, which may still be its province; "非本省": outside it.
                return "nonlocal" if m.group(1) == "本省" else None
            return _unnamed_place(m.group(1))
    return None


def _work_place(clause: str, places: Places) -> str | None:
    """Where the job is: "从上海调到我们无锡分公司" is 无锡's."""
    to = _TO.search(clause)
    if to is not None and (after := place_value(clause[to.end() :], places)) is not None:
        return after
    return place_value(clause, places)


def _unnamed_place(clause: str) -> str | None:
    """外地/本地 and the like, when the clause names no place."""
    if _OUT_OF_PROVINCE.search(clause):
        return "nonlocal"
    if _NONLOCAL.search(clause):
        # 外地 of a city's competition may be another city of the same province: asked.
        return "othercity"
    local = _LOCAL.search(clause)
    if local and not _NEGATION.search(clause[max(0, local.start() - 2) : local.start()]):
        return "local"
    # "户口不在本地": not this city, which may still be this province: unsaid, so asked.
    return None


def _read_competition(clause: str, roles: dict[str, str], out: Extracted) -> None:
    if re.search(r"全国|国赛|国家级|世赛", clause):
        out.set("competition_place", "national")
        return
    where = roles.get("competition")
    if where is not None and not where.startswith("!"):
        out.set("competition_place", where)
        out.set("competition_city", roles.get("competition_word"))


def _read_requirement(clause: str, out: Extracted) -> None:
    level = level_in(clause)
    if level is not None:
        out.set("level_required", level)
    if re.search(r"工作|从业|工龄|年限|经验", clause):
        found = duration_months(clause)
        if found is not None:
            out.set("work_years_required", found[0] // 12)


def _read_group(text: str, out: Extracted) -> None:
    """学生组 / 职工组 as said. Being a student (在读, 技校) is a 学籍, not a group: a student may be
    entered in either, so the group is asked when it decides; a worker is in the 职工组."""
    explicit = EXPLICIT_GROUP.search(text)
    if explicit:
        out.set("group", "student" if explicit.group(1) == "学生" else "worker")
    elif _affirmed(WORKER_GROUP, text):
        out.set("group", "worker")


# The pension paid from the start: as long as the job, or since the date the person came.
_SINCE_JOINED = re.compile(r"一直|都在|连续|没断|当月|那个月|入职")
_PAID = re.compile(r"交|缴")


def _read_paid_on(parts: list[str], out: Extracted) -> None:
    """ "灵活就业自个儿交的社保，交了一年零三个月了": a duration said of paying, in a clause after
    the one that names the 社保, is the 社保's."""
    named = False
    for clause in parts:
        if PENSION_WORDS.search(clause):
            named = True
            continue
        if named and (_PAID.search(clause) or _LESS_THAN.search(clause) or re.search(r"加起来|总共|一共", clause)):
            found = duration_months(clause)
            if found is not None:
                out.set_pension(found)
                return


_PAID_THROUGHOUT = re.compile(
    r"(?:两边|两个厂|两家|都)(?:厂里|公司|单位)?(?:都)?(?:给)?(?:交|缴)了?(?:社保|养老)"
    r"|(?:社保|养老保险?)(?:一直)?都(?:是)?(?:公司|厂里|单位|东家)?(?:给)?(?:交|缴)"
)


def _add_periods(parts: list[str], places: Places, out: Extracted) -> None:
    """ "社保先在苏州交了7个月，后来换工作到无锡又接着交了8个月": periods paid in one province add
    up; where the 社保 moved on ("杭州那边交了三年，苏州这边交了一年零两个月", "之前在贵州交的，
    今年4月才转到泰州来交"), the province it is paid in now is the one that counts."""
    periods: list[tuple[tuple[int, bool, str], str]] = []
    named = False
    last_where: str | None = None  # "在昆山给我交的社保，交了7个月": the place said just before
    for clause in parts:
        pension = bool(PENSION_WORDS.search(clause))
        named = named or pension
        if not (pension or (named and (_PAID.search(clause) or _AGAIN.search(clause)))) or _NO_PENSION.search(clause):
            continue
        if _GAP.search(clause):
            continue  # "后来断缴了半年": a gap, not a period
        where = (_paid_where(clause, places) if pension else _work_place(clause, places)) or last_where
        last_where = where
        found = duration_months(clause)
        if found is None:
            continue
        if where is None or not where.isdigit():
            return  # a period whose place is unsaid cannot be added to either side
        periods.append((found, where))
    if not periods and "pension_months" not in out.facts and _PAID_THROUGHOUT.search(" ".join(parts)):
        # "先在常州干了5个月，又到南通干了8个月，两边厂里都交了社保": the jobs are the periods.
        periods = [
            (d, w)
            for c in parts
            if WORK_WORDS.search(c) and (d := duration_months(c)) and (w := _work_place(c, places))
        ]
        if any(not where.isdigit() for _, where in periods):
            return
    if not periods or (len(periods) == 1 and periods[0][1] == out.facts.get("pension_place")):
        return  # one period, read as such already
    now = periods[-1][1]
    here = [d for d, where in periods if where == now]
    months = sum(d[0] for d in here)
    said = "+".join(d[2] for d in here) + (f"，共{months}个月" if len(here) > 1 else "")
    out.facts.update(pension_months=months, pension_exact=all(d[1] for d in here), pension_said=said, pension_place=now)


def _paid_where(clause: str, places: Places) -> str | None:
    """Where a clause naming the 社保 says it is paid: "社保在苏州", or "公司在昆山给我交的社保"."""
    roles = places_by_role(clause, places)
    return roles.get("pension") or (roles.get("work") if _PAID.search(clause) else None)


_HERE = re.compile(r"市里|本市|本地|当地|我们这|这边|省里|区里")
_AGAIN = re.compile(r"又|再|接着|另外")
_PAID_AT_HOME = re.compile(r"(?:在|是|回)老家(?:那边|那儿|那里|那块)?(?:交|缴)")
_CAME_FROM = re.compile(r"从[^，。,]{1,8}?转(?:过来|来|回来|(?:到|去|入|进)(?P<to>[^，。,]{2,8}))")
_GAP = re.compile(r"断缴|断交|断了|停缴|停交|停了|没交|没缴|未交|未缴|空了")


# "社保交了一年，哦不对，是十个月": what follows the correction replaces what it corrects.
_CORRECTION = re.compile(
    r"[，,。；;!！\s]*(?:哦|噢|啊|呃|哎)?\s*(?:(?<!对)不对(?:不对)?|说错了|写错了|打错了|更正一下|纠正一下|(?<=[哦噢啊呃哎])不是)"
    r"[，,。；;!！\s]*(?:应该)?"
)


def _corrected(text: str) -> Mapping[str, Any] | None:
    """The facts of a message that corrects itself: those said before the last correction,
    overridden by those after it. The corrected part is read with the role words of the
    clause it corrects ("是十个月" after "社保交了一年" is the 社保's)."""
    marks = list(_CORRECTION.finditer(text))
    if not marks:
        return None
    last = marks[-1]
    before, after = text[: last.start()], text[last.end() :]
    if not before.strip() or not after.strip():
        return None
    corrected_clause = clauses(before)[-1]
    if _DOUBT.search(clauses(after)[0]):
        # "社保交了一年多，不对，我记不太清": what was corrected is no longer said.
        before = before[: before.rfind(corrected_clause)]
    roles = "".join(m.group(0) for rx in _ROLE_WORDS.values() if (m := rx.search(corrected_clause)))
    facts = dict(_read(before))
    facts.update(_read(roles + after))
    return MappingProxyType(facts)


def _infer_competition_place(text: str, out: Extracted, work_place: str | None) -> None:
    """ "在常州读技校…学校推荐他去参加市里技能大赛": a competition said to be here (市里, 本地,
    这边) by someone whose job, 社保 and school are all in one province is that province's;
    marked as inferred, so the reply says so. A competition not placed at all is asked."""
    lived = {v for v in (work_place, out.facts.get("pension_place"), out.facts.get("school_place")) if v}
    provinces = {v for v in lived if v.isdigit()}
    if len(provinces) == 1 and lived == provinces and _HERE.search(text):
        out.set("competition_place", provinces.pop())
        out.set("competition_inferred", True)


_AT = re.compile(r"(?:在|到|来)$")


def _settle_pension_place(parts: list[str], places: Places, out: Extracted, work_place: str | None) -> None:
    """Where the 社保 is paid, when the clauses read one by one could not tell."""
    if any(_PAID_AT_HOME.search(c) for c in parts):
        # "社保交了一年多，不过是在老家交的": paid where the 户口 is, not where the job is.
        out.facts.pop("pension_place_inferred", None)
        if "hukou" in out.facts:
            out.facts["pension_place"] = out.facts["hukou"]
        else:
            out.facts.pop("pension_place", None)
        return
    if moved_in := [m for c in parts if PENSION_WORDS.search(c) and (m := _CAME_FROM.search(c))]:
        # "社保从山东转到连云港": paid where it moved to; "社保是从山东那边转过来的，这边接着交了
        # 十四个月": paid here now, where the job is (inferred: the reply says so).
        to = moved_in[-1].group("to")
        where = place_value(to, places) if to else work_place
        if where is not None:
            out.facts["pension_place"] = where
            if to:
                out.facts.pop("pension_place_inferred", None)
            else:
                out.facts["pension_place_inferred"] = True
    if "pension_place" not in out.facts and out.facts.get("pension_months"):
        _infer_pension_place(parts, places, out, work_place)


def _infer_pension_place(parts: list[str], places: Places, out: Extracted, work_place: str | None) -> None:
    """ "户口在娄底，在常州搞数控，社保交了一年多": 社保 with no place, said by someone whose job
    or stay ("在常州") is in one province, is paid there; marked as inferred, so the reply says
    so. Where the competition is says nothing of it ("社保交了三年，想报扬州的比赛": asked)."""
    lived = {work_place} if work_place else set()
    for clause in parts:
        if HUKOU_WORDS.search(clause) or SCHOOL_WORDS.search(clause):
            continue
        lived |= {m.province.code for m in places.mentions(clause) if _AT.search(clause[: m.start])}
    if len(lived) == 1 and (where := lived.pop()).isdigit():
        out.set("pension_place", where)
        out.set("pension_place_inferred", True)


# A fact the asker says they do not know: "不清楚" with an either-or ("有没有", "是…还是"),
# not the question itself ("不知道能不能报").
_UNSURE = re.compile(r"不清楚|不知道|不确定|不晓得|搞不清|说不准|没想好|还没定|没决定|not sure", re.I)
# "我记不太清，可能不到一年": the asker doubts their own memory of what follows.
_DOUBT = re.compile(r"记不(?:太)?清|拿不准|不太确定|说不好")
_EITHER = re.compile(r"有没有|是不是|是否|还是|给没给|交没交|(?P<a>[^能可行中好会])[没不](?P=a)")


def _unsure(clause: str) -> bool:
    return bool(_UNSURE.search(clause) and _EITHER.search(clause))


def _student(text: str) -> bool:
    """Tells of studying: not denied ("非在校学生"), not ended ("去年毕业了，现在在厂里上班")."""
    if GRADUATED.search(text):
        return False
    return _affirmed(STUDENT_WORDS, text) and not re.search(r"非在校|不是学生|不在读|没在读|没上学", text)


def _working(text: str, facts: Mapping[str, Any]) -> bool:
    return bool(WORK_WORDS.search(text)) or "pension_months" in facts or "pension_place" in facts


def _affirmed(pattern: re.Pattern[str], text: str) -> bool:
    """The pattern occurs, and not right after a denial ("没上学" says no student)."""
    return any(not _NEGATION.search(text[max(0, m.start() - 2) : m.start()]) for m in pattern.finditer(text))


def _read_rank(text: str, out: Extracted) -> None:
    num = digits(text)
    tier = _PRIZE_TIER.search(num)
    if tier:
        grade = tier.group(1)
        out.set("prize_tier", f"{'一二三'[int(grade) - 1]}等奖" if grade else tier.group(0))
    m = _RANK.search(num)
    if m:
        out.set("rank", int(m.group(1) or m.group(2)))
        out.set("rank_is_top_n", num[m.start()] == "前")
        return
    for word, rank in _PRIZE_RANK.items():
        if word in num:
            out.set("rank", rank)
            out.set("rank_is_top_n", False)
            return


# -- proportions (异地选手占比) -----------------------------------------------------------

_PCT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_CHENG = re.compile(r"(\d+)\s*成(半)?")
_FRACTION = re.compile(r"(\d+)\s*分之\s*(\d+)|(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])")  # cn2an writes 1/4
_HALF = re.compile(r"[1一]半|半数|过半")
_LESS = re.compile(r"不到|不足|不满|少于|以内|之内")
_PART_OF_WHOLE = re.compile(
    r"(\d+)\s*(?:个|名)?\s*(?:人|选手|名选手)[^\d]{0,12}?(\d+)\s*(?:个|名|人)[^\d]{0,3}?(?:外地|外省|外市|异地|省外|市外)"
    r"|(\d+)\s*(?:个|名)?\s*(?:人|选手|名选手)?[^\d]{0,12}?(?:外地|外省|外市|异地|省外|市外)[^\d]{0,8}?(\d+)\s*(?:个|名|人)"
)


def proportion(text: str) -> float | None:
    """A share as a percentage, however it is said: 15%, 百分之四十, 三成, 一成半, 一半多,
    四分之一, "100人里有15个外地的". "一半多" is just over 50, "不到一半" just under."""
    num = digits(text).replace("百分之", "%").replace("％", "%")
    num = re.sub(r"%(\d+(?:\.\d+)?)", r"\1%", num)  # 百分之40 → 40%
    found: float | None = None
    if m := _PCT.search(num):
        found = float(m.group(1))
    elif m := _FRACTION.search(num):
        whole, part = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
        found = 100 * part / whole if whole and part <= whole else None
    elif m := _CHENG.search(num):
        found = 10 * int(m.group(1)) + (5 if m.group(2) else 0)
    elif _HALF.search(num):
        found = 50.0
    elif m := _PART_OF_WHOLE.search(num):
        whole, part = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(3)), int(m.group(4)))
        found = 100 * part / whole if whole and part <= whole else None
    if found is None:
        return None
    if "以内" in num or "之内" in num:
        return round(found, 1)
    if _LESS.search(num):
        return round(found - 0.5, 1)  # "不到一半": just under the line
    if re.search(r"[1一]半多|过半|超过", num):
        return round(found + 0.5, 1)  # "一半多": just past it
    return round(found, 1)
