"""Notices as data: the manifest, PDF-artefact cleaning, and splitting into clauses.

A notice's text comes as extracted from PDF: sentences broken across lines, page breaks as
blank lines, Markdown markers, "(此页无正文)". We rebuild paragraphs, recognise the heading
levels Chinese official documents use (一、 / （一） / 1.), and emit clauses of at most
MAX_PASSAGE characters, each with its heading path, so every clause can be shown whole.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

BUNDLED_DIR = Path(__file__).parent / "data" / "notices"
MAX_PASSAGE = 600


class NoticeError(ValueError):
    """A notice that cannot be ingested; the message is shown to the user as is."""


@dataclass(frozen=True)
class NoticeMeta:
    doc_no: str
    title: str
    issuer: str
    region: str
    date: str
    effective: str | None = None
    source: str = ""
    part: str = "main"  # "main", or "attachment" for a notice embedded after the line "附件"


_ISSUER_TITLE = re.compile(r"^(.{2,60}?)关于")
_ISSUER_LINE = re.compile(r"^[\u4e00-\u9fff（）()]{4,40}(?:局|厅|部|委员会|委|办公室|办公厅|政府|中心)$")


def new_notice_meta(
    raw: str,
    doc_no: str,
    region: str,
    date: str,
    *,
    title: str = "",
    issuer: str = "",
    effective: str = "",
    source: str = "",
) -> NoticeMeta:
    """An uploaded notice's particulars, from what the operator gave and, where blank, from the
    text: the title is the first line; the issuer is the 发文机关 a Chinese title starts with
    ("…人社局关于…的通知"), else the sign-off line naming an office, else the title."""
    lines = [x.strip(" #*") for x in raw.splitlines() if x.strip(" #*")]
    first = lines[0] if lines else ""
    title = title.strip()[:500] or first[:200]
    if not issuer.strip():
        by_title = _ISSUER_TITLE.match(title)
        signed = next((x for x in reversed(lines[-12:]) if _ISSUER_LINE.match(x)), None)
        issuer = by_title.group(1) if by_title else signed or first
    return NoticeMeta(
        doc_no=canonical_doc_no(doc_no),
        title=title,
        issuer=issuer.strip()[:200],
        region=region.strip(),
        date=date.strip(),
        effective=effective.strip() or None,
        source=source[:200],
    )


@dataclass(frozen=True)
class ParsedClause:
    seq: int
    path: str
    kind: str  # preamble | body | closing | attachment | meta
    text: str


def load_manifest(directory: Path = BUNDLED_DIR) -> list[tuple[NoticeMeta, str]]:
    """The bundled notices with their text; each embedded attachment is a notice of its own."""
    manifest = tomllib.loads((directory / "manifest.toml").read_text("utf-8"))
    out = []
    for entry in manifest.get("notice", []):
        raw = (directory / entry["file"]).read_text("utf-8")
        meta = NoticeMeta(
            doc_no=entry["doc_no"],
            title=entry["title"],
            issuer=entry["issuer"],
            region=entry["region"],
            date=str(entry["date"]),
            effective=entry.get("effective"),
            source=entry["file"],
            part=entry.get("part", "main"),
        )
        out.append((meta, raw))
    return out


# ---------------------------------------------------------------------------------------
# Cleaning

_NOISE_LINES = re.compile(r"^[(（](此页无正文|此件公开发布|此件主动公开|此件不公开)[)）]$")
_RULE_LINE = re.compile(r"^[-—_=*]{3,}$")
_PAGE_NO = re.compile(r"^[-—–]\s*\d+\s*[-—–]$")
_MD_HEADING = re.compile(r"^#{1,6}\s*")
_BOLD = re.compile(r"\*\*")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_CHECKBOX = re.compile(r"<input[^>]*checkbox[^>]*/?>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_ATTACHMENT_LINE = re.compile(r"^(附\s*件\s*([0-9０-９]+)?|附\s*表\s*([0-9０-９]+)?)$")
_LIST_BULLET = re.compile(r"^[-•·]\s+")
# A title line ends with the kind of document it names; it never runs on into the next line.
_TITLE_END = ("通知", "意见", "（试行）", "(试行)", "办法", "规定", "方案", "决定", "细则")
_SENTENCE_END = tuple("。；;！!？?：:")


def _clean_line(line: str) -> str:
    line = line.replace("\u3000", " ").strip()
    if _MD_HEADING.match(line):
        # A Markdown heading is a line of its own: mark it so no paragraph swallows it.
        line = "\x00" + _MD_HEADING.sub("", line)
    line = _LIST_BULLET.sub("", line)
    line = _BOLD.sub("", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _CHECKBOX.sub("□", line)
    line = _HTML_TAG.sub("", line)
    line = line.replace(" and ", "和") if re.search(r"[\u4e00-\u9fff] and [\u4e00-\u9fff]", line) else line
    return line.strip()


def split_attachment(raw: str) -> tuple[str, str]:
    """Split at the line that is exactly "附件": the body, and the embedded notice after it.
    The embedded notice ends at its own print line ("…印发"); what follows is the
    forwarding notice's own print footer and goes back to the body."""
    lines = raw.splitlines()
    for i, line in enumerate(lines):
        if _clean_line(line) == "附件":
            rest = lines[i + 1 :]
            for j, tail in enumerate(rest):
                if _clean_line(tail).endswith("印发"):
                    return "\n".join(lines[:i] + rest[j + 1 :]), "\n".join(rest[: j + 1])
            return "\n".join(lines[:i]), "\n".join(rest)
    raise NoticeError("文中没有单独一行的“附件”，无法拆出所附文件")


