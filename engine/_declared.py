"""Whether a module's source declares a factory, read without running any of it.

Why: a journal names ``module:function``, and importing a module runs its top level. An
installed module the user never meant as a factory (``this`` prints a poem, ``antigravity``
opens a browser) must be refused before it is imported, not after. So the module is found
the way ``import`` finds it, without executing it or its parent packages, and its source is
parsed: the function must be defined there under ``factory`` imported from ``engine`` (as
``@factory``, an alias, or ``@engine.factory``), or re-exported there from a module that
does, which is followed the same way. Only the standard finders and setuptools'
editable-install ones are asked where a module is: others may import code to answer.

What this does not vet: the parent packages of a module that does declare a factory run
when it is imported. Such a package was written for tickmind and installed by the user.
"""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

__all__ = ["declares_factory", "spec_without_running"]

_REEXPORT_DEPTH = 4  #: ``from ._world import build`` chains followed before giving up


def spec_without_running(name: str, search: list[str] | None = None) -> ModuleSpec | None:
    """The spec ``import name`` would use, found by asking the import system's finders for
    each part with its parent's search locations, so no package's ``__init__`` runs.
    ``search`` replaces ``sys.path`` for the top-level part."""
    spec: ModuleSpec | None = None
    locations: list[str] | None = search
    parts = name.split(".")
    for i in range(len(parts)):
        fullname = ".".join(parts[: i + 1])
        loaded = sys.modules.get(fullname)
        spec = getattr(loaded, "__spec__", None) if loaded is not None else _find(fullname, locations, top=i == 0)
        if spec is None:
            return None
        found = spec.submodule_search_locations
        locations = list(found) if found is not None else None
        if i < len(parts) - 1 and locations is None:
            return None  # a part before the last is not a package
    return spec


def _find(fullname: str, locations: list[str] | None, *, top: bool) -> ModuleSpec | None:
    if top and locations is not None:
        return importlib.machinery.PathFinder.find_spec(fullname, locations)
    for finder in sys.meta_path:
        if not _finds_without_running(finder):
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(fullname, locations)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            return spec
    return None


def _finds_without_running(finder: object) -> bool:
    """The standard finders, and setuptools' editable-install ones (a table lookup); not
    others, which may import code to answer (setuptools' distutils shim does)."""
    kind = finder if isinstance(finder, type) else type(finder)
    standard = (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter, importlib.machinery.PathFinder)
    return kind in standard or kind.__module__.startswith("__editable__")


def declares_factory(module: str, function: str, spec: ModuleSpec | None) -> Path | bool:
    """True when ``module``'s source defines (or re-exports) ``function`` under ``@factory``;
    otherwise the source file read (or False when there was none to read). ``spec`` is
    ``spec_without_running(module)``, which the caller has found already."""
    return _declares(module, function, spec, _REEXPORT_DEPTH)


def _declares(module: str, function: str, spec: ModuleSpec | None, depth: int) -> Path | bool:
    origin = getattr(spec, "origin", None)
    if spec is None or not origin or not origin.endswith(".py"):
        return False
    file = Path(origin)
    try:
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (OSError, SyntaxError, ValueError):
        return file
    package = module if spec.submodule_search_locations is not None else module.rpartition(".")[0]
    aliases, modules = _factory_names(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            if any(_is_factory(d, aliases, modules) for d in node.decorator_list):
                return True
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_factory(node.value.func, aliases, modules):
            if any(isinstance(t, ast.Name) and t.id == function for t in node.targets):
                return True
        elif isinstance(node, ast.ImportFrom) and depth > 0:
            for alias in node.names:
                if (alias.asname or alias.name) == function:
                    source = _absolute(node, package)
                    if source is not None and _declares(source, alias.name, spec_without_running(source), depth - 1) is True:
                        return True
    return file


_ENGINE = ("engine", "engine._factories", "tickmind")  #: where ``factory`` is imported from


def _factory_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names ``engine.factory`` is imported as, names ``engine`` itself is imported as)."""
    aliases: set[str] = set()
    modules: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in _ENGINE:
            aliases.update(a.asname or a.name for a in node.names if a.name == "factory")
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name in _ENGINE)
    return aliases, modules


def _is_factory(expr: ast.expr, aliases: set[str], modules: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id in aliases
    return isinstance(expr, ast.Attribute) and expr.attr == "factory" and ast.unparse(expr.value) in modules


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    """The module an ``ImportFrom`` reads from, made absolute against ``package``."""
    if node.level == 0:
        return node.module
    parts = package.split(".") if package else []
    if node.level > len(parts):  # above the top-level package: Python refuses it too
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None
