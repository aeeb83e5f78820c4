"""Language resources as data: domain dictionary, stopwords, synonyms, regions, and the
tokenizer built from them (jieba for words, character bigrams for robustness)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import marisa_trie

from knowledge.jieba_import import jieba

LEXICON_DIR = Path(__file__).parent / "data" / "lexicon"
V = TypeVar("V")

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")
# jieba part-of-speech tags of words that name a thing; "eng" because an English word we
# have no gloss for is as unknown as a noun we have never seen.
# Place names are left out: regions have their own routing (regions.toml).
NOUN_TAGS = frozenset({"n", "nz", "nt", "vn", "j", "eng"})
# A noun this common in general Chinese (jieba's own counts) is too generic to be a topic.
COMMON_WORD_FREQ = 3000


class _TrieTable(Mapping[str, V]):
    """A read-only table by word in a marisa trie: jieba only reads its tables once our words
    are added, and a trie loads in a millisecond where a dict of half a million words took a
    fifth of a second to unpickle."""

    def __init__(self, trie: Any) -> None:
        self._trie = trie

    def _value(self, stored: Any) -> V:
        raise NotImplementedError

    def tobytes(self) -> bytes:
        return bytes(self._trie.tobytes())

    def __getitem__(self, word: str) -> V:
        return self._value(self._trie[word][0])

    def __contains__(self, word: object) -> bool:
        return word in self._trie

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)


class FrozenCounts(_TrieTable[int]):
    """jieba's word counts (its FREQ table)."""

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> FrozenCounts:
        if isinstance(counts, FrozenCounts):
            return counts
        return cls(marisa_trie.RecordTrie("<Q", ((w, (n,)) for w, n in counts.items())))

    @classmethod
    def frombytes(cls, data: bytes) -> FrozenCounts:
        return cls(marisa_trie.RecordTrie("<Q").frombytes(data))

    def _value(self, stored: Any) -> int:
        return int(stored[0])


