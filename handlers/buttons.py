"""Button payloads: one codec, with readable action names, for every capability.

A payload is "<prefix>:<token>:<action>[:<arg>…]": the capability's prefix, the dialogue token
the button was sent with ("-" for buttons that stay valid, like a clause link), what the
button does, and its arguments. Telegram allows 64 bytes of callback data; `encode` refuses
more rather than let Telegram reject the whole message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NO_TOKEN = "-"
MAX_BYTES = 64


class Action(StrEnum):
    START = "start"  # a walk-through, by flow id
    MENU = "menu"
    EXPORT = "export"
    RESUME = "resume"
    RESTART = "restart"
    BACK = "back"
    CANCEL = "cancel"
    SKIP = "skip"
    OPTION = "option"  # a choice step's option, by index
    YES = "yes"
    NO = "no"
    TICK = "tick"  # a checklist item, by index
    DONE = "done"
    NEXT = "next"
    ANSWER = "answer"  # an eligibility question: fact, option index
    CLAUSE = "clause"  # a clause in full, by passage id
    VOTE = "vote"  # an answer's 👍/👎: answer id, "up" or "down"


@dataclass(frozen=True)
class Press:
    token: str
    action: Action
    args: tuple[str, ...] = ()

    def arg(self, i: int = 0) -> str:
        return self.args[i] if i < len(self.args) else ""

    def index(self, i: int, below: int) -> int | None:
        """Argument i as an index into something of `below` items, or None if it is not one."""
        value = self.arg(i)
        return int(value) if value.isdigit() and int(value) < below else None


def encode(prefix: str, action: Action, *args: object, token: object = NO_TOKEN) -> str:
    data = ":".join([prefix, str(token), action.value, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button payload over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> Press | None:
    """A press from a payload without its prefix; None for anything this codec did not make."""
    token, _, rest = data.partition(":")
    name, *args = rest.split(":")
    try:
        return Press(token, Action(name), tuple(args))
    except ValueError:
        return None
