"""The interface every capability module implements, so the router treats them alike."""

from __future__ import annotations

from typing import Protocol

from handlers.base import Context, Reply


class Capability(Protocol):
    #: Intent name in payloads; also the key of its dialogue state and its kind in state["active"].
    name: str
    #: Button payload prefix, e.g. "qa" for "qa:-:vote:12:up" (handlers.buttons).
    prefix: str
    #: How the capability is named to users ("备案指引").
    title: str

    def claims(self, text: str) -> bool:
        """Whether free text (outside any dialogue) is meant for this capability."""
        ...

    def interrupts(self, text: str) -> bool:
        """Whether text is meant for this capability even in the middle of another's
        dialogue (a pasted certificate number); that dialogue keeps its place."""
        ...

    async def start(self, ctx: Context, args: str) -> list[Reply]:
        """The capability's command (/ask, /filing …), with whatever followed it."""
        ...

    async def on_free_text(self, ctx: Context) -> list[Reply]:
        """Free text the router attributed to this capability."""
        ...

    async def on_text(self, ctx: Context) -> list[Reply] | None:
        """Text while this capability's dialogue is active; None hands it back to the router."""
        ...

    async def on_button(self, ctx: Context, data: str) -> list[Reply]:
        """A button press whose payload starts with this capability's prefix."""
        ...
