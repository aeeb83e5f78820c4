"""Certificate numbers: normalise, recognise the format, decode its fields, say what is wrong.

The national unified rule for 职业技能等级证书 (22 characters, no check digit):
  1      S 社会培训评价组织 / Y 用人单位
  2–5    评价机构代码 (0000 for bodies filed with a province)
  6–7    province code (GB/T 2260)
  8–13   评价机构（站点）序列码
  14–15  year of issue (two digits)
  16     level 1–5 (1 一级/高级技师 … 5 五级/初级工)
  17–22  certificate serial number
Older 国家职业资格证书 have 16 digits (1–2 year, 11 level); old Shanghai numbers 13 digits
starting 000. A well-formed number is never proof that a certificate exists.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from knowledge.extract import LEVEL_NAMES
from knowledge.places import shared_places

SKILL_LEVEL = "skill_level"
OLD_QUALIFICATION = "old_qualification"
UNKNOWN = "unknown"

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_·.]+")
# Something that looks like a certificate number inside a sentence (for routing).
# An S/Y number with a digit too many or too few is still taken, so its length can be explained;
# a letter O typed for a zero inside the digits too.
_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[SYsy](?:[\s\-]*[\dOo]){18,24}(?![\dOo])|(?<!\d)\d(?:[\s\-]?\d){12,21}(?!\d)")
_CERT_WORDS = re.compile(r"证书|证号|编号|证件编号|查证|核验|真伪|真假")
ORG_KINDS = {"S": "社会培训评价组织", "Y": "用人单位"}


@dataclass
class Decoded:
    number: str
    format: str
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.format == SKILL_LEVEL and not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "format": self.format, "fields": self.fields, "errors": self.errors}


def normalise(raw: str) -> str:
    """Full-width to half-width, no spaces or hyphens, upper case; a letter O among the
    digits of an S/Y number read as the zero it was meant to be."""
    if raw.isascii() and raw.isalnum():  # already clean: the common case when importing
        number = raw.upper()
    else:
        number = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if len(number) > 1 and number[0] in "SY" and "O" in number[1:]:
        number = number[0] + number[1:].replace("O", "0")
    return number


def find_number(text: str) -> str | None:
    """A certificate-number-like string in free text: a 22-character S/Y number anywhere,
    or a 13–22 digit number next to words about certificates (18-digit ID numbers alone
    are not taken for certificates)."""
    for m in _IN_TEXT.finditer(unicodedata.normalize("NFKC", text)):
        number = normalise(m.group(0))
        if number[0] in "SY" or (_CERT_WORDS.search(text) and len(number) in (13, 16, 22)):
            return number
    return None


def decode(raw: str, today: date | None = None) -> Decoded:
    today = today or date.today()
    number = normalise(raw)
    if len(number) == 22:
        return _decode_skill_level(number, today)
    if number[:1] in ("S", "Y") and number[1:].isdigit() and 19 <= len(number) <= 25:
        out = Decoded(number, SKILL_LEVEL)
        missing = "少了" if len(number) < 22 else "多了"
        out.errors.append(
            f"职业技能等级证书编号应为22位（S或Y加21位数字），这里是{len(number)}位："
            f"可能{missing}{abs(22 - len(number))}位，请对照证书逐位核对"
        )
        return out
    if len(number) == 16 and number.isdigit():
        return _decode_old(number)
    if len(number) == 13 and number.isdigit() and number.startswith("000"):
        return Decoded(number, OLD_QUALIFICATION, {"kind": "上海市旧版职业资格证书编号（13位）"})
    return Decoded(number, UNKNOWN)


def _decode_skill_level(number: str, today: date) -> Decoded:
    out = Decoded(number, SKILL_LEVEL)
    kind, org, province, site, year, level, serial = (
        number[0],
        number[1:5],
        number[5:7],
        number[7:13],
        number[13:15],
        number[15],
        number[16:22],
    )
    if kind not in ORG_KINDS:
        out.errors.append(f"第1位应为S（社会培训评价组织）或Y（用人单位），这里是“{kind}”")
    else:
        out.fields["issuer_kind"] = ORG_KINDS[kind]
    if not org.isdigit():
        out.errors.append(f"第2–5位评价机构代码应为4位数字，这里是“{org}”")
    else:
        out.fields["org_code"] = org
        out.fields["org_filed_with"] = "省级备案的评价机构" if org == "0000" else "评价机构代码" + org
    region = shared_places().by_code.get(province)
    if region is None:
        out.errors.append(f"第6–7位省份代码“{province}”不是有效的省级行政区划代码")
    else:
        out.fields["province"] = region.name
        out.fields["province_code"] = province
    if not site.isdigit():
        out.errors.append(f"第8–13位评价机构（站点）序列码应为6位数字，这里是“{site}”")
    else:
        out.fields["site"] = site
    if not year.isdigit():
        out.errors.append(f"第14–15位发证年份应为2位数字，这里是“{year}”")
    elif 2000 + int(year) > today.year:
        out.errors.append(f"第14–15位发证年份是20{year}年，晚于今年（{today.year}年）")
    else:
        out.fields["year"] = 2000 + int(year)
    if not level.isdigit() or not 1 <= int(level) <= 5:
        out.errors.append(f"第16位等级应为1–5（5为五级/初级工，1为一级/高级技师），这里是“{level}”")
    else:
        out.fields["level"] = int(level)
        out.fields["level_name"] = LEVEL_NAMES[int(level)]
    if not serial.isdigit():
        out.errors.append(f"第17–22位证书序列码应为6位数字，这里是“{serial}”")
    else:
        out.fields["serial"] = serial
    return out


def _decode_old(number: str) -> Decoded:
    out = Decoded(number, OLD_QUALIFICATION, {"kind": "国家职业资格证书（旧版，16位）"})
    year = int(number[:2])
    out.fields["year"] = (2000 if year < 50 else 1900) + year
    level = int(number[10])
    if 1 <= level <= 5:
        out.fields["level"] = level
        out.fields["level_name"] = LEVEL_NAMES[level]
    return out


def describe(decoded: Decoded) -> str:
    """The decoded fields in one line: "江苏省，2021年发证，三级/高级工，用人单位"."""
    f = decoded.fields
    parts = [
        f.get("province"),
        f"{f['year']}年发证" if "year" in f else None,
        f.get("level_name"),
        f.get("issuer_kind"),
    ]
    return "，".join(p for p in parts if p)


# -- 居民身份证 (GB 11643) --------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_FORMAT = re.compile(r"\d{17}[\dX]")


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


def id_number_error(raw: str) -> str | None:
    """Why an 18-digit resident ID number is invalid, or None if it is valid."""
    number = normalise(raw)
    if not _ID_FORMAT.fullmatch(number):
        return "居民身份证号应为18位（最后一位可为X）"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"居民身份证号中的出生日期{number[6:14]}无效"
    if id_check_digit(number[:17]) != number[17]:
        return "居民身份证号校验位不正确"
    return None


def mask_id(raw: str) -> str:
    number = normalise(raw)
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
