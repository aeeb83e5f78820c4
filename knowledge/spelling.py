"""Homophone typos: a word typed with the right sound and a wrong character ("备按" for 备案,
"射保" for 社保, "连运港" for 连云港). A typed word is read as a known word when it sounds
the same (toneless pinyin), shares at least one character with it, and is not itself a
known word (宿州 is a place of its own, not a typo for 苏州)."""

from __future__ import annotations

import os
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

# Per-character readings are all homophone matching needs; pypinyin's phrase table would
# add some 50 MB to every process.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")

from pypinyin import lazy_pinyin

from knowledge.places import shared_places
from knowledge.snapshots import fingerprint, load_or_build
from knowledge.sources import SourceError

SPELLING_FILE = Path(__file__).parent / "data" / "lexicon" / "spelling.toml"

PinyinTable = dict[tuple[str, ...], list[str]]


class SpellingError(SourceError):
    """The spelling data file is malformed (checked at start-up)."""


_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_CHINESE = re.compile(r"[\u4e00-\u9fff]+")
# Consonants standing alone among Chinese: "sb", "hk", "jnds". A vowel makes it a syllable
# ("ta" is 他) or English ("as"), not initials.
_LATIN_RUN = re.compile(r"(?<![A-Za-z])[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]{2,4}(?![A-Za-z])")
_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_USED_OFTEN = 5  # uses in the utterances before a word's initials are read as it
_STANDS_OUT = 3  # and this many times as often as the next word with those initials
_FUNCTION_CHARS = frozenset("的地得了着过是在和与及或也都还就把被给从向到")


@lru_cache(maxsize=16384)
def _reading(char: str) -> str:
    return str(lazy_pinyin(char)[0])


def readings(run: str) -> list[str]:
    """The toneless reading of each character of a run of Chinese characters: what
    `lazy_pinyin(run)` gives with the phrase table off (checked in the tests), a character at
    a time and remembered, at a thirtieth of the cost."""
    return [_reading(char) for char in run]


def pinyin_table(words: Iterable[str]) -> PinyinTable:
    """Words of two to four Chinese characters by their toneless reading."""
    table: PinyinTable = defaultdict(list)
    for word in words:
        if _WORD.fullmatch(word):
            table[tuple(readings(word))].append(word)
    return table


def homophones(
    text: str, table: PinyinTable, known: Collection[str], spans: Sequence[tuple[int, int]] | None = None
) -> dict[str, str]:
    """{typed: meant} for each homophone typo in the text, longest words first.

    With jieba's word spans, a typed word must start where a word does and either hold a
    character jieba could not join to any word, as a typo leaves, or end inside a word
    that is not itself a known one ("身份正是": 正是): "第三名" holds no 三明, "户籍安徽" no
    吉安, "启动" is a word and no 启东, "为南京" no 渭南. A word that differs only in a
    function character (在宁的 is not 宁德) or sounds like two known words (蘇州: 苏州 or
    宿州?) is left as typed."""
    starts = None if spans is None else {start: end for start, end in spans}
    inside = None if spans is None else {i: (start, end) for start, end in spans for i in range(start + 1, end)}
    found: dict[str, str] = {}
    for run in _RUN.finditer(text):
        syllables = readings(run.group(0))
        for size in (4, 3, 2):
            for i in range(len(run.group(0)) - size + 1):
                typed = run.group(0)[i : i + size]
                if typed in known or typed in found:
                    continue
                start = run.start() + i
                if (
                    starts is not None
                    and inside is not None
                    and not _typed_word(text, start, size, starts, inside, known)
                ):
                    continue
                meant = {
                    word
                    for word in table.get(tuple(syllables[i : i + size]), ())
                    if any(a == b for a, b in zip(word, typed, strict=True))
                    and not any(a != b and a in _FUNCTION_CHARS for a, b in zip(typed, word, strict=True))
                    and (inside is None or start + size not in inside or typed[-1] != word[-1])
                }
                if len(meant) == 1:
                    found[typed] = meant.pop()
    return found


def _typed_word(
    text: str, start: int, size: int, starts: dict[int, int], inside: dict[int, tuple[int, int]], known: Collection[str]
) -> bool:
    if start not in starts:
        return False
    end = start + size
    if end in inside:
        # "身份正是": the typed word's last character made a word with the next (the caller
        # checks that this character is the mistyped one).
        word_start, word_end = inside[end]
        return word_start == end - 1 and text[word_start:word_end] not in known
    return any(starts.get(i) == i + 1 for i in range(start, end))


