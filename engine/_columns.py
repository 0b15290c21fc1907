"""Column storage for hot components: one array per field, indexed by entity id.

Why: a component such as ``Position`` is written by physics for every body, read by
perception and nav for every agent, and hashed, every tick. Held as one Python object per
entity, each of those is a loop of attribute accesses; held as columns, each is one numpy
gather or scatter, and the type's share of the state hash is one packed array instead of
an encoder call per entity. The bytes are those the encoder gives, so the hash format does
not change.

How: ``@component(columns=True)`` on a class whose every field is a ``float``, an ``int`` or
a ``tuple[int, ...]`` replaces it with a subclass whose fields are properties. An instance
not in a world keeps its values in its own slots, as a plain dataclass does. Added to a
world, it becomes a view of its entity's row in that world's ``ColumnStore``; removed (or
its entity deleted, or replaced by another instance), it takes its values back and is a
plain object again. Rows are entity ids, so ascending-id order is the arrays' own order and
needs no mapping. An instance lives in one row: adding one that already belongs to an
entity is refused. A ``tuple[int, ...]`` field is a padded table (``engine._int_lists``).

Cost for per-entity code: a field read or write of a stored instance is a property call
(about 0.1 us against 0.02 us for a slot; a tuple field's first read after its row changed
builds the tuple, about 1 us), so systems that touch every entity should use
``World.columns(cls)``. The arrays grow to the largest entity id that ever held the type
(8 bytes per field per id). A tuple field's table widens, at least doubling, to hold the
longest list it was given (at least 4 items; 8 bytes per item per id), and never
shrinks. A list written through an instance reads back as the tuple it holds.
"""

from __future__ import annotations

import dataclasses
import struct
import typing
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._errors import ComponentError
from ._int_lists import IntLists

__all__ = ["ColumnStore", "Columns", "column_fields", "column_subclass", "is_columnar"]

_TYPECODES: dict[Any, str] = {float: "d", int: "q"}
_DTYPES = {"d": np.dtype("<f8"), "q": np.dtype("<i8")}
INT_LIST = "L"  #: the code of a ``tuple[int, ...]`` field, held in an ``IntLists``
#: What storing a value that does not fit its field raises (``struct`` for a tuple's items).
_MISFITS = (TypeError, OverflowError, struct.error)
STORE_SLOT = "_tickmind_store"
ROW_SLOT = "_tickmind_row"
_set = object.__setattr__


