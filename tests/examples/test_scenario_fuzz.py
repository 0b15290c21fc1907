"""Whatever a scenario file holds, the loader answers with a Scenario or a ScenarioError."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.arena import DEFAULT_SCENARIO, Scenario, ScenarioError, load_scenario

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load_or_reject(path: Path) -> Scenario | None:
    """Load, allowing exactly one kind of failure; any other exception fails the test."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        assert str(exc).startswith(f"{path}: ") and exc.problems
        return None


@FUZZ
@given(content=st.binary(max_size=512), suffix=st.sampled_from([".toml", ".json"]))
def test_arbitrary_bytes_are_rejected_cleanly(scratch: Path, content: bytes, suffix: str) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(content)
    load_or_reject(path)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_as_toml_is_rejected_cleanly(scratch: Path, text: str) -> None:
    path = scratch / "text.toml"
    path.write_text(text, encoding="utf-8")
    load_or_reject(path)


@FUZZ
@given(value=json_values)
def test_arbitrary_json_is_rejected_cleanly(scratch: Path, value: Any) -> None:
    path = scratch / "value.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    assert load_or_reject(path) is None  # no random value is a whole arena


DEFAULT_DATA = tomllib.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))


@FUZZ
@given(data=st.data())
def test_one_corrupted_field_of_a_valid_scenario_is_handled(scratch: Path, data: st.DataObject) -> None:
    # random top-level bytes rarely get past "must be a table"; this reaches every validator
    doc = json.loads(json.dumps(DEFAULT_DATA))
    node: Any = doc
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        if isinstance(node, dict) and data.draw(st.booleans()):
            del node[key]
        else:
            node[key] = data.draw(json_values | st.floats(-5, 200))
        break
    path = scratch / "mutant.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    load_or_reject(path)
