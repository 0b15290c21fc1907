"""Which factories a journal may name: code that declares itself one, nothing else.

A journal's header names the factory that rebuilds its world, and verify, replay and resume
run it. A journal is data that anyone can edit, so the name it gives must not be enough to
run code: a journal naming ``subprocess:run``, or a file it shipped beside itself, is refused
before anything is called or imported from a path. What may run:

- a function decorated with :func:`factory` in an importable module (the arena, the
  examples, your package). A module not yet loaded is read first without running it
  (:mod:`engine._declared`): its source must declare the function, so a journal naming an
  installed module that was never meant to be a factory does not get its top level run;
  the decoration itself is checked again before the function is called;
- a name listed in the ``tickmind.factories`` entry points of an installed package;
- a ``file.py:function`` path only when the user says so: ``trust=True`` (``--trust``), or
  the file given on the command line (``--factory``);
- a module or ``.py`` file directly in the current directory, as Python's own
  ``sys.path[0]`` is: code you work with, which ``python -m`` or an import would run too. It
  never counts when it lies inside the run directory being rebuilt, or in the same folder
  of the current directory as the run (``bundle/sim.py`` beside ``bundle/run``): that is
  what a shared run's sender controls. A file this process already runs (a script's
  ``__main__``) is used as it is loaded.

A declared function is still required in every case: ``trust`` lets a file run, it does not
make any function in it a factory.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from ._declared import declares_factory, spec_without_running
from ._errors import RunDirError, TickmindError

__all__ = ["ENTRY_POINT_GROUP", "factory", "is_declared", "load_factory"]

ENTRY_POINT_GROUP = "tickmind.factories"
_MARK = "__tickmind_factory__"
F = TypeVar("F", bound=Callable[..., Any])


def factory(fn: F) -> F:
    """Declare ``fn(config, seed) -> World`` a factory that a journal may name, so that
    ``verify``, ``replay`` and ``resume`` of its runs may call it."""
    if not callable(fn):
        raise TickmindError(f"@factory decorates a function, got {fn!r}")
    setattr(fn, _MARK, True)
    return fn


def is_declared(fn: object) -> bool:
    return getattr(fn, _MARK, False) is True


def _entry_point_names() -> set[str]:
    return {ep.value.replace(" ", "") for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_factory(path: str, *, trust: bool = False, run_dir: Path | None = None) -> Callable[[Mapping[str, Any], int], Any]:
    """The factory ``path`` names (``module:function`` or ``/path/to/file.py:function``),
    refused unless it may run (see the module docstring).

    ``trust`` runs a ``.py`` path; ``run_dir`` is the run being rebuilt, whose own files are
    never imported without it.
    """
    target, _, qualname = path.rpartition(":")
    names = qualname.split(".") + ([] if target.endswith(".py") else target.split("."))
    if not target or not qualname or not all(part.isidentifier() for part in names):
        raise RunDirError(f"factory {path!r} is not of the form module:function")
    if target.endswith(".py"):
        file = Path(target).resolve()
        module = _loaded_from(file)
        if module is None:
            if not (trust or _yours(file, run_dir)):
                raise RunDirError(
                    f"the run's factory is a file, {file}:{qualname}, and tickmind runs a file that a journal "
                    "names only when you say so: add --trust (trust=True) if you trust it, or name it "
                    "yourself with --factory FILE.py:FUNCTION"
                )
            module = _exec_file(file, path)
    else:
        module = _import_module(target, qualname, path, trust=trust, run_dir=run_dir)
    obj: Any = module
    try:
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise RunDirError(f"cannot import the run's factory {path!r}: {exc}") from exc
    if not (is_declared(obj) or path.replace(" ", "") in _entry_point_names()):
        raise RunDirError(
            f"the run's factory {path} is not a declared factory, so tickmind will not call it: a factory "
            "is declared with @engine.factory (or a tickmind.factories entry point)"
        )
    return obj


def _loaded_from(file: Path) -> Any:
    """The module this process already runs from ``file`` (a script's ``__main__``), if any:
    its code is running already, and running it twice would build a second copy."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if name and name.endswith(".py") and Path(name).resolve() == file:
            return module
    return None


def _yours(file: Path, run_dir: Path | None) -> bool:
    """A file directly in the current directory, as Python's own ``sys.path[0]`` is, and not
    one that came inside the run being rebuilt."""
    return file.parent == Path.cwd().resolve() and not (run_dir is not None and _inside(file, run_dir))


def _exec_file(file: Path, path: str) -> Any:
    try:
        spec = importlib.util.spec_from_file_location(file.stem, file)
        if spec is None or spec.loader is None:
            raise ImportError(f"no such file {file}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError) as exc:
        raise RunDirError(f"cannot import the run's factory {path!r}: {exc}") from exc
    return module


def _import_module(name: str, qualname: str, path: str, *, trust: bool, run_dir: Path | None) -> Any:
    """Import ``name``: installed, or (as the user running ``tickmind`` in their project
    expects) from the current directory, never from inside ``run_dir`` or beside it unless
    trusted. An installed module not yet imported is first read without running it: it must
    declare the factory (``engine._declared``)."""
    top = name.partition(".")[0]
    here = Path.cwd().resolve()
    loaded = name in sys.modules  # before any lookup: importing it again runs nothing
    spec = spec_without_running(top)
    from_cwd = spec is None and ((here / f"{top}.py").exists() or (here / top).is_dir())
    search = [str(here)] if from_cwd else None
    module_spec = spec_without_running(name, search)
    found = module_spec or (spec_without_running(top, search) if from_cwd else spec)
    origin = Path(found.origin).absolute() if found is not None and found.origin else here / top  # as found
    yours = any(p == here / f"{top}.py" or _inside(p, here / top) for p in (origin, origin.resolve()))  # found here
    if run_dir is not None and not trust:
        _refuse_the_senders_code(origin, here if yours else None, run_dir, path)
    if not (trust or loaded or yours or path.replace(" ", "") in _entry_point_names()):
        declared = declares_factory(name, qualname.partition(".")[0], module_spec)  # not yours: search was sys.path
        if declared is not True:
            where = f"{declared} does not define {qualname} under @engine.factory" if declared else f"no Python source declares {qualname}"
            raise RunDirError(
                f"the run's factory {path} is not a declared factory, so tickmind will not import or call it: "
                f"{where} (read without running it); a factory is declared with @engine.factory (or a "
                "tickmind.factories entry point), and --trust (trust=True) imports the module anyway"
            )
    try:
        if from_cwd:
            sys.path.insert(0, str(here))
        return importlib.import_module(name)
    except ImportError as exc:
        hint = (
            f" (run tickmind from the folder that holds {top}.py, put it on PYTHONPATH, or name the file "
            "with --factory FILE.py:FUNCTION)"
        )
        raise RunDirError(f"cannot import the run's factory {path!r}: {exc}{hint}") from exc


def _refuse_the_senders_code(origin: Path, here: Path | None, run_dir: Path, path: str) -> None:
    """Code inside the run directory, or found in the current directory ``here`` (None: it
    was not) in the same folder as the run (``bundle/sim.py`` beside ``bundle/run``), came
    with the run: its sender's, not yours."""
    if any(_inside(o, run_dir) for o in (origin, origin.resolve())):
        raise RunDirError(
            f"the run's factory {path} would be imported from {origin}, inside the run directory: a run's "
            "own files are not run without --trust (trust=True)"
        )
    if here is None:
        return
    # Both the paths as given and as resolved: a symlink must not carry either out of the folder.
    shared = _tops(here, origin) & _tops(here, run_dir.absolute())
    folder = next((top for top in sorted(shared) if (here / top).is_dir()), None)
    if folder is not None:
        raise RunDirError(
            f"the run's factory {path} would be imported from {origin}, which came in one folder with the run "
            f"({here / folder}): a shared run's code is not run without --trust (trust=True), or name your "
            "own copy with --factory FILE.py:FUNCTION"
        )


def _tops(here: Path, path: Path) -> set[str]:
    """The entries of ``here`` that hold ``path`` (absolute), as given and as resolved."""
    return {each.relative_to(here).parts[0] for each in (path, path.resolve()) if each != here and _inside(each, here)}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return False
    return True
