"""Imports run one way: cli → commands → run → spec → engines → circuits → records.

A module may import from its own layer or any layer below, never above, so there
are no cycles and the circuits know nothing of engines, specs or MPI. Checked on
the source text (every `from suite…` / `import suite…`, also inside functions).
"""

from __future__ import annotations

import ast
from pathlib import Path

SUITE = Path(__file__).resolve().parents[1] / "suite"

# layer of each module (a package's modules share its layer)
LAYERS = {
    "suite": 0,
    "suite.errors": 0,
    "suite.records": 0,
    "suite.formulas": 0,
    "suite.circuits": 1,
    "suite.engines": 2,
    "suite.lie": 2,
    "suite.spec": 3,
    "suite.parallel": 4,
    "suite.faults": 4,
    "suite.provenance": 4,
    "suite.store": 4,
    "suite.runner": 4,
    "suite.status": 5,
    "suite.export": 5,
    "suite.archive": 5,
    "suite.crate": 5,
    "suite.environment": 5,
    "suite.integrity": 5,
    "suite.compare": 5,
    "suite.info": 5,
    "suite.slurm": 5,
    "suite.lie_command": 5,
    "suite.lie_gradient": 5,
    "suite.cli": 6,
}


def layer(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS:
            return LAYERS[name]
    raise AssertionError(f"{module} has no layer in tests/test_layering.py")


def module_name(path: Path) -> str:
    relative = path.relative_to(SUITE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("suite"):
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("suite")]
    return names


def test_every_module_has_a_layer():
    for path in SUITE.rglob("*.py"):
        layer(module_name(path))


def test_imports_run_one_way():
    upward = []
    for path in sorted(SUITE.rglob("*.py")):
        here = module_name(path)
        for target in imported(path):
            if layer(target) > layer(here):
                upward.append(f"{here} (layer {layer(here)}) imports {target} ({layer(target)})")
    assert not upward, "\n".join(upward)


def test_only_the_parallel_module_imports_mpi4py():
    users = [
        module_name(p)
        for p in SUITE.rglob("*.py")
        if "mpi4py" in {n.split(".")[0] for n in _all_imports(p)}
    ]
    assert users == ["suite.parallel"]


def _all_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names