class FrozenTags(_TrieTable[str]):
    """Part-of-speech tags by word."""

    @classmethod
    def of(cls, tags: Mapping[str, str]) -> FrozenTags:
        if isinstance(tags, FrozenTags):
            return tags
        return cls(marisa_trie.BytesTrie((w, t.encode()) for w, t in tags.items()))

    @classmethod
    def frombytes(cls, data: bytes) -> FrozenTags:
        return cls(marisa_trie.BytesTrie().frombytes(data))

    def _value(self, stored: Any) -> str:
        return bytes(stored).decode()


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case."""
    if unicodedata.is_normalized("NFKC", text):  # the quick check is far cheaper than NFKC
        return text.lower()
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Region:
    name: str
    parent: str | None
    aliases: tuple[str, ...]


@dataclass
class Lexicon:
    stopwords: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]
    regions: tuple[Region, ...]
    uncovered_places: tuple[str, ...]
    domain_words: tuple[str, ...]
    _tokenizer: jieba.Tokenizer = field(init=False, repr=False)
    # The noun rows of jieba's part-of-speech table (dict.txt's third column), read once:
    # importing jieba.posseg would read the file again for its own default tokenizer. Only
    # nouns are asked about, and the other 200,000 rows cost a saved index 0.07 s to load.
    _noun_tags: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        for word in self.domain_words:
            self._tokenizer.add_word(word, freq=20000)
        # Both sides of the synonym table are words: the user's phrasing ("自己评") must come
        # out of jieba whole for its expansion to apply.
        for key, words in self.synonyms.items():
            for word in (key, *words):
                if len(word) > 1 and _CJK_RUN.fullmatch(word):
                    self._tokenizer.add_word(word, freq=5000)
        for region in self.regions:
            for alias in region.aliases:
                self._tokenizer.add_word(alias, freq=20000)
        with self._tokenizer.get_dict_file() as f:
            rows = (line.decode("utf-8").split() for line in f if line.strip())
            self._noun_tags = {w: tag for w, _, tag in rows if tag in NOUN_TAGS}

    def __getstate__(self) -> dict:
        # jieba's tokenizers hold a lock and re-read their dictionary file when built; what
        # they know after our words were added is saved as tries (see _TrieTable).
        state = {k: v for k, v in self.__dict__.items() if k not in ("_tokenizer", "_noun_tags")}
        state["_jieba"] = (FrozenCounts.of(self._tokenizer.FREQ).tobytes(), self._tokenizer.total)
        state["_nouns"] = FrozenTags.of(self._noun_tags).tobytes()
        return state

    def __setstate__(self, state: dict) -> None:
        freq, total = state.pop("_jieba")
        nouns = state.pop("_nouns")
        self.__dict__.update(state)
        self._noun_tags = FrozenTags.frombytes(nouns)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.FREQ, self._tokenizer.total = FrozenCounts.frombytes(freq), total
        self._tokenizer.initialized = True

    @classmethod
    def load(cls, directory: Path = LEXICON_DIR) -> Lexicon:
        stopwords = frozenset(w for line in _data_lines(directory / "stopwords.txt") for w in line.split())
        domain = tuple(line.split()[0] for line in _data_lines(directory / "domain_words.txt"))
        synonyms_raw = tomllib.loads((directory / "synonyms.toml").read_text("utf-8"))["expand"]
        synonyms = {normalise(k): tuple(v) for k, v in synonyms_raw.items()}
        regions_raw = tomllib.loads((directory / "regions.toml").read_text("utf-8"))
        regions = tuple(Region(r["region"], r.get("parent"), tuple(r["aliases"])) for r in regions_raw["covered"])
        uncovered = tuple(regions_raw.get("uncovered", {}).get("names", []))
        return cls(stopwords, synonyms, regions, uncovered, domain)

    @cached_property
    def region_by_name(self) -> dict[str, Region]:
        return {r.name: r for r in self.regions}

    def ancestors(self, name: str) -> list[str]:
        """The regions enclosing `name`, nearest first ("江苏省南京市" → 江苏省, 全国)."""
        out = []
        region = self.region_by_name.get(name)
        while region is not None and region.parent:
            out.append(region.parent)
            region = self.region_by_name.get(region.parent)
        return out

    def words(self, text: str) -> list[str]:
        """Search-mode jieba words of normalised text, stopwords and punctuation removed."""
        out = []
        for word in self._tokenizer.cut_for_search(normalise(text), HMM=False):
            word = word.strip()
            if not word or _PUNCT_ONLY.match(word) or word in self.stopwords:
                continue
            out.append(word)
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each jieba word in the text as given (not normalised)."""
        return [(start, end) for _, start, end in self._tokenizer.tokenize(text, HMM=False)]

    def nouns(self, text: str) -> list[str]:
        """Noun-like words (things, names, abbreviations) of the text, for deciding whether a
        question is about something the notices never mention."""
        out: list[str] = []
        unknown_run = ""
        # Without jieba's HMM (its Viterbi over tags costs ~100 ms on a line of characters it
        # does not know); a run of such characters is taken as one unknown noun instead.
        for word, flag in [*self._tagged(normalise(text)), ("", "")]:
            if len(word) == 1 and _CJK.match(word) and not self._tokenizer.FREQ.get(word):
                unknown_run += word
                continue
            if len(unknown_run) > 1:
                out.append(unknown_run)
            unknown_run = ""
            if (
                len(word) > 1
                and flag in NOUN_TAGS
                and word not in self.stopwords
                and self._tokenizer.FREQ.get(word, 0) <= COMMON_WORD_FREQ
            ):
                out.append(word)
        return out

    def _tagged(self, text: str) -> Iterator[tuple[str, str]]:
        """(word, tag) as jieba.posseg's cut(HMM=False) gives them, for the words `nouns` reads
        (a tag that is not a noun's is given as "x"):
        dictionary words with their tag, runs of letters and digits as "eng", anything outside
        a word block one character at a time (never a noun, and it ends an unknown run)."""
        for block in _POS_BLOCK.split(text):
            if not _POS_BLOCK.match(block):
                yield from ((ch, "x") for ch in block)
                continue
            route: dict[int, tuple[float, int]] = {}
            self._tokenizer.calc(block, self._tokenizer.get_DAG(block), route)
            start, latin = 0, ""
            while start < len(block):
                end = route[start][1] + 1
                word = block[start:end]
                if _ALNUM_CHAR.match(word):
                    latin += word
                else:
                    if latin:
                        yield latin, "eng"
                        latin = ""
                    yield word, self._noun_tags.get(word, "x")
                start = end
            if latin:
                yield latin, "eng"

    def regions_in(self, text: str) -> tuple[set[str], set[str]]:
        """(covered regions named, uncovered places named) in the text."""
        covered = {r.name for r in self.regions if any(a in text for a in r.aliases)}
        uncovered = {p for p in self.uncovered_places if p in text}
        return covered, uncovered

    def strip_places(self, text: str) -> str:
        """The text without the place names we route on, so they do not also score as words."""
        for alias in self.place_aliases:
            text = text.replace(alias, " ")
        return text

    @cached_property
    def place_aliases(self) -> tuple[str, ...]:
        names = {a for r in self.regions for a in r.aliases} | set(self.uncovered_places)
        names |= {n + suffix for n in list(names) for suffix in ("市", "省", "区")}
        return tuple(sorted(names, key=len, reverse=True))


_CJK = re.compile(r"[\u4e00-\u9fff]")
# jieba.posseg's own block and letter patterns (re_han_internal, re_eng1).
_POS_BLOCK = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._]+)")
_ALNUM_CHAR = re.compile("^[a-zA-Z0-9]$")
CN_DIGITS = str.maketrans("零〇一二两三四五六七八九", "001223456789")
_CJK_OR_DIGIT_RUN = re.compile(r"[\u4e00-\u9fff0-9]+")


def bigrams(text: str) -> list[str]:
    """Character bigrams inside each run of Chinese characters and digits, with Chinese
    numerals read as digits so "前三名" meets "前3名"."""
    out: list[str] = []
    for run in _CJK_OR_DIGIT_RUN.findall(normalise(text).translate(CN_DIGITS)):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _data_lines(path: Path) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    return [x.strip() for x in lines if x.strip() and not x.lstrip().startswith("#")]
