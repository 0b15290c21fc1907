"""The planning core imports nothing threaded or networked: a replay, a heuristic run and a
unit test of prompts or validation never load the executor, a client or a server.

The core is ``ai``'s own modules (actions, plans, shares), :mod:`ai.wire` and
:mod:`ai.perception`. Checked on the source, since importing any part of ``ai`` runs
``ai/__init__`` (which brings the model side in for users)."""

import ast
from pathlib import Path

import pytest

AI = Path(__file__).resolve().parents[2] / "ai"
CORE = sorted([*(p for p in AI.glob("_*.py") if p.name != "__init__.py"), *(AI / "wire").glob("*.py"), *(AI / "perception").glob("*.py")])
THREADED = ("ai.llm", "ai.clients", "ai.serving", "ai.planner", "threading", "asyncio", "concurrent", "httpx")


def imported(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(AI.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_core_is_found() -> None:
    assert {"_actions.py", "_plan.py", "_validate.py", "_snapshot.py", "_system.py"} <= {p.name for p in CORE}


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(AI.parent)))
def test_a_core_module_imports_nothing_threaded(path: Path) -> None:
    bad = sorted(name for name in imported(path) if any(name == t or name.startswith(f"{t}.") for t in THREADED))
    assert not bad, f"{path.relative_to(AI.parent)} imports {bad}"


def test_the_check_sees_relative_imports() -> None:
    planner = imported(AI / "planner" / "_planner.py")
    assert "ai.llm" in planner
