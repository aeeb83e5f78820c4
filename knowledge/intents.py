"""Which capability a free-text first message is for, learnt from labelled utterances.

The utterances (`data/intents/*.toml`) were written by an independent writer, with hard
negatives: the same topic asked as a policy question, an eligibility case, a filing request and
a certificate check. A character n-gram logistic regression is trained on them at start-up
(under a second); certain signals (commands, buttons, a certificate-number-shaped token) are
handled by the router before this is asked."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.lexicon import normalise
from knowledge.snapshots import fingerprint, load_or_build
from knowledge.sources import SourceError
from knowledge.spelling import respelled, typed_in_pinyin, typed_in_pinyin_already
from knowledge.vectors import IntentModel

INTENTS_DIR = Path(__file__).parent / "data" / "intents"
INTENTS = ("qa", "eligibility", "filing", "certificate")


class IntentDataError(SourceError):
    """An utterance file is malformed or names an unknown capability."""


@dataclass(frozen=True)
class Utterance:
    text: str
    intent: str
    style: str = ""


def load_utterances(directory: Path = INTENTS_DIR) -> list[Utterance]:
    out: list[Utterance] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise IntentDataError(f"{path.name}: 不是有效的 TOML：{exc}") from exc
        for group in data.get("intent", []):
            name = group.get("name") if isinstance(group, dict) else None
            if name not in INTENTS:
                raise IntentDataError(f"{path.name}: 未知的功能 {name}（可用：{'、'.join(INTENTS)}）")
            for item in group.get("examples", []):
                text = item.get("text") if isinstance(item, dict) else None
                if not isinstance(text, str) or not text.strip():
                    raise IntentDataError(f"{path.name}: 每条例句需要非空的 text")
                out.append(Utterance(text.strip(), name, str(item.get("style", ""))))
    return out


class IntentClassifier:
    """Two models: one for messages as most are written, and one for messages typed in
    pinyin ("wo hk zai anhui, sb zai nj jiao le 2 nian"), which also learns every utterance as
    it would be typed so. Kept apart because the pinyin copies' letters would otherwise weigh
    on the English words of mixed messages ("check 一下 name")."""

    def __init__(self, model: IntentModel, pinyin_model: IntentModel) -> None:
        self.model = model
        self.pinyin_model = pinyin_model
        self.labels = list(model.labels)

    @classmethod
    def train(cls, utterances: Sequence[Utterance]) -> IntentClassifier:
        if len({u.intent for u in utterances}) < 2:
            raise IntentDataError("意图例句至少要覆盖两个功能")
        texts, labels = [u.text for u in utterances], [u.intent for u in utterances]
        prepared = [_prepared(t) for t in texts]
        typed = [typed_in_pinyin(t, initials) for initials in (True, False) for t in prepared]
        return cls(IntentModel.fit(texts, labels, _prepared), IntentModel.fit(texts + typed, labels * 3, _prepared))

    def predict(self, text: str) -> tuple[str, float]:
        prepared = _prepared(text)
        model = self.pinyin_model if typed_in_pinyin_already(prepared) else self.model
        probs = model.probabilities(prepared)
        best = int(np.argmax(probs))
        return self.labels[best], float(probs[best])


def _prepared(text: str) -> str:
    """Homophone typos of the words that tell capabilities apart read as meant ("技能必武")."""
    return normalise(respelled(text))


@lru_cache(maxsize=1)
def bundled_classifier() -> IntentClassifier:
    return IntentClassifier.train(load_utterances())


def saved_classifier(directory: Path | None) -> IntentClassifier:
    """The bundled classifier, loaded from `directory` where it was trained before (the
    snapshot's key covers the utterance files)."""
    return load_or_build(directory, "intents", fingerprint(), bundled_classifier)
