"""The light-cone engine: same numbers as full circuits, and local costs at large n."""

from __future__ import annotations

import numpy as np
import pytest

from suite import cones
from suite.ansatz import FAMILIES
from suite.gradient import gradient_batch, prepare
from suite.sampling import draw_samples
from suite.simulator import Resolved, make_simulator
from suite.spec import parse_spec

SPEC = parse_spec("""
name = "cones"
seed = 3
samples = 5
[[sweep]]
ansatz = "alternating"
cost = ["local", "zz", "zout"]
qubits = [8, 10]
depth = [1, 3]
parameters = [0, 5, 7]
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 6
parameters = "all"
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 6
depth = [1, 2]
parameters = [0, 5]
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = 8
""")


def cone_plan(prepared):
    task = prepared.task
    terms = cones.cost_terms(
        task.cost, task.qubits, FAMILIES[task.ansatz].output_qubit(task.qubits)
    )
    template = prepared.template
    return cones.plan(template.circuit, list(template.theta), template.structure, terms)


@pytest.fixture(scope="module")
def simulator():
    return make_simulator(Resolved("statevector", "CPU", "double", 1), 4)


@pytest.mark.parametrize("task", SPEC.tasks, ids=lambda t: t.id)
def test_cones_give_the_full_circuits_numbers(task, simulator):
    family = FAMILIES[task.ansatz]
    prepared = prepare(task)
    theta, axes = draw_samples(SPEC.seed, task, np.arange(task.samples), family.random_axes)
    full = gradient_batch(prepared, simulator, theta, axes)
    plan = cone_plan(prepared)
    structure = prepared.template.structure_values(axes)
    cost, grad, _ = cones.gradient_batch(
        plan,
        simulator,
        theta,
        task.parameters,
        structure,
        prepared.cost.offset,
        prepared.cost.scale,
    )
    np.testing.assert_allclose(cost, full.cost, rtol=0, atol=1e-14)
    np.testing.assert_allclose(grad, full.grad, rtol=0, atol=1e-14)


def test_global_cost_has_no_cones():
    assert cones.cost_terms("global", 5, 0) is None


def test_work_model_prefers_cones_only_where_they_pay():
    spec = parse_spec(
        'name = "w"\nseed = 1\nsamples = 1\n'
        '[[sweep]]\nansatz = "product"\ncost = "local"\nqubits = [4, 20]\n'
        '[[sweep]]\nansatz = "qcnn"\ncost = "zout"\nqubits = 16\n',
    )
    decisions = {}
    for task in spec.tasks:
        prepared = prepare(task)
        plan = cone_plan(prepared)
        gates = len(prepared.template.circuit.data)
        decisions[task.id] = cones.worth_it(plan, task.qubits, gates, task.parameters)
    assert decisions == {
        "product-local-n4-L1": False,  # tiny: Aer's per-experiment overhead dominates
        "product-local-n20-L1": True,
        "qcnn-zout-n16-L4": False,  # the QCNN funnels every qubit into its output
    }
