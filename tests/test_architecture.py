"""The layering docs/architecture.md promises, checked on the source: who may import whom, no cycles,
thin CLI modules, one registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "peephole"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """Peephole modules ``path`` imports (at module level only, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("peephole"):
            # ``from peephole.cli import explain`` imports the submodule peephole.cli.explain
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(MODULES)
            found.update(subs or {node.module})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("peephole"))
    return found


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("engine", {"modalities", "methods", "gradients", "systems", "models", "metrics", "benchmark", "cli", "api", "registry"}),
        ("modalities", {"methods", "gradients", "systems", "metrics", "benchmark", "cli", "api", "registry"}),
        ("methods", {"gradients", "systems", "metrics", "benchmark", "cli", "registry"}),
        ("metrics", {"methods", "gradients", "systems", "benchmark", "cli"}),
        ("models", {"methods", "gradients", "systems", "metrics", "benchmark", "cli", "api"}),
        ("gradients", {"systems", "benchmark", "cli"}),
        ("runs", {"benchmark", "cli"}),
    ],
)
def test_layers_import_only_downwards(package: str, forbidden: set[str]) -> None:
    bad = [
        f"{m} imports {i}"
        for m, p in MODULES.items()
        if package_of(m) == package
        for i in imports(p, top_level_only=False)
        if package_of(i) in forbidden
    ]
    assert not bad, bad


def test_no_import_cycles_at_module_level() -> None:
    graph = {m: {i for i in imports(p, True) if i in MODULES} for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, m, n]))
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_cli_modules_only_parse_call_and_write() -> None:
    allowed = {"add_parser", "run", "add_common", "options", "method_options", "main"}
    for path in (SRC / "cli").glob("*.py"):
        defs = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert defs <= allowed, f"{path.name} defines {sorted(defs - allowed)}: library logic belongs in the library"


def test_one_registry_read_by_api_cli_and_benchmark() -> None:
    import peephole
    from peephole.benchmark.methods import METHOD_NAMES, VARIANTS
    from peephole.registry import METHODS

    assert peephole.METHODS is METHODS
    assert all(m in METHODS for m, _ in VARIANTS.values())
    assert {n for n, s in METHODS.items() if "image" in s.modalities and s.family != "system"} - {"pami"} <= set(METHOD_NAMES)
    for name in ("registry", "METHODS"):
        definers = [m for m, p in MODULES.items() if f"\n{name}: dict" in p.read_text() or f"\n{name} = {{" in p.read_text()]
        assert definers in ([], ["peephole.registry"]), definers