# ---------------------------------------------------------------------------------------
# Structure

_CN_NUM = "一二三四五六七八九十"
_L1 = re.compile(rf"^([{_CN_NUM}]{{1,3}})、\s*(.*)$")
_L2 = re.compile(rf"^[（(]([{_CN_NUM}]{{1,3}})[）)]\s*(.*)$")
_L3 = re.compile(r"^([0-9]{1,2})[.．、]\s*(?![0-9])(.*)$")
_INLINE_TITLE = re.compile(r"^([^。；：:]{2,30}?)[。：:](.+)$")


@dataclass
class _Node:
    level: int  # 0 root/section, 1 一、, 2 （一）, 3 1.
    label: str  # "一、规范资格审核", "（一）", "4"
    kind: str
    lines: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)


def _heading(line: str) -> tuple[int, str, str] | None:
    """(level, label, remainder) if the line opens a numbered clause."""
    for level, pattern in ((1, _L1), (2, _L2), (3, _L3)):
        m = pattern.match(line)
        if not m:
            continue
        number, rest = m.group(1), m.group(2).strip()
        if level == 1:
            title_m = _INLINE_TITLE.match(rest)
            title = title_m.group(1) if title_m else rest if len(rest) <= 30 else ""
            return level, f"{number}、{title}".rstrip("、"), rest
        if level == 2:
            title_m = _INLINE_TITLE.match(rest)
            title = title_m.group(1) if title_m else rest if len(rest) <= 30 else ""
            return level, f"（{number}）{title}", rest
        return level, number, rest
    return None


def _join_broken_lines(lines: list[str]) -> list[str]:
    """Rebuild paragraphs: a line that does not end a sentence continues on the next
    non-blank line unless that line opens a clause, a table row or an attachment."""
    out: list[str] = []
    standalone: set[int] = set()
    for line in lines:
        if not line or line == "\x00":
            continue
        marked = line.startswith("\x00")
        line = line.lstrip("\x00").strip()
        if out and not marked and len(out) - 1 not in standalone and _continues(out[-1], line):
            out[-1] += line
        else:
            out.append(line)
            if marked:
                standalone.add(len(out) - 1)
    return out


def _continues(prev: str, line: str) -> bool:
    if "\t" in prev or "\t" in line or _ATTACHMENT_LINE.match(line) or _heading(line):
        return False
    if prev.endswith(("电话：", "电话:")):
        return True  # a number that a page break put under its label
    if prev.endswith(_SENTENCE_END):
        return False
    if len(line) <= 2:
        return True  # a word cut in two by a page break ("公布目" / "录")
    if _heading(prev) and len(prev) <= 30:
        return False  # a bare heading line such as "一、指导思想"
    if prev.endswith(_TITLE_END) or (line.endswith(("：", ":")) and len(line) <= 80):
        return False  # a title, or the addressee line that follows it
    # Lines of a signature block or form are short and stand on their own.
    return len(prev) >= 20 and not prev.startswith(("附件", "联系人", "抄送"))


