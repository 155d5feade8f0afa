"""The shape of the package: no import circle, small modules, one front-end builder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("keras_tone", "keras_tone_cli")
MAX_LINES = 600

#: The primitive layers of the front end, put together in exactly one place.
FRONT_END_LAYERS = {"HighPass", "SyllableNormalization", "LogMelSpectrogram"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(p): p for package in PACKAGES for p in sorted((REPO / package).glob("*.py"))
    }


def imported(path: Path, known: set[str], name: str = "") -> set[str]:
    """The modules of `known` that `path` imports, at module level or inside functions.

    `from keras_tone import layers` imports the module `keras_tone.layers`;
    `from keras_tone import ToneNet` imports the package `keras_tone`.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found - {name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` as `[a, b, ..., a]`, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def import_graph() -> dict[str, set[str]]:
    known = set(modules())
    return {name: imported(path, known, name) for name, path in modules().items()}


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_walker_sees_lazy_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from keras_tone import weights, ToneNet\n")
    known = {"keras_tone", "keras_tone.weights"}
    assert imported(source, known) == {"keras_tone", "keras_tone.weights"}


def test_no_import_circle():
    graph = import_graph()
    assert graph["keras_tone.tonenet"] >= {"keras_tone.weights", "keras_tone.frontend"}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_front_door_imports_no_keras_tone_module():
    """keras_tone_cli imports keras_tone.commands only inside main, after parsing."""
    source = (REPO / "keras_tone_cli" / "__init__.py").read_text()
    top_level = [
        node for node in ast.parse(source).body if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    names = [
        alias.name if isinstance(node, ast.Import) else node.module
        for node in top_level
        for alias in node.names
    ]
    assert not [name for name in names if name and name.split(".")[0] == "keras_tone"], names


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_are_small(name):
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_the_front_end_is_built_in_one_place():
    """Only keras_tone.frontend.FrontEnd constructs the front end's layers."""
    builders = []
    for path in [*modules().values(), *sorted((REPO / "scripts").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in FRONT_END_LAYERS:
                    builders.append((path.relative_to(REPO).as_posix(), called))
    assert sorted(builders) == sorted(
        ("keras_tone/frontend.py", name) for name in FRONT_END_LAYERS
    ), builders