class Respeller:
    """Rewrites typos of the words the fact reader keys on, keeping every character's
    position (so a span read from the rewritten text is the span in the original)."""

    def __init__(
        self,
        words: Iterable[str],
        same: dict[str, str],
        spans: Callable[[str], Sequence[tuple[int, int]]],
        usage: Callable[[], str] = str,
    ) -> None:
        self.words = frozenset(words)
        self.spans = spans
        self.same = same
        self.usage = usage
        self._table = pinyin_table(self.words)
        self._same = re.compile("|".join(map(re.escape, sorted(same, key=len, reverse=True)))) if same else None
        self._initials: dict[str, str] | None = None

    @classmethod
    def load(cls, path: Path = SPELLING_FILE) -> Respeller:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SpellingError(f"{path.name}: 读不了或不是有效的 TOML：{exc}") from exc
        words, same = data.get("words"), data.get("same", {})
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise SpellingError(f"{path.name}: words 应是一组非空的词")
        if not isinstance(same, dict) or not all(isinstance(v, str) for v in same.values()):
            raise SpellingError(f"{path.name}: [same] 应是“原词 = 替换词”")
        bad = [k for k, v in same.items() if len(k) != len(v)]
        if bad:
            raise SpellingError(f"{path.name}: [same] 的替换必须与原词等长：{'、'.join(bad)}")
        places = shared_places()
        place_words = [w for p in places.by_code.values() for w in (p.name, p.short, *p.places)]
        from knowledge.base import shared_lexicon  # jieba's words, loaded once per process

        return cls([*words, *place_words], same, lambda text: shared_lexicon().spans(text), _usage)

    def respell(self, text: str) -> str:
        if self._same is not None:
            text = self._same.sub(lambda m: self.same[m.group(0)], text)
        if _CHINESE.search(text) and _LATIN_RUN.search(text):
            text = _LATIN_RUN.sub(lambda m: self.initials().get(m.group(0).lower(), m.group(0)), text)
        fixes = homophones(text, self._table, self.words, self.spans(text))
        if not fixes:
            return text
        pattern = re.compile("|".join(map(re.escape, sorted(fixes, key=len, reverse=True))))
        return pattern.sub(lambda m: fixes[m.group(0)], text)

    def initials(self) -> dict[str, str]:
        """{initials: word} for the known words people type by their initials among Chinese
        ("sb在南通交了10个月", "hk江苏"): counted on first use (`count_initials`), or loaded as
        saved (`load_initials`)."""
        if self._initials is None:
            self._initials = self.count_initials()
        return self._initials

    def load_initials(self, directory: Path | None) -> None:
        """Loads the initials table from `directory` where it was counted before (the
        snapshot's key covers the utterances and the spelling data), so a process does not cut
        every utterance again at start-up."""
        if self._initials is None:
            self._initials = load_or_build(directory, "initials", fingerprint(), self.count_initials)

    def count_initials(self) -> dict[str, str]:
        """Most initials fit several words (sb: 社保, 上班, 苏北); the one people use far more
        often in the first messages the capabilities learn from is taken, and none where no
        word stands out. Half a second: jieba cuts every utterance."""
        usage = self.usage()
        # Every word people write, as jieba cuts it (sm is 什么 far more often than 厦门),
        # and the known words wherever they stand (jieba cuts 技能大赛 in two).
        uses = Counter(w for start, end in self.spans(usage) if _WORD.fullmatch(w := usage[start:end]))
        uses.update({w: usage.count(w) for w in self.words if w not in uses and _WORD.fullmatch(w) and w in usage})
        by_initials: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for word, count in uses.items():
            by_initials[_initials_of(word)].append((count, word))
        table = {}
        for key, counted in by_initials.items():
            (top, word), *rest = sorted(counted, reverse=True)
            runner_up = rest[0][0] if rest else 0
            if word in self.words and top >= _USED_OFTEN and top >= _STANDS_OUT * runner_up:
                table[key] = word
        return table


def _initials_of(word: str) -> str:
    return "".join(syllable[0] for syllable in readings(word))


def _usage() -> str:
    """The text of the intent utterances: how users write."""
    from knowledge.intents import load_utterances

    return "\n".join(u.text for u in load_utterances())


def typed_in_pinyin(text: str, initials: bool) -> str:
    """The text as people type it without a Chinese input method: with `initials`, a word of
    several characters by its initials and a single character in full ("我 hk 在 南京" →
    "wo hk zai nj"); without, every word in full ("nanjing")."""
    from knowledge.base import shared_lexicon

    typed = []
    for start, end in shared_lexicon().spans(text):
        word = text[start:end]
        if _CHINESE.fullmatch(word):
            typed.append(_initials_of(word) if initials and len(word) > 1 else "".join(readings(word)))
        elif word.strip():
            typed.append(word.strip())
    return " ".join(typed)


_LATIN_WORD = re.compile(r"[a-z]+")
_INITIALS_ONLY = re.compile(r"[bpmfdtnlgkhjqxzcsrwy]{1,8}")


def typed_in_pinyin_already(text: str) -> bool:
    """Whether a message without Chinese characters is Chinese typed in pinyin ("wo hk zai
    anhui", "zs bh zenme cha") rather than English or noise: at least two words, and four in
    five of them pinyin syllables run together or initials only."""
    words = _LATIN_WORD.findall(text.lower())
    if len(words) < 2 or _CHINESE.search(text):
        return False
    pinyin = sum(1 for word in words if _INITIALS_ONLY.fullmatch(word) or _syllables(word))
    return pinyin >= 0.8 * len(words)


def _syllables(word: str) -> bool:
    syllables = pinyin_syllables()
    # can[i]: word[:i] splits into syllables.
    can = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        can[end] = any(can[start] and word[start:end] in syllables for start in range(max(0, end - 6), end))
    return can[-1]


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless reading of the common Chinese characters (a tenth of a second, paid at
    start-up by the bot, on first use elsewhere). Read in one call, not through `_reading`,
    whose cache keeps the characters messages use."""
    return frozenset(lazy_pinyin("".join(chr(code) for code in range(0x4E00, 0x9FA6))))


@lru_cache(maxsize=1)
def shared_respeller() -> Respeller:
    return Respeller.load()


@lru_cache(maxsize=1024)
def respelled(text: str) -> str:
    """The text with its typos read as meant, by the shared respeller: routing and the facts
    reader ask for the same message several times."""
    return shared_respeller().respell(text)