def _build_tree(paragraphs: list[str]) -> list[_Node]:
    """Sections in order: preamble, numbered body, closing, then one per attachment."""
    sections: list[_Node] = [_Node(0, "文头", "preamble")]
    stack: list[_Node] = []
    seen_body = False
    for para in paragraphs:
        if _ATTACHMENT_LINE.match(para):
            sections.append(_Node(0, para.replace(" ", ""), "attachment"))
            stack = []
            continue
        current = sections[-1]
        if current.kind == "attachment" or (current.kind == "closing" and not _L1.match(para)):
            current.lines.append(para)
            continue
        head = _heading(para)
        if head is not None and (head[0] == 1 or seen_body):
            level, label, _ = head
            if level == 1:
                seen_body = True
                if current.kind == "closing":  # numbering resumed: not a closing after all
                    sections.pop()
            node = _Node(level, label, "body", [para])
            while stack and stack[-1].level >= level:
                stack.pop()
            if stack:
                stack[-1].children.append(node)
            else:
                sections.append(node)
            stack.append(node)
            continue
        if seen_body and _is_closing(para):
            if current.kind != "closing":
                sections.append(_Node(0, "结尾", "closing"))
                stack = []
            sections[-1].lines.append(para)
            continue
        if stack:
            stack[-1].lines.append(para)
        else:
            sections[-1].lines.append(para)
    return [s for s in sections if s.lines or s.children]


_CLOSING_MARKERS = re.compile(
    r"(联系电话|联系人|举报电话|联系单位|附件[：:]|抄送|印发$|^\d{4}年\d{1,2}月\d{1,2}日$|"
    r"请及时.{0,20}(联系|反映)|自发文之日起|负责解释)"
)


def _is_closing(para: str) -> bool:
    return bool(_CLOSING_MARKERS.search(para)) or (len(para) <= 25 and not para.endswith("。"))


def _render(node: _Node) -> str:
    parts = list(node.lines)
    for child in node.children:
        parts.append(_render(child))
    return "\n".join(parts)


def _window(text: str, limit: int = MAX_PASSAGE) -> list[str]:
    """Cut a long paragraph at sentence ends into pieces of at most `limit` characters,
    overlapping by one sentence so an answer spanning a cut is still whole somewhere."""
    sentences = [s for s in re.split(r"(?<=[。；！？])", text) if s]
    pieces: list[str] = []
    start = 0
    while start < len(sentences):
        end, size = start, 0
        while end < len(sentences) and size + len(sentences[end]) <= limit:
            size += len(sentences[end])
            end += 1
        if end == start:  # one sentence longer than the limit: hard cut
            long = sentences[start]
            pieces.extend(long[i : i + limit] for i in range(0, len(long), limit))
            start += 1
            continue
        pieces.append("".join(sentences[start:end]))
        if end >= len(sentences):
            break
        start = max(end - 1, start + 1)
    return pieces


def _emit(node: _Node, path: str, out: list[tuple[str, str, str]]) -> None:
    label = node.label if node.level <= 1 else f"{path}{node.label}"
    full = _render(node)
    if len(full) <= MAX_PASSAGE:
        out.append((label, node.kind, full))
        return
    own = "\n".join(node.lines)
    # A heading with nothing under it but sub-clauses is carried by the sub-clauses' paths.
    if own and not (node.children and len(node.lines) == 1 and len(own) <= 30):
        out.extend((label, node.kind, piece) for piece in _window_lines(own))
    for child in node.children:
        _emit(child, label, out)


def _window_lines(text: str) -> list[str]:
    if len(text) <= MAX_PASSAGE:
        return [text]
    pieces: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if len(line) > MAX_PASSAGE:
            if buf:
                pieces.append(buf)
                buf = ""
            pieces.extend(_window(line))
        elif len(buf) + len(line) + 1 > MAX_PASSAGE:
            pieces.append(buf)
            buf = line
        else:
            buf = f"{buf}\n{line}" if buf else line
    if buf:
        pieces.append(buf)
    return pieces


