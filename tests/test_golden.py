"""The built-in families give the same bits as before circuits became data.

tests/data/golden.toml has one small task per built-in family, cost and
engine (template, light cones, stabilizer); tests/data/golden.npz holds the
`theta`, `grad`, `cost`, `axes`, `sample` and `param_index` that the suite
computed for it at commit a5d95f2. A refactor that changes any of these bits
is a bug.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import computed_datasets
from suite.parallel import world
from suite.runner import run

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("golden") / "run"
    assert run(DATA / "golden.toml", run_dir, world(use_mpi=False)) == 0
    return run_dir / "results.h5"


def test_built_in_families_give_the_reference_bits(golden_run):
    reference = np.load(DATA / "golden.npz")
    got = computed_datasets(golden_run)
    assert {f"{t}/{n}" for t, n in got} == set(reference.files)
    differing = [
        key
        for (task, name), values in got.items()
        if not np.array_equal(values, reference[key := f"{task}/{name}"])
        or values.dtype != reference[key].dtype
    ]
    assert not differing, f"numbers changed: {differing}"


def test_the_analysis_reads_what_the_runner_writes(golden_run):
    """Writer (suite.store) and reader (analysis.load) of the HDF5 schema agree."""
    from analysis.load import load_run
    from suite.spec import load_spec

    run = load_run(golden_run.parent, with_theta=True)
    spec = load_spec(DATA / "golden.toml")
    assert set(run.tasks) == {t.id for t in spec.tasks}
    stored = computed_datasets(golden_run)
    for task in spec.tasks:
        data = run.tasks[task.id]
        assert (data.ansatz, data.cost, data.qubits, data.depth) == (
            task.ansatz,
            task.cost,
            task.qubits,
            task.depth,
        )
        assert data.family == task.family and data.n_params == task.n_params
        assert data.spec["parameters"] == list(task.parameters)
        assert np.array_equal(data.param_index, task.parameters)
        assert np.array_equal(data.sample, np.arange(task.samples))
        for name, values in (
            ("grad", data.grad),
            ("cost", data.cost_values),
            ("theta", data.theta),
        ):
            assert np.array_equal(values, stored[(task.id, name)]), (task.id, name)
    assert run.timing.n_rows >= 1
