"""Normalisation of whatever a user types, before any handler sees it."""

from __future__ import annotations

import re
import unicodedata

# Longest message we try to understand; Telegram itself caps messages at 4,096 characters.
MAX_MESSAGE_CHARS = 2000

# Bidirectional controls, zero-width characters and the BOM carry no meaning in a question.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"),
    None,
)
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_NEWLINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Drop invisible and control characters, fold runs of spaces; keep line breaks."""
    text = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") else " " for ch in text
    )
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def has_words(text: str) -> bool:
    """True if the text holds at least one letter or digit (not only emoji or punctuation)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)
