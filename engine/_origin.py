"""Whether two classes are one definition loaded twice, for registries keyed by a name.

Why: a run's factory may be loaded from its file again (``verify``, ``resume``), and a
script run as ``__main__`` is imported again under its own name, so the same class can
arrive twice and must replace its twin quietly. Two different classes that merely share a
name (``fire.Spawn`` and ``water.Spawn``) must not: a journal would replay the wrong one.
"""

from __future__ import annotations

import os

__all__ = ["same_definition"]


def same_definition(a: type, b: type) -> bool:
    """True when ``b`` is ``a`` or ``a``'s definition loaded again (same name, same source)."""
    if a is b:
        return True
    if a.__qualname__ != b.__qualname__:
        return False
    source_a, source_b = _source_file(a), _source_file(b)
    if source_a is not None and source_b is not None:
        return source_a == source_b
    # No code to tell by: the module names decide, except that a script's ``__main__`` copy
    # cannot be told from its import by name.
    return a.__module__ == b.__module__ or "__main__" in (a.__module__, b.__module__)


def _source_file(cls: type) -> str | None:
    """The file a method of ``cls`` was compiled from (a file loaded by path has no entry
    in ``sys.modules``, so its module cannot say)."""
    for value in vars(cls).values():
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if code is not None:
            return os.path.realpath(code.co_filename)
    return None
