"""Text from outside (model answers, journals, server logs) made safe to print on a terminal.

A model's answer or an edited journal can hold terminal escape sequences (that recolour,
retitle or rewrite the screen), carriage returns that overwrite a line, and bidirectional
overrides that show code in another order than it runs. Every place that prints such text
passes it through :func:`printable` first.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters (and bidi overrides) as ``\\xNN`` / ``\\uNNNN``
    escapes; newlines and tabs kept unless ``newlines=False``."""
    escaped = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return escaped if newlines else escaped.replace("\n", "\\n").replace("\t", "\\t")
