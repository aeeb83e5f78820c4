"""Provinces of China, their GB/T 2260 codes and the place names users use for them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PLACES_FILE = Path(__file__).parent / "data" / "places.toml"


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short: str
    places: tuple[str, ...]


@dataclass(frozen=True)
class Mention:
    start: int
    word: str
    province: Province


class Places:
    def __init__(self, provinces: list[Province]) -> None:
        self.by_code = {p.code: p for p in provinces}
        names: dict[str, Province] = {}
        for p in provinces:
            for word in (p.name, p.short, *p.places):
                names[word] = p
        self._by_word = names
        # Longest first, so 吉林省 wins over 吉林 and 连云港 over any shorter name.
        alternation = "|".join(re.escape(w) for w in sorted(names, key=len, reverse=True))
        self._pattern = re.compile(alternation)

    @classmethod
    def load(cls, path: Path = PLACES_FILE) -> Places:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(
            [Province(str(p["code"]), p["name"], p["short"], tuple(p.get("places", []))) for p in data["province"]]
        )

    def mentions(self, text: str) -> list[Mention]:
        return [Mention(m.start(), m.group(0), self._by_word[m.group(0)]) for m in self._pattern.finditer(text)]

    def province(self, text: str) -> Province | None:
        """The first province named in `text`, directly or through one of its places."""
        found = self.mentions(text)
        return found[0].province if found else None

    def by_short(self, short: str) -> Province:
        return next(p for p in self.by_code.values() if p.short == short)


@lru_cache(maxsize=1)
def shared_places() -> Places:
    return Places.load()
