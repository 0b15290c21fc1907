"""Reading a scenario file: bytes -> TOML/JSON -> Scenario, every failure a ScenarioError.

The format is chosen by the file's extension (``.toml`` or ``.json``). Whatever is wrong
(an unreadable file, bad syntax, a typo in a key, a spawn zone inside a wall) comes back as
a ScenarioError naming the file, the field path and the reason; pydantic's own wording is
translated into a user's terms ("must be greater than 0 (got -1)"). Nothing a file contains
can make the loader raise anything else: a hypothesis test feeds it arbitrary bytes.
"""

from __future__ import annotations

import json
import os
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ._checks import suggest
from ._errors import Problem, ScenarioError, format_path
from ._scenario import Scenario

__all__ = ["load_scenario", "parse_scenario"]

_FORMATS = (".toml", ".json")


def load_scenario(path: str | os.PathLike[str] | Traversable) -> Scenario:
    """Read and validate the scenario at ``path`` (``.toml`` or ``.json``).

    ``path`` may also be an ``importlib.resources`` traversable, such as ``DEFAULT_SCENARIO``,
    so a scenario shipped inside a package loads from a wheel or zip as well.
    """
    source = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    suffix = os.path.splitext(source)[1].lower()
    if suffix not in _FORMATS:
        kind = f"extension {suffix!r}" if suffix else "a file without an extension"
        raise ScenarioError(source, [Problem("", f"cannot read {kind}; name the file .toml or .json")])
    try:
        raw = (path if isinstance(path, Traversable) else Path(source)).read_bytes()
    except OSError as exc:
        raise ScenarioError(source, [Problem("", f"cannot read the file: {exc.strerror or exc}")]) from exc
    data = _decode(raw, suffix, source)
    return parse_scenario(data, source)


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a dict as from TOML/JSON) into a Scenario.

    Like ``Scenario.model_validate`` but failures are a ScenarioError naming ``source``.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, [_problem(err) for err in _causes(exc.errors())]) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "data nested too deeply")]) from None
    scenario._source = source
    return scenario


def _decode(raw: bytes, suffix: str, source: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise ScenarioError(source, [Problem("", reason)]) from None
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        reason = f"invalid TOML: {exc}"
    except _DuplicateKey as exc:
        reason = f"invalid JSON: key {exc.args[0]!r} appears twice in one object"
    except (ValueError, RecursionError) as exc:  # 5000-digit integers, [[[[...]]]] 100k deep
        reason = f"invalid {suffix[1:].upper()}: {exc or 'nested too deeply'}"
    raise ScenarioError(source, [Problem("", reason)])


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON lets the last of two equal keys win silently; TOML rejects it; so do we
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


# --- pydantic errors in a user's words ----------------------------------------------------

_REASONS = {
    "missing": "required, but missing",
    "tuple_type": "must be a list (in TOML, an array or [[array of tables]])",
    "list_type": "must be a list",
    "model_type": "must be a table (an object in JSON)",
    "dict_type": "must be a table (an object in JSON)",
    "model_attributes_type": "must be a table (an object in JSON)",
}


def _causes(errors: list[Any]) -> list[Any]:
    """The errors less a list's "too short" that only counts the entries left after its
    invalid ones were reported (two bad spawns are two problems, not also "no spawns")."""
    locs = [tuple(err["loc"]) for err in errors]

    def within(loc: tuple[Any, ...]) -> bool:
        return any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)

    def consequence(err: Any, loc: tuple[Any, ...]) -> bool:
        given = err.get("input")
        least = err.get("ctx", {}).get("min_length", 1)
        return err["type"] == "too_short" and within(loc) and isinstance(given, list | tuple) and len(given) >= least

    return [err for err, loc in zip(errors, locs, strict=True) if not consequence(err, loc)]


def _problem(err: Any) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(loc[:-1])
        reason = f"unknown field{suggest(key, known)}"
        if known:
            reason += f"; expected one of: {', '.join(known)}"
        return Problem(format_path(loc), reason)
    if kind == "too_short":  # pydantic: "Tuple should have at least 1 item after validation, not 0"
        ctx = err.get("ctx", {})
        least, got = ctx.get("min_length", 1), ctx.get("actual_length", 0)
        return Problem(format_path(loc), f"needs at least {least} entr{'y' if least == 1 else 'ies'}, got {got}")
    reason = _REASONS.get(kind) or str(err["msg"]).replace("Input should be", "must be")
    reason = reason.removeprefix("Value error, ")
    if not kind.startswith("scenario") and kind not in _REASONS and _is_scalar(err.get("input")):
        reason += f" (got {_short(err['input'])})"
    return Problem(format_path(loc), reason)


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names a table at ``loc`` accepts, by walking the models' annotations."""
    tp: Any = Scenario
    for part in loc:
        model = _model_in(tp)
        origin = get_origin(tp)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            tp = model.model_fields[part].annotation
        elif origin in (tuple, list) and isinstance(part, int):
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        else:
            return []
    model = _model_in(tp)
    return list(model.model_fields) if model is not None else []


def _model_in(tp: Any) -> type[BaseModel] | None:
    """``tp`` if it is a model, or the model member of a union like ``str | AgentStats``."""
    for candidate in (tp, *get_args(tp)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