def column_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, array typecode or ``INT_LIST``) of each field of ``cls``, a dataclass
    ``@component`` just made; refuses a field that is not a float, an int or a tuple of ints."""
    from ._encoding import _hashed_fields, _strip_annotated  # the hash's own reading of fields

    hashed = {name: _strip_annotated(tp) for name, tp in _hashed_fields(cls)}
    out = []
    for field in dataclasses.fields(cls):
        annotation = hashed.get(field.name)
        code = INT_LIST if _is_int_tuple(annotation) else _TYPECODES.get(annotation)
        if code is None:
            raise ComponentError(
                f"component {cls.__qualname__}: columns=True stores float, int and tuple[int, ...] fields only, "
                f"and field {field.name!r} is {field.type!r}; leave columns off for this class"
            )
        out.append((field.name, code))
    if not out:
        raise ComponentError(f"component {cls.__qualname__}: columns=True needs at least one field")
    return tuple(out)


def _is_int_tuple(annotation: Any) -> bool:
    from ._encoding import _strip_annotated

    args = typing.get_args(annotation)
    return typing.get_origin(annotation) is tuple and len(args) == 2 and args[1] is Ellipsis and _strip_annotated(args[0]) is int


def is_columnar(cls: type) -> bool:
    return "__tickmind_columns__" in cls.__dict__


def column_subclass(cls: type) -> type:
    """``cls`` with its fields as properties over a world's columns; it stands in for ``cls``
    under the same name, module and docs (``dataclasses`` sees the same fields)."""
    fields = column_fields(cls)
    base_init: Any = vars(cls)["__init__"]  # the dataclass's own
    env: dict[str, Any] = {"_raise": _refused, "_base_init": base_init, "_misfits": _MISFITS}
    lines = [
        "def __init__(self, *args, **kwargs):",
        f"    self.{STORE_SLOT} = None",
        "    _base_init(self, *args, **kwargs)",
    ]
    for i, (name, code) in enumerate(fields):
        member = cls.__dict__[name]  # the slot dataclass(slots=True) made: a detached value
        env[f"get{i}"], env[f"put{i}"] = member.__get__, member.__set__
        row = f"self.{ROW_SLOT}"
        if code == INT_LIST:
            lines += _field_property(i, f"store.lists[{i}].get({row})", f"store.lists[{i}].put({row}, value)")
        else:
            lines += _field_property(i, f"store.arrays[{i}][{row}]", f"store.arrays[{i}][{row}] = value")
    exec("\n".join(lines) + "\n", env)  # noqa: S102 - only field indices, no user text
    names = tuple(name for name, _ in fields)

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        # a copy or a pickle is a plain instance with this row's values: it is in no world
        return type(self), tuple(getattr(self, n) for n in names)

    namespace: dict[str, Any] = {
        "__slots__": (STORE_SLOT, ROW_SLOT),
        "__init__": env["__init__"],
        "__reduce__": __reduce__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__tickmind_columns__": fields,
    }
    for i, name in enumerate(names):
        namespace[name] = property(env[f"read{i}"], env[f"write{i}"])
    return type(cls.__name__, (cls,), namespace)


def _field_property(i: int, read: str, write: str) -> list[str]:
    """Source of ``read{i}``/``write{i}``: the instance's own slot while it is in no world,
    else ``read``/``write`` (statements over ``store``) on its row."""
    return [
        f"def read{i}(self):",
        f"    store = self.{STORE_SLOT}",
        "    if store is None:",
        f"        return get{i}(self)",
        f"    return {read}",
        f"def write{i}(self, value):",
        f"    store = self.{STORE_SLOT}",
        "    if store is None:",
        f"        put{i}(self, value)",
        "        return",
        "    try:",
        f"        {write}",
        "    except _misfits as exc:",
        f"        _raise(store, self.{ROW_SLOT}, {i}, value, exc)",
    ]


_KIND_NAMES = {"d": "a float", "q": "an int (64-bit)", INT_LIST: "a tuple of ints (64-bit)"}


def _refused(store: ColumnStore, row: int, i: int, value: Any, exc: Exception) -> None:
    name, code = store.fields[i]
    kind = _KIND_NAMES[code]
    raise ComponentError(
        f"entity {row} component {store.cls.__qualname__}: field {name!r} takes {kind}, "
        f"got {value!r} ({exc})"
    ) from None


class ColumnStore:
    """One world's columns of one column component class.

    ``arrays[i]`` holds scalar field ``i`` of every stored instance at its entity id, and
    ``lists[i]`` tuple field ``i`` (the other is None). Growing replaces an array (a copy)
    instead of resizing it, so a numpy view taken earlier keeps its old buffer rather than
    failing; ``Columns`` never hands such a view out.
    """

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: tuple[tuple[str, str], ...] = cls.__dict__["__tickmind_columns__"]
        self.arrays: list[Any] = [  # array("d" or "q"), or None for a tuple field
            None if code == INT_LIST else array(code) for _, code in self.fields
        ]
        self.lists: list[IntLists | None] = [IntLists() if code == INT_LIST else None for _, code in self.fields]
        self.present = np.zeros(0, dtype=np.bool_)
        scalars_only = all(code != INT_LIST for _, code in self.fields)
        self.record = np.dtype([(name, _DTYPES[code]) for name, code in self.fields]) if scalars_only else None
        self._index = {name: i for i, (name, _) in enumerate(self.fields)}
        base = cls.__mro__[1]
        self._members = [base.__dict__[name] for name, _ in self.fields]

    def attach(self, entity: int, instance: Any) -> None:
        """Make ``instance`` the view of ``entity``'s row, its values moved in."""
        owner = getattr(instance, STORE_SLOT)
        if owner is not None:
            where = "" if owner is self else " of another World"
            raise ComponentError(
                f"this {self.cls.__qualname__} already belongs to entity {getattr(instance, ROW_SLOT)}{where}; "
                f"an instance lives in one entity: add a copy (dataclasses.replace(value)) to entity {entity}"
            )
        self._reserve(entity)
        for i, member in enumerate(self._members):
            value = member.__get__(instance)
            lists = self.lists[i]
            try:
                if lists is None:
                    self.arrays[i][entity] = value
                else:
                    lists.put(entity, value)
            except _MISFITS as exc:
                _refused(self, entity, i, value, exc)
        self.present[entity] = True
        _set(instance, ROW_SLOT, entity)
        _set(instance, STORE_SLOT, self)

    def detach(self, instance: Any) -> None:
        """Give ``instance`` its row's values back and free the row."""
        if getattr(instance, STORE_SLOT) is not self:
            return
        row = getattr(instance, ROW_SLOT)
        for i, member in enumerate(self._members):
            lists = self.lists[i]
            member.__set__(instance, self.arrays[i][row] if lists is None else lists.get(row))
        self.present[row] = False
        _set(instance, STORE_SLOT, None)

    def _reserve(self, entity: int) -> None:
        size = len(self.present)
        if entity < size:
            return
        grown = max(entity + 1, 2 * size, 64)
        for i, (_, code) in enumerate(self.fields):
            lists = self.lists[i]
            if lists is not None:
                lists.reserve(grown)
                continue
            wider = array(code, bytes(8 * grown))
            wider[:size] = self.arrays[i]
            self.arrays[i] = wider
        present = np.zeros(grown, dtype=np.bool_)
        present[:size] = self.present
        self.present = present

    def _field(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise ComponentError(
                f"component {self.cls.__qualname__} has no field {name!r}; its fields: "
                f"{', '.join(self._index)}"
            ) from None

    def view(self, name: str) -> np.ndarray:
        """Scalar field ``name`` of every row, as a numpy view of the current array (internal:
        valid until the store grows)."""
        i = self._field(name)
        column = self.arrays[i]
        if column is None:
            raise ComponentError(
                f"field {name!r} of {self.cls.__qualname__} holds tuples of ints: read and write it "
                "with Columns.get_lists and Columns.set_lists"
            )
        return np.frombuffer(column, dtype=_DTYPES[self.fields[i][1]])

    def int_lists(self, name: str) -> IntLists:
        """Tuple field ``name``'s table (internal)."""
        lists = self.lists[self._field(name)]
        if lists is None:
            raise ComponentError(
                f"field {name!r} of {self.cls.__qualname__} holds one number per entity: read and "
                "write it with Columns.get and Columns.set"
            )
        return lists

    def packed(self, entities: np.ndarray) -> tuple[bytes, np.ndarray | None]:
        """The rows of ``entities`` as the hash encodes them, joined, and where each row
        ends (None when every row has the same size: all fields scalar)."""
        if self.record is not None:
            if len(self.fields) == 1:
                return self.view(self.fields[0][0])[entities].tobytes(), None
            rows = np.empty(len(entities), dtype=self.record)
            for name, _ in self.fields:
                rows[name] = self.view(name)[entities]
            return rows.tobytes(), None
        return self._packed_words(entities)

    def _packed_words(self, entities: np.ndarray) -> tuple[bytes, np.ndarray]:
        """Rows with tuple fields: every part of an encoding is a whole number of 32-bit
        words (8 per scalar, 4 per length, 8 per item), so each field becomes a block of
        word columns with a mask of the words a row uses, and the masked matrix read in
        row order is the rows' encodings joined."""
        n = len(entities)
        blocks: list[tuple[np.ndarray, np.ndarray | None]] = []
        for i, (name, _) in enumerate(self.fields):
            lists = self.lists[i]
            if lists is None:
                blocks.append((self.view(name)[entities].view(np.uint32).reshape(n, 2), None))
            else:
                blocks.append(lists.words(entities))
        width = sum(words.shape[1] for words, _ in blocks)
        matrix = np.empty((n, width), dtype=np.uint32)
        used = np.ones((n, width), dtype=np.bool_)
        at = 0
        for words, mask in blocks:
            end = at + words.shape[1]
            matrix[:, at:end] = words
            if mask is not None:
                used[:, at:end] = mask
            at = end
        ends = np.cumsum(used.sum(axis=1, dtype=np.int64)) * 4
        return matrix[used].tobytes(), ends


class Columns:
    """The entities that have one column component, ascending, and its fields for them.

    ``get`` returns copies and ``set`` writes through, so nothing handed out can outlive
    the arrays it came from. ``entities=`` restricts either to some of those entities (an
    ascending or any-order int array of ids that all have the component).

    A ``Columns`` holds the entities of the moment it was taken: one that lost the
    component since is refused (take ``world.columns(cls)`` again), one that gained it is
    not in it.
    """

    def __init__(self, store: ColumnStore, entities: np.ndarray) -> None:
        self._store = store
        self.entities = entities

    def get(self, names: str | Sequence[str], entities: Any = None) -> np.ndarray:
        """One field as an (n,) array, or several as an (n, k) array, for the entities."""
        at = self._rows(entities)
        if isinstance(names, str):
            return self._store.view(names)[at]
        if not names:
            raise ComponentError(f"Columns.get of {self._store.cls.__qualname__} needs at least one field name")
        views = [self._store.view(name) for name in names]
        out = np.empty((len(at), len(names)), dtype=np.result_type(*views))
        for k, view in enumerate(views):
            out[:, k] = view[at]
        return out

    def set(self, names: str | Sequence[str], values: Any, entities: Any = None) -> None:
        """Write one field from an (n,) array, or several from an (n, k) array; a single
        number is written to every entity."""
        at = self._rows(entities)
        try:
            data = np.asarray(values)
        except (ValueError, TypeError) as exc:
            raise ComponentError(f"Columns.set of {self._store.cls.__qualname__}: values are not an array of numbers ({exc})") from None
        if isinstance(names, str):
            self._write(names, np.broadcast_to(data, at.shape) if data.ndim == 0 else data, at)
            return
        if data.ndim == 0:
            data = np.broadcast_to(data, (len(at), len(names)))
        if data.ndim != 2 or data.shape[1] != len(names):
            raise ComponentError(
                f"Columns.set of {len(names)} fields of {self._store.cls.__qualname__} takes an "
                f"(n, {len(names)}) array, got shape {data.shape}"
            )
        for k, name in enumerate(names):
            self._write(name, data[:, k], at)

    def get_lists(self, name: str, entities: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """A ``tuple[int, ...]`` field for the entities, as (values, counts): every list
        joined into one int64 array, and each entity's length (the first ``counts[0]``
        values are the first entity's, and so on)."""
        lists = self._store.int_lists(name)
        return lists.read_many(self._rows(entities))

    def holding(self, name: str, item: int) -> np.ndarray:
        """The entities, ascending, whose ``tuple[int, ...]`` field ``name`` holds ``item``:
        one comparison over the whole table (who still lists an entity that was deleted)."""
        rows = self._store.int_lists(name).rows_with(item)  # a table has a row per id the store has
        return rows[self._store.present[rows]]

    def set_lists(self, name: str, values: Any, counts: Any, entities: Any = None) -> None:
        """Write a ``tuple[int, ...]`` field from (values, counts), as ``get_lists`` gives
        them. Entities whose list does not change keep the tuple their readers were given."""
        lists = self._store.int_lists(name)
        at = self._rows(entities)
        where = f"Columns.set_lists of {self._store.cls.__qualname__}.{name}"
        if at.size > 1 and not (np.diff(at) > 0).all():  # ascending ids (the usual case) cannot repeat
            ordered = np.sort(at)
            twice = np.unique(ordered[1:][np.diff(ordered) == 0]).tolist()
            if twice:
                raise ComponentError(f"{where}: entities {twice[:5]} are given more than once; each entity's list is written once")
        items, lengths = _int_array(values, where, "values"), _int_array(counts, where, "counts")
        if lengths.shape != at.shape:
            raise ComponentError(f"{where}: {len(at)} entities but counts of shape {lengths.shape}")
        if lengths.size and lengths.min() < 0:
            raise ComponentError(f"{where}: counts are list lengths, got {int(lengths.min())}")
        if int(lengths.sum()) != len(items):
            raise ComponentError(f"{where}: counts add up to {int(lengths.sum())} but there are {len(items)} values")
        lists.put_many(at, items, lengths)

    def _write(self, name: str, data: np.ndarray, at: np.ndarray) -> None:
        column = self._store.view(name)
        where = f"Columns.set of {self._store.cls.__qualname__}.{name}"
        if data.shape != at.shape:
            raise ComponentError(f"{where}: {len(at)} entities but values of shape {data.shape}")
        problem = _unfit(data, column.dtype)
        if problem:
            raise ComponentError(f"{where}: {problem}")
        column[at] = data

    def _rows(self, entities: Any) -> np.ndarray:
        present = self._store.present
        if entities is None:  # held the component when taken; the arrays never shrink
            at = self.entities
            if present[at].all():
                return at
        else:
            at = _entity_array(entities)
        if at.size and (at.min() < 0 or at.max() >= len(present) or not present[at].all()):
            missing = [int(e) for e in at if not (0 <= e < len(present) and present[e])]
            cls = self._store.cls.__qualname__
            if entities is None:
                raise ComponentError(
                    f"entities {missing[:5]} lost their {cls} after this Columns was taken; "
                    f"take world.columns({cls}) again"
                )
            raise ComponentError(
                f"entities {missing[:5]} have no {cls}; Columns reads and writes only entities "
                "that have the component"
            )
        return at

    def __len__(self) -> int:
        return len(self.entities)


_INT64 = np.iinfo(np.int64)


def _entity_array(entities: Any) -> np.ndarray:
    """``entities=`` as int64 ids, or a refusal: ids are whole numbers, not floats rounded
    down or strings."""
    at = np.asarray(entities)
    if at.size == 0:
        return np.zeros(0, dtype=np.int64)
    if at.ndim != 1 or at.dtype.kind not in "iu" or (at.dtype.kind == "u" and at.max() > _INT64.max):
        raise ComponentError(
            f"Columns entities= takes a 1-d array of whole entity ids, got {at.dtype} values of "
            f"shape {at.shape} (first: {at.reshape(-1)[:3].tolist()})"
        )
    return at.astype(np.int64, copy=False)


def _int_array(values: Any, where: str, what: str) -> np.ndarray:
    """``values`` as a 1-d int64 array, or a refusal naming ``where`` and ``what``."""
    try:
        data = np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise ComponentError(f"{where}: {what} are not an array of whole numbers ({exc})") from None
    if data.size == 0:
        return np.zeros(0, dtype=np.int64)
    problem = "" if data.ndim == 1 else f"takes a 1-d array, got shape {data.shape}"
    problem = problem or _unfit(data, _DTYPES["q"])
    if problem:
        raise ComponentError(f"{where}: {what}: {problem}")
    return data.astype(np.int64, copy=False)


_KINDS = {
    "O": "objects such as None", "U": "strings", "S": "bytes", "c": "complex numbers",
    "M": "dates", "m": "time spans", "V": "records",
}


def _unfit(data: np.ndarray, dtype: np.dtype) -> str:
    """Why ``data`` cannot be stored in a column of ``dtype`` without changing a value
    (the refusals an instance's own field assignment makes), or "" when it can."""
    kind = data.dtype.kind
    if dtype.kind == "f":
        return "" if kind in "fiub" else f"a float field takes real numbers, got {_KINDS.get(kind, data.dtype)}"
    if kind == "u" and data.size and data.max() > _INT64.max:
        return f"an int field takes 64-bit whole numbers, got {int(data.max())}"
    if kind in "iub":
        return ""
    if kind == "f":
        whole = np.isfinite(data) & (data == np.trunc(data))
        fits = whole & (data >= _INT64.min) & (data < 2.0**63)
        if fits.all():
            return ""
        if whole.all():  # numpy turns a list with an int past 64 bits into floats
            return f"an int field takes 64-bit whole numbers, got {int(data[~fits][0])}"
        return f"an int field takes whole numbers, got {data[~whole][0].item()!r}"
    if kind == "O":
        items = data.reshape(-1).tolist()
        big = next((v for v in items if type(v) is int and not _INT64.min <= v <= _INT64.max), None)
        if big is not None:
            return f"an int field takes 64-bit whole numbers, got {big}"
    return f"an int field takes whole numbers, got {_KINDS.get(kind, data.dtype)}"
