"""Record the bits of golden.toml's datasets that a meant change altered: golden-v2.npz.

    .venv/bin/python tests/data/make_golden.py

runs tests/data/golden.toml in a temporary directory and writes to golden-v2.npz every
dataset whose bits differ from golden.npz (the reference of commit a5d95f2, which stays
as it is), printing how much each differs. tests/test_golden.py asserts those datasets
bit for bit against golden-v2.npz and within a rounding tolerance of golden.npz, and
every other dataset bit for bit against golden.npz.

History of golden-v2.npz: McClean's random-axis rotation became one `u` gate whose
angles are computed in numpy (issue 9): the four McClean tasks' `cost` and `grad` moved
by at most 6.1e-16; Aer's runtime parameter binding changed no bit below 14 qubits, and
is off from 14 qubits on, where it changed fused circuits' bits (the 16-qubit qcnn task).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent
sys.path[:0] = [str(DATA.parents[1]), str(DATA.parent)]

from helpers import computed_datasets  # noqa: E402
from suite.parallel import world  # noqa: E402
from suite.runner import run  # noqa: E402


def main() -> int:
    os.environ["BPSUITE_THREADS"] = "2"  # the reference's threads (tests/test_golden.py)
    reference = np.load(DATA / "golden.npz")
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        if run(DATA / "golden.toml", run_dir, world(use_mpi=False)) != 0:
            print("the golden job failed", file=sys.stderr)
            return 1
        got = computed_datasets(run_dir / "results.h5")
    changed = {}
    for (task, name), values in sorted(got.items()):
        key = f"{task}/{name}"
        old = reference[key]
        if values.dtype == old.dtype and np.array_equal(values, old):
            continue
        changed[key] = values
        print(f"{key}: max |new − old| = {np.max(np.abs(values - old)):.3g}")
    np.savez(DATA / "golden-v2.npz", **changed)
    print(f"{len(changed)} datasets → {DATA / 'golden-v2.npz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
