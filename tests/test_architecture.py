"""The layering docs/architecture.md promises, checked on the source: who may import whom (imports inside
functions counted, ``if TYPE_CHECKING:`` blocks excepted), no circle between parts, no concrete modality named
above the modalities, the lab never imported by the library, thin CLI modules, one registry."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}
OURS = ("peephole", "peephole_lab")


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Our modules that ``path`` imports: anywhere in it (or at module level only), except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
            # ``from peephole.cli import explain`` imports the submodule peephole.cli.explain
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(MODULES)
            found.update(subs or {node.module})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in OURS)
    return found


def part(module: str) -> str:
    """``peephole.core.run`` -> ``core``; ``peephole`` -> ``""``; anything of the lab -> ``peephole_lab``."""
    names = module.split(".")
    if names[0] != "peephole":
        return names[0]
    return names[1] if len(names) > 1 else ""


LOW = {"errors", "version"}
#: Each part of the library and the parts it may import (besides itself). Read top to bottom: the layers.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),
    "terminal": set(),
    "interrupts": LOW,
    "plugins": LOW,
    "core": LOW,
    "result": LOW | {"core", "modalities"},  # modalities: the lookup of a result's views, inside View only
    "store": LOW | {"core", "result", "outputs"},  # outputs: the name of peephole explain's manifest
    "models": LOW | {"core"},
    "tasks": LOW | {"core", "models"},  # models: Detection wraps a user's detector with the detector adapter
    "modalities": LOW | {"core", "models", "terminal"},
    "pipeline": LOW | {"core", "result", "models", "modalities", "tasks"},
    "registry": LOW | {"plugins"},
    "methods": LOW | {"core", "result", "pipeline", "tasks"},
    "gradients": LOW | {"core", "result", "pipeline", "models", "modalities", "tasks"},
    "metrics": LOW | {"core", "result", "models", "modalities", "tasks"},
    "api": LOW | {"core", "registry", "pipeline", "modalities", "result", "models", "tasks"},  # core: packing a batch
    "outputs": LOW | {"terminal"},  # terminal: file names made storable
}
BELOW_API = set(ALLOWED)
ALLOWED["batch"] = BELOW_API | {"api", "store", "interrupts"}
ALLOWED["evaluation"] = ALLOWED["batch"] | {"batch", ""}
ALLOWED["cli"] = ALLOWED["evaluation"] | {"evaluation"}
ALLOWED[""] = set(ALLOWED) - {"cli", "evaluation"}
ALLOWED["__main__"] = {"cli"}
#: Parts that work on every input kind: they ask the modality and never import a concrete one.
MODALITY_FREE = ("core", "result", "store", "models", "tasks", "pipeline", "registry", "methods", "metrics", "api", "batch")
CONCRETE = ("peephole.modalities.image", "peephole.modalities.text", "peephole.modalities.sequence")

LIBRARY = {m: p for m, p in MODULES.items() if part(m) != "peephole_lab" and m.split(".")[0] == "peephole"}


def test_every_part_of_the_library_has_a_row() -> None:
    assert {part(m) for m in LIBRARY} <= set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_part_imports_only_what_its_row_allows(package: str) -> None:
    bad = [
        f"{m} imports {i}"
        for m, p in LIBRARY.items()
        if part(m) == package
        for i in imports(p)
        if part(i) != package and part(i) not in ALLOWED[package]
    ]
    assert not bad, bad


def test_no_circle_between_parts() -> None:
    graph: dict[str, set[str]] = {}
    for m, p in LIBRARY.items():
        graph.setdefault(part(m), set()).update(part(i) for i in imports(p) if part(i) != part(m) and part(i) != "")
    assert cycle(graph) is None, cycle(graph)


def test_no_import_cycles_between_modules_at_import_time() -> None:
    """Module-level imports only: inside one part a module may import a sibling lazily (the parts' graph above
    counts every import)."""
    graph = {m: {i for i in imports(p, top_level_only=True) if i in MODULES} for m, p in MODULES.items()}
    assert cycle(graph) is None, cycle(graph)


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for n in sorted(graph.get(node, ())):
            if state.get(n) == 1:
                return [*path, node, n]
            if n not in state and (found := visit(n, [*path, node])):
                return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_no_concrete_modality_named_above_the_modalities() -> None:
    bad = [
        f"{m} imports {i}" for m, p in LIBRARY.items() if part(m) in MODALITY_FREE for i in imports(p) if i.startswith(CONCRETE)
    ]
    assert not bad, bad


def test_the_library_never_imports_the_lab() -> None:
    bad = [f"{m} imports {i}" for m, p in LIBRARY.items() for i in imports(p) if part(i) == "peephole_lab"]
    assert not bad, bad


def test_import_peephole_loads_neither_torch_nor_lab_code() -> None:
    code = "import sys, peephole; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'peephole_lab')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_cli_modules_only_parse_call_and_write() -> None:
    allowed = {"add_parser", "run", "add_common", "options", "method_options", "main", "build_parser"}
    for path in [*(SRC / "peephole" / "cli").glob("*.py"), *(SRC / "peephole_lab" / "cli").glob("*.py")]:
        defs = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert defs <= allowed, f"{path.name} defines {sorted(defs - allowed)}: library logic belongs in the library"


def test_one_registry_read_by_api_cli_and_benchmark() -> None:
    import peephole
    from peephole.evaluation.methods import METHOD_NAMES, VARIANTS
    from peephole.registry import METHODS

    assert peephole.METHODS is METHODS
    assert all(m in METHODS for m, _ in VARIANTS.values())
    assert {n for n, s in METHODS.items() if "image" in s.modalities and s.family != "system"} - {"pami"} <= set(METHOD_NAMES)
    assert {"input-agnostic", "fill-in-the-blanks", "explainer"} <= set(METHODS)  # the lab's rows, through its entry point
    for name in ("registry", "METHODS"):
        definers = [m for m, p in MODULES.items() if f"\n{name}: dict" in p.read_text() or f"\n{name} = " in p.read_text()]
        assert definers in ([], ["peephole.registry"]), definers
