"""The stabilizer method's engines side by side (issue 9: qcnn at n = 4096).

Groups `<task> clifford n=…`: the same batch of Clifford-angle samples on Aer's tableau
(`stabilizer`, the peer: Aer's own Clifford simulator) and on Pauli propagation
(`pauli-propagation`, numpy), one thread each; gradients and costs must be identical
(exact values). qcnn's are all zero at these sizes (its derivative is non-zero with
probability ≈ 1e-5 at n = 64), so the alternating ansatz's ⟨Z0 Z1⟩, whose costs are not,
checks the equality on values that could differ (tests/test_pauli_propagation.py checks
every point). The ratio of the two means is the engine's speed-up (docs/large-n.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES
from suite.spec import parse_spec

ONE_THREAD = Resolved(method="stabilizer", device="CPU", precision="double", threads=1)
SAMPLES = 16
CASES = [
    ("qcnn", "zout", 64, "ceil(log2(n))"),
    ("qcnn", "zout", 256, "ceil(log2(n))"),
    ("alternating", "zz", 64, 4),
    ("alternating", "zz", 256, 8),
]


def _batch(ansatz: str, cost: str, n: int, depth, engine: str):
    depth_line = f'depth = "{depth}"' if isinstance(depth, str) else f"depth = {depth}"
    spec = parse_spec(
        f"""
name = "bench-clifford"
seed = 4096
samples = {SAMPLES}
[[sweep]]
ansatz = "{ansatz}"
cost = "{cost}"
qubits = {n}
{depth_line}
angles = "clifford"
[simulator]
method = "stabilizer"
"""
    )
    (task,) = spec.tasks
    theta, _ = draw_samples(spec.seed, task, np.arange(SAMPLES), False)
    prepared = ENGINES[engine].prepare(Workload(task))
    simulator = prepared.simulator(ONE_THREAD.for_task(task))
    return lambda: gradient_batch(prepared, simulator, theta)


def _ids(case) -> str:
    return f"{case[0]}-{case[1]}-n{case[2]}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_pauli_propagation(benchmark, case):
    benchmark.group = f"{case[0]} {case[1]} clifford n={case[2]}"
    reference = _batch(*case, "stabilizer")()
    result = benchmark(_batch(*case, "pauli-propagation"))
    assert np.array_equal(result.grad, reference.grad)
    assert np.array_equal(result.cost, reference.cost)
    if case[0] == "alternating":
        assert np.any(reference.cost != 0)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_tableau(benchmark, case):
    benchmark.group = f"{case[0]} {case[1]} clifford n={case[2]}"
    result = benchmark(_batch(*case, "stabilizer"))
    assert result.grad.shape == (SAMPLES, 1)
