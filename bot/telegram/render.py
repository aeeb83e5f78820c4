"""Engine replies as Telegram messages: HTML that never breaks on user or notice text,
messages split under Telegram's 4,096-character limit, inline keyboards from buttons."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.base import Button

MAX_MESSAGE = 4096
# Inline keyboard: buttons whose labels are this short share a row, two at a time.
SHORT_LABEL = 8
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def to_html(text: str) -> str:
    """Our only markup is **bold**; everything else is escaped, so no user or notice text
    (<, >, &, stray asterisks, RTL marks) can break Telegram's HTML parser."""
    parts = _BOLD.split(text)
    return "".join(
        f"<b>{html.escape(p, quote=False)}</b>" if i % 2 else html.escape(p, quote=False) for i, p in enumerate(parts)
    )


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The reply as one or more HTML messages, each within `limit`, cut at line ends where
    possible and never inside a bold span or an HTML entity."""
    chunks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        for piece in _hard_split(line, limit):
            candidate = "\n".join([*current, piece])
            if current and utf16_len(to_html(candidate)) > limit:
                chunks.append("\n".join(current))
                current = [piece]
            else:
                current.append(piece)
    if current:
        chunks.append("\n".join(current))
    return [to_html(c) for c in chunks if c.strip()] or [to_html(text.strip() or "…")]


def _hard_split(line: str, limit: int) -> list[str]:
    """A single line too long for one message, cut into plain pieces (bold dropped: a cut
    could fall inside it)."""
    if utf16_len(to_html(line)) <= limit:
        return [line]
    plain = line.replace("**", "")
    # Escaping can grow text up to 5× (&amp;); cut conservatively.
    step = max(limit // 5, 1)
    return [plain[i : i + step] for i in range(0, len(plain), step)]


@dataclass(frozen=True)
class KeyButton:
    text: str
    callback_data: str


def keyboard(buttons: Sequence[Button]) -> list[list[KeyButton]]:
    """Rows of inline buttons: long labels get a row each, short ones pair up."""
    rows: list[list[KeyButton]] = []
    for b in buttons:
        key = KeyButton(b.label[:64], b.payload)
        if rows and len(rows[-1]) == 1 and len(b.label) <= SHORT_LABEL and len(rows[-1][0].text) <= SHORT_LABEL:
            rows[-1].append(key)
        else:
            rows.append([key])
    return rows