def _meta_card(meta: NoticeMeta) -> str:
    lines = [
        f"文号：{meta.doc_no}",
        f"发文单位：{meta.issuer}",
        f"适用地区：{meta.region}",
        f"发文日期：{meta.date}",
    ]
    if meta.effective:
        lines.append(f"施行日期：{meta.effective}")
    return "\n".join(lines)


def _tabs_to_cells(line: str) -> str:
    cells = [c.strip() for c in line.split("\t")]
    return " | ".join(c for c in cells if c) if len(cells) > 1 else line


def parse_notice(raw: str, meta: NoticeMeta) -> list[ParsedClause]:
    """Clean a notice and split it into clauses. Raises NoticeError if nothing usable is found."""
    if meta.part == "attachment":
        raw = split_attachment(raw)[1]
    elif meta.part == "main" and any(_clean_line(x) == "附件" for x in raw.splitlines()):
        raw = split_attachment(raw)[0]
    cleaned = [_clean_line(x) for x in raw.splitlines()]
    cleaned = ["" if _NOISE_LINES.match(x) or _RULE_LINE.match(x) or _PAGE_NO.match(x) else x for x in cleaned]
    paragraphs = [_tabs_to_cells(p) for p in _join_broken_lines(cleaned)]
    sections = _build_tree(paragraphs)
    if not any(s.kind == "body" for s in sections):
        raise NoticeError("没有找到“一、”“（一）”等编号条款，无法按条款拆分，请检查文件内容")

    triples: list[tuple[str, str, str]] = []
    for section in sections:
        if section.kind == "attachment":
            title = section.lines[0] if section.lines else ""
            label = f"{section.label} {title}".strip() if len(title) <= 40 else section.label
            triples.extend((label, "attachment", piece) for piece in _window_lines(_render(section)))
        elif section.kind == "closing":
            text = _meta_card(meta) + "\n" + _render(section)
            triples.extend(("结尾", "closing", piece) for piece in _window_lines(text))
        else:
            _emit(section, "", triples)
    if not any(kind == "closing" for _, kind, _ in triples):
        triples.append(("结尾", "closing", _meta_card(meta)))
    return [
        ParsedClause(seq=i, path=path, kind=kind, text=text)
        for i, (path, kind, text) in enumerate(triples)
        if text.strip()
    ]


_YEAR_BRACKETS = re.compile(r"[\[［(（【〔]\s*((?:19|20)\d{2})\s*[\]］)）】〕]")


def canonical_doc_no(doc_no: str) -> str:
    """One spelling per 文号: 苏人社办函[2022]54号, (2022), ［2022］ and 【2022】 all become 〔2022〕."""
    text = unicodedata.normalize("NFKC", doc_no).strip().replace(" ", "")
    return _YEAR_BRACKETS.sub(r"〔\1〕", text)


MAX_NOTICE_CHARS = 1_000_000  # the longest real notice is ~16,000 characters; a book is not a notice


def notice_problem(meta: NoticeMeta, raw: str) -> str | None:
    """Why a notice cannot be added as given (in Chinese), or None."""
    from datetime import date

    from knowledge.places import shared_places

    if "\x00" in raw or sum(not (ch.isprintable() or ch in "\n\r\t") for ch in raw[:10_000]) > 50:
        return "文件里有空字节或大量不可见字符，不像政策文件的文本"
    if len(raw) > MAX_NOTICE_CHARS:
        return f"文件有{len(raw):,}个字符，超过单份通知的上限{MAX_NOTICE_CHARS:,}个字符；请只导入通知正文及其附件"
    if not re.search(r"[\u4e00-\u9fff]", raw):
        return "文件里没有中文正文"
    parts = meta.date.split("-")
    try:
        if len(parts) == 3:
            date(int(parts[0]), int(parts[1]), int(parts[2]))
        elif len(parts) != 1 or not 1949 <= int(parts[0]) <= 2100:
            raise ValueError
    except ValueError:
        return f"发文日期“{meta.date}”不是有效日期（应为 YYYY-MM-DD 或 YYYY）"
    if meta.region != "全国" and not shared_places().mentions(meta.region):
        return f"地区“{meta.region}”不是已知的省市名称（例如：江苏省、江苏省南京市、全国）"
    return None
