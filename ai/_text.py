"""World text made safe for a prompt: the one rule, shared by snapshots (which clean what they
show) and by the entity-reference roles actions declare (whose kinds must already be clean)."""

from __future__ import annotations

import re

__all__ = ["MAX_KIND_CHARS", "sanitize_text"]

MAX_KIND_CHARS = 12
_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


def sanitize_text(text: object, limit: int) -> str:
    """``text`` lower-cased, every run of characters outside ``[a-z0-9_.-]`` turned into one
    ``_``, trimmed of edge underscores and cut to ``limit`` characters.

    The charset has no quote, brace, bracket, colon, semicolon, space or newline: sanitised
    text cannot end a JSON string, start a new prompt line or pose as one of the prompt's own
    separators.
    """
    return _UNSAFE.sub("_", str(text).lower()).strip("_")[:limit].rstrip("_")
