"""jieba, imported without pkg_resources.

jieba 0.42 imports pkg_resources (a twentieth of a second, a third of all jieba costs to
import) only to open its own data files, and opens them by path when that import fails. The
import is made to fail for jieba alone; anything imported later still gets pkg_resources."""

from __future__ import annotations

import logging
import sys

_absent = object()
_before = sys.modules.get("pkg_resources", _absent)
if _before is _absent:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "not importable"
try:
    import jieba
finally:
    if _before is _absent:
        del sys.modules["pkg_resources"]

jieba.setLogLevel(logging.WARNING)

__all__ = ["jieba"]
