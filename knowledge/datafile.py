"""Data files (flows, rules) read into pydantic models, with whatever is wrong in a file said
in one Chinese line that names the file and the place in it: start-up prints it as it is."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from knowledge.sources import SourceError

# Answers are compared as text, so `value = 1` and `when = { x = 1 }` mean "1".
Value = Annotated[str, Field(coerce_numbers_to_str=True)]
Values = Annotated[tuple[Value, ...], BeforeValidator(lambda v: v if isinstance(v, list) else [v])]


class Model(BaseModel):
    """Read from a data file: a misspelt key is an error, not a value silently left at its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)
_UNKNOWN_KEY = "不认识这个字段（拼错了？）"
_PROBLEMS = {
    "missing": "缺少{name}",
    "union_tag_not_found": "缺少{name}",
    "union_tag_invalid": "未知的{name} {tag!r}，可用的有 {expected_tags}",
    "extra_forbidden": _UNKNOWN_KEY,
    "unexpected_keyword_argument": _UNKNOWN_KEY,
    "too_short": "至少要有{min_length}项",
    "literal_error": "只能是 {expected}",
    "string_pattern_mismatch": "只能用小写字母、数字和下划线，最长12个字符",  # only ids have a pattern
    "value_error": "{error}",
}
# What a key or a union's tag is called, where the key alone would not say it.
_NAMES = {"source": "出处（source）", "kind": "步骤类型", "test": "条件类型"}
_TYPES = {"string": "文字", "int": "整数", "float": "数字", "bool": "布尔值（true/false）", "tuple": "列表"}


def load_toml(
    model: type[M], path: Path, error: type[SourceError], unions: dict[str, tuple[str, ...]] | None = None
) -> M:
    """A data file read into `model`; whatever is wrong becomes one Chinese line naming the file and
    the place in it, for start-up to print. `unions`: fields holding a tagged union, and their tags."""
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path.name}: 不是有效的 TOML：{exc}") from exc
    except ValidationError as exc:
        # A misspelt key also leaves a required one missing; the misspelling says what to fix.
        first = min(exc.errors(), key=lambda e: _PROBLEMS.get(e["type"]) != _UNKNOWN_KEY)
        where = _where(first["loc"], unions or {})
        raise error(f"{path.name}: {where}{'：' if where else ''}{_problem(first)}") from exc


def _where(loc: tuple[int | str, ...], unions: dict[str, tuple[str, ...]]) -> str:
    """step.a.option#2.label: the keys of the file, counting list entries from 1 and leaving out
    the tag pydantic adds after an entry of a tagged union."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"#{part + 1}"
        elif not (i >= 2 and part in unions.get(str(loc[i - 2]), ())):
            out += f".{part}" if out else part
    return out


def _problem(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _PROBLEMS:
        key = str(ctx.get("discriminator", error["loc"][-1] if error["loc"] else "")).strip("'")
        return _PROBLEMS[kind].format(name=_NAMES.get(key, "这一项"), **ctx).replace("' or '", "' 或 '")
    if kind.endswith(("_type", "_parsing")):
        return f"应为{_TYPES.get(kind.split('_')[0], '表')}，而不是 {error['input']!r}"
    return error["msg"]
