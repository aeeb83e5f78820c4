"""Transport-agnostic message types shared by the engine, the handlers and every channel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Telegram limits callback data to 64 bytes; every payload we mint must fit.
MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class Button:
    label: str
    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload too long: {self.payload!r}")


@dataclass(frozen=True)
class Document:
    filename: str
    content: str
    path: str | None = None  # where the console channel saved it


@dataclass
class Reply:
    """One bot message. `text` may hold **bold** spans, the only markup channels must render."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    document: Document | None = None
    # True when this message supersedes the previous step's message (Telegram edits it).
    replace: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "buttons": [{"label": b.label, "payload": b.payload} for b in self.buttons],
            "payload": self.payload,
        }
        if self.document is not None:
            data["document"] = {"filename": self.document.filename, "path": self.document.path}
        return data


@dataclass(frozen=True)
class Incoming:
    user_id: int
    chat_id: int
    text: str | None = None
    button: str | None = None
    update_id: int | None = None
    channel: str = "console"
    is_admin: bool = False


@dataclass
class Context:
    """What a handler sees: the message, the user's mutable state, the open transaction."""

    incoming: Incoming
    state: dict[str, Any]
    session: AsyncSession
    now: datetime
    # Whether the policy Q&A would answer the text (its learnt decision), known before any
    # handler runs: text that answers no step of a dialogue but this is a question of its own.
    answerable: bool = False

    @property
    def text(self) -> str:
        return self.incoming.text or ""

    def asks_a_question(self) -> bool:
        """Text typed inside a dialogue that is a question of its own rather than a bad answer
        (a question, or keywords the notices answer): the dialogue steps aside, its progress kept."""
        return self.answerable or is_question(self.text)

    # A capability keeps its dialogue under state[<its name>]; state["active"] names the one
    # that gets the user's next text first.
    def activate(self, name: str) -> None:
        self.state["active"] = {"kind": name}

    def step_aside(self) -> None:
        """Stop taking the user's text first; the dialogue's own state stays for resuming."""
        self.state.pop("active", None)

    def end_dialogue(self, name: str) -> None:
        self.state.pop(name, None)
        self.step_aside()

    def next_token(self) -> str:
        """A fresh token for buttons of the step being shown; older buttons become stale."""
        seq = int(self.state.get("seq", 0)) + 1
        self.state["seq"] = seq
        return _b36(seq)

    def token_is_current(self, token: str) -> bool:
        return token == _b36(int(self.state.get("seq", 0)))


_QUESTION = re.compile(r"[？?]|吗|怎么|怎样|如何|什么|哪些|哪里|哪个|能不能|可不可以|是否|多少")


def is_question(text: str) -> bool:
    return len(text.strip()) >= 6 and bool(_QUESTION.search(text))


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
