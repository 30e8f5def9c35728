"""The suite's adjoint engine (suite/engines/adjoint.py) beside its peers (issue 9).

Same samples and groups as test_bench_peers.py, so each group compares one amount of
work: `mcclean K=1 n=…` (against Aer parameter shift, qiskit-ml and Lightning's QNode)
and `mcclean all parameters n=…` (against Lightning's QNode adjoint, and Aer parameter
shift at n = 8). One thread: the engine's Lightning kernels run single-threaded below
14 qubits and on the rank's threads above, here BPSUITE-style one per core.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_bench_peers import AGREE, QUBITS, _lightning_gradients, case, suite_reference

from suite.engines.aer import Resolved
from suite.engines.base import gradient_batch
from suite.engines.registry import prepare

PER_CORE = Resolved(method="adjoint", device="CPU", precision="double", threads=1)


def adjoint_run(c):
    """The engine's prepared task, its Lightning state vector, and one batch to time."""
    prepared = prepare(dataclasses.replace(c.task, method="adjoint"))
    simulator = prepared.simulator(PER_CORE)
    return lambda: gradient_batch(prepared, simulator, c.theta, c.axes)


@pytest.mark.parametrize("n", QUBITS)
def test_adjoint_engine_k1(benchmark, n):
    benchmark.group = f"mcclean K=1 n={n}"
    result = benchmark(adjoint_run(case(n)))
    np.testing.assert_allclose(result.grad[:, 0], suite_reference(n), rtol=0, atol=AGREE)


@pytest.mark.parametrize("n", QUBITS)
def test_adjoint_engine_all_parameters(benchmark, n):
    benchmark.group = f"mcclean all parameters n={n}"
    c = case(n, '"all"')
    result = benchmark(adjoint_run(c))
    assert result.grad.shape == (len(c.theta), n * n)
    np.testing.assert_allclose(result.grad[:, 0], suite_reference(n), rtol=0, atol=AGREE)


@pytest.mark.parametrize("n", QUBITS[1:])  # n = 8: test_bench_peers.py
def test_lightning_adjoint_all_parameters_large(benchmark, n):
    benchmark.group = f"mcclean all parameters n={n}"
    c = case(n, '"all"')
    grad = benchmark(_lightning_gradients(n, c))
    mine = adjoint_run(c)().grad
    np.testing.assert_allclose(grad, mine, rtol=0, atol=AGREE)
