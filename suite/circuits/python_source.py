"""`ansatz = "python:MODULE:FUNCTION"`: a user's builder `(n, depth, **options) -> QuantumCircuit`.

MODULE is imported from the job file's folder first, then from the Python path.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from qiskit import QuantumCircuit

from suite.errors import CircuitError


def _from_file(module_name: str, path: Path, job_folder: Path) -> ModuleType:
    """Import a module file under a name unique to its path and contents.

    Two jobs may each have a `circuits.py`; `sys.modules` would otherwise hand the
    second job the first one's module.
    """
    digest = hashlib.sha256(str(path.resolve()).encode() + path.read_bytes()).hexdigest()[:16]
    unique = f"bpsuite_user_{module_name.replace('.', '_')}_{digest}"
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    folders = [str(job_folder), str(path.parent)]  # so it can import its neighbours
    saved = list(sys.path)
    sys.path[:0] = folders
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[unique]
        raise
    finally:
        sys.path[:] = saved
    return module


def function(reference: str, base_dir: str):
    """The function named by "MODULE:FUNCTION": MODULE from the job's folder (a file
    MODULE.py, dots as folders), else from the Python path."""
    module_name, _, name = reference.partition(":")
    if not module_name or not name:
        raise CircuitError(f"'python:{reference}' must be python:MODULE:FUNCTION")
    folder = Path(base_dir or ".").resolve()
    file = folder / (module_name.replace(".", "/") + ".py")
    try:
        if file.is_file():
            module = _from_file(module_name, file, folder)
        else:
            sys.path.insert(0, str(folder))
            try:
                module = importlib.import_module(module_name)
            finally:
                if sys.path and sys.path[0] == str(folder):
                    sys.path.pop(0)
    except ImportError as exc:
        raise CircuitError(
            f"cannot import module '{module_name}' (looked in {folder} and the Python path): {exc}"
        ) from None
    except Exception as exc:
        raise CircuitError(
            f"importing module '{module_name}' raised {type(exc).__name__}: {exc}"
        ) from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise CircuitError(f"module '{module_name}' ({module.__file__}) has no function '{name}'")
    return fn


def build(
    reference: str, base_dir: str, n: int, depth: int, options: dict[str, Any]
) -> QuantumCircuit:
    fn = function(reference, base_dir)
    try:
        circuit = fn(n, depth, **options)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CircuitError(
            f"builder {reference}(n={n}, depth={depth}) raised {type(exc).__name__}: {message}"
        ) from None
    if not isinstance(circuit, QuantumCircuit):
        raise CircuitError(
            f"builder {reference}(n={n}, depth={depth}) returned {type(circuit).__name__}, "
            "not a QuantumCircuit"
        )
    return circuit
