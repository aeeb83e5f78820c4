"""Personal numbers out of anything we log or keep: ID numbers, phone numbers, certificate
numbers. What a user typed is stored (for the gap report) only after this."""

from __future__ import annotations

import re

# Order matters: the longest shapes first, so an ID number is not read as a phone number.
_PATTERNS = (
    # New certificate numbers (S/Y + 21 digits) and old all-digit ones, spaces or dashes inside.
    (re.compile(r"(?<![A-Za-z0-9])[SYsy](?:[\s\-]*\d){18,23}(?!\d)"), "[证书编号]"),
    # Resident ID numbers: 17 digits and a check digit or X.
    (re.compile(r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"), "[身份证号]"),
    (re.compile(r"(?<![\dA-Za-z])\d(?:[\s\-]?\d){12,21}(?![\dA-Za-z])"), "[证书编号]"),
    # Mobile numbers, with or without +86 and separators.
    (re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}(?!\d)"), "[手机号]"),
)


def redact(text: str) -> str:
    for pattern, label in _PATTERNS:
        text = pattern.sub(label, text)
    return text
