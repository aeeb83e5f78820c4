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

    @property
    def names_province(self) -> bool:
        """Named by the province's own name ("江苏", "上海"), not one of its places: "不是无锡
        本地人" denies a city, which says nothing of the province."""
        return self.word in (self.province.name, self.province.short)


class Places:
    def __init__(self, provinces: list[Province]) -> None:
        self.by_code = {p.code: p for p in provinces}
        names: dict[str, Province] = {}
        for p in provinces:
            for word in (p.name, p.short, *p.places):
                names[word] = p
        self._by_word = names | _latin_names(provinces)
        # Longest first, so 吉林省 wins over 吉林 and 连云港 over any shorter name; a name in
        # letters ("Shanghai", "suzhou") only as a word of its own.
        chinese = "|".join(re.escape(w) for w in sorted(names, key=len, reverse=True))
        latin = "|".join(sorted(_latin_names(provinces), key=len, reverse=True))
        self._pattern = re.compile(f"{chinese}|(?<![a-z])(?:{latin})(?![a-z])", re.IGNORECASE)

    @classmethod
    def load(cls, path: Path = PLACES_FILE) -> Places:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(
            [Province(str(p["code"]), p["name"], p["short"], tuple(p.get("places", []))) for p in data["province"]]
        )

    def mentions(self, text: str) -> list[Mention]:
        found = self._pattern.finditer(text)
        return [Mention(m.start(), m.group(0), self._by_word[_key(m.group(0))]) for m in found]

    def province(self, text: str) -> Province | None:
        """The first province named in `text`, directly or through one of its places."""
        found = self.mentions(text)
        return found[0].province if found else None

    def by_short(self, short: str) -> Province:
        return next(p for p in self.by_code.values() if p.short == short)


def _key(word: str) -> str:
    return word.lower() if word.isascii() else word


# Where one spelling names places in two provinces (Suzhou: 苏州 and 宿州), the rules' own
# province is meant; other such spellings (Shanxi, Fuzhou) are too ambiguous to read.
PREFERRED_IN_A_TIE = "江苏"


def _latin_names(provinces: list[Province]) -> dict[str, Province]:
    """Place names as people type them in letters (pinyin without tones): 'Shanghai', 'Nanjing'."""
    from knowledge.spelling import lazy_pinyin  # with the phrase table off, as there

    readings: dict[str, set[str]] = {}
    by_short = {p.short: p for p in provinces}
    for p in provinces:
        for word in (p.short, *p.places):
            spelled = "".join(lazy_pinyin(word)).lower()
            if spelled.isascii() and spelled.isalpha() and len(spelled) >= 4:
                readings.setdefault(spelled, set()).add(p.short)
    out = {}
    for spelled, shorts in readings.items():
        if len(shorts) == 1 or PREFERRED_IN_A_TIE in shorts:
            out[spelled] = by_short[next(iter(shorts)) if len(shorts) == 1 else PREFERRED_IN_A_TIE]
    return out


@lru_cache(maxsize=1)
def shared_places() -> Places:
    return Places.load()
