"""名册 (the 职业技能等级认定人员名册 of 青人社发〔2020〕7号 附件3) files read and checked row
by row, before anything is stored: the format, the headers, and each row's certificate number,
ID number, dates, level and occupation code."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from knowledge.certno import LEVEL_NAMES, decode, id_number_error, mask_id, normalise
from knowledge.extract import level_in

# 名册 header → column. Both spellings of 证件号 occur in practice.
HEADERS = {
    "评价机构编码": "org_code",
    "评价机构名称": "org_name",
    "姓名": "name",
    "证件类型": "id_type",
    "证件号": "id_no",
    "证件号码": "id_no",
    "性别": "gender",
    "出生日期": "birth_date",
    "职业编码": "occupation_code",
    "职业名称": "occupation_name",
    "工种名称": "job_name",
    "职业技能等级": "level",
    "证书编号": "cert_no",
    "发证日期": "issue_date",
}
REQUIRED: tuple[str, ...] = ("cert_no", "name", "id_type", "id_no", "org_code", "org_name", "occupation_code")
REQUIRED += ("occupation_name", "level", "issue_date")
_HEADER_OF = {column: header for header, column in reversed(list(HEADERS.items()))}
# 名册 columns kept for the record. 联系电话 and 电子邮箱 are personal contact data the
# registry does not need for verification, so they are not stored.
KEPT_EXTRA = ("是否本企业职工", "所在单位", "从事本职业(工种)时间", "从事本职业（工种）时间", "所在岗位", "入职时间")
ID_CARD_TYPES = ("居民身份证", "身份证", "二代身份证")
_OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")


class RosterError(ValueError):
    """A 名册 file that cannot be read at all (format, headers)."""


# -- reading files ----------------------------------------------------------------------


def read_roster(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    """(row count if cheap to know, rows as {header: value}) with 1-based file line numbers."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, lines = _scan_csv(path)
        return max(lines - 1, 0), _read_csv(path, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise RosterError(f"不支持的文件类型“{path.suffix}”：请使用 .csv 或 .xlsx")


def _scan_csv(path: Path) -> tuple[str, int]:
    """The file's encoding, UTF-8 (with or without BOM) or GB18030, and its line count, in one
    pass without loading it (a newline byte never occurs inside a character of either)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    lines += chunk.count(b"\n")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding, lines
        except UnicodeDecodeError:
            continue
    raise RosterError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")


def _read_csv(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        header = _header(next(reader, []))
        for line_no, values in enumerate(reader, start=2):
            if any(values):
                yield line_no, dict(zip(header, values, strict=False))


def _read_xlsx(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (in English) for a damaged file
        raise RosterError(
            "无法打开 Excel 文件：文件是空的、已损坏，或不是 .xlsx 格式。请用 Excel 另存为 .xlsx 后重试。"
        ) from exc
    sheet = book.active
    rows = sheet.iter_rows(values_only=True)
    header = _header(["" if v is None else str(v) for v in next(rows, ())])
    total = (sheet.max_row or 1) - 1

    def generate() -> Iterator[tuple[int, dict[str, Any]]]:
        for line_no, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield line_no, dict(zip(header, values, strict=False))
        book.close()

    return total, generate()


def _header(cells: list[str]) -> list[str]:
    header = [unicodedata.normalize("NFKC", c).strip() for c in cells]
    missing = [h for h, col in HEADERS.items() if col in REQUIRED and h not in header and h != "证件号码"]
    if "证件号码" in header and "证件号" in missing:
        missing.remove("证件号")
    if missing:
        raise RosterError("表头缺少这些列：" + "、".join(missing) + "（表头应与《职业技能等级认定人员名册》一致）")
    return header


# -- validating rows --------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # NFKC only where needed: most cells are ASCII or plain CJK, and NFKC costs on every cell.
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()


def parse_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    m = _DATE.match(_text(value))
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def parse_level(value: Any) -> int | None:
    text = _text(value)
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    return level_in(text)


def validate_row(raw: dict[str, Any], today: date) -> tuple[dict[str, Any], list[str]]:
    """A registry record from one 名册 row, and every problem found in it."""
    values: dict[str, Any] = {}
    for header, value in raw.items():
        column = HEADERS.get(header)
        if column is not None:
            # Dates may arrive as Excel date objects; everything else is read as text.
            values[column] = (
                value if column in ("issue_date", "birth_date") and not isinstance(value, str) else _text(value)
            )
    # Every problem of the row at once: an operator fixing one per upload would upload ten times.
    errors = [f"“{_HEADER_OF[col]}”为空" for col in REQUIRED if not values.get(col)]
    decoded = decode(values["cert_no"], today) if values.get("cert_no") else None
    if decoded is not None and not decoded.valid:
        errors.append("证书编号不符合全国统一编码规则：" + ("；".join(decoded.errors) or "应为22位（S/Y开头）"))
    coded = decoded.fields if decoded is not None and decoded.valid else None
    id_no = normalise(values.get("id_no") or "")
    if id_no and values.get("id_type") in ID_CARD_TYPES and (problem := id_number_error(id_no)):
        errors.append(problem)
    issue = parse_date(values["issue_date"]) if values.get("issue_date") else None
    if values.get("issue_date") and issue is None:
        errors.append(f"发证日期“{_text(values['issue_date'])}”无法识别（应为 YYYY-MM-DD）")
    elif issue is not None and issue > today.isoformat():
        errors.append(f"发证日期{issue}晚于今天")
    elif issue is not None and coded is not None and int(issue[:4]) != coded["year"]:
        errors.append(f"发证日期{issue}与证书编号中的年份{coded['year']}不一致")
    birth = parse_date(values.get("birth_date")) if _text(values.get("birth_date")) else None
    if _text(values.get("birth_date")) and birth is None:
        errors.append(f"出生日期“{_text(values.get('birth_date'))}”无法识别")
    level = parse_level(values["level"]) if values.get("level") else None
    if values.get("level") and level is None:
        errors.append(f"职业技能等级“{values['level']}”无法识别（应为1–5级或五级/初级工…一级/高级技师）")
    elif level is not None and coded is not None and level != coded["level"]:
        errors.append(f"职业技能等级{LEVEL_NAMES[level]}与证书编号第16位（{coded['level']}级）不一致")
    if values.get("occupation_code") and not _OCCUPATION_CODE.match(values["occupation_code"]):
        errors.append(f"职业编码“{values['occupation_code']}”格式不对（应像 6-18-01-01）")
    if errors:
        return {}, errors
    assert decoded is not None and level is not None and issue is not None  # no errors: all were given
    record = {
        "cert_no": decoded.number,
        "org_code": values["org_code"],
        "org_name": values["org_name"],
        "name": values["name"],
        "id_type": values["id_type"],
        "id_no_masked": mask_id(id_no),
        "gender": values.get("gender") or None,
        "birth_date": birth,
        "occupation_code": values["occupation_code"],
        "occupation_name": values["occupation_name"],
        "job_name": values.get("job_name") or None,
        "level": level,
        "issue_date": issue,
        "extra": {k: _text(raw[k]) for k in KEPT_EXTRA if k in raw and _text(raw[k])},
    }
    return record, []
