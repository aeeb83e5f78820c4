"""jieba, imported without pkg_resources.

jieba 0.42 imports pkg_resources (a twentieth of a second, a third of all jieba costs to
import) only to open its own data files, and opens them by path when that import fails. The
import is made to fail for jieba alone; anything imported later still gets pkg_resources."""

from __future__ import annotations

import logging
import sys

_blocked = "pkg_resources" not in sys.modules
if _blocked:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "not importable"
try:
    import jieba
finally:
    if _blocked:
        del sys.modules["pkg_resources"]

jieba.setLogLevel(logging.WARNING)

__all__ = ["jieba"]
