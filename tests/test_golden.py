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
