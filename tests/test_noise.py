"""Noise after every gate (docs/noise.md): the spec, where the channels go, the noisy
warm-up's exact law, and the slope of a noisy depth sweep against Wang et al.'s bound.

The warm-up with a channel after each RX(θ_j) on |0⟩: RX(θ)|0⟩ has Bloch vector
(0, −sin θ, cos θ); amplitude damping g maps z → (1 − g) z + g, depolarizing p maps the
vector → (1 − p)·vector. With both (damping first) each qubit has
P_j(0) = (1 + z_j)/2, z_j = (1 − p)((1 − g) cos θ_j + g), so

  C_G = 1 − ∏_j P_j(0),      ∂C_G/∂θ_1 = ½ q sin θ_1 ∏_{j>1} P_j(0),   q = (1 − p)(1 − g)
  C_L = 1 − (1/n) Σ_j P_j(0), ∂C_L/∂θ_1 = q sin θ_1 / (2n).

For depolarizing noise alone (g = 0, q = 1 − p), with θ_j ~ U[0, 2π) (E[sin²] = E[cos²] = ½,
E[sin⁴] = E[cos⁴] = 3/8, odd moments 0):

  E[P(0)²] = (1 + q²/2)/4 = (2 + q²)/8,  E[P(0)⁴] = (1 + 6q²·½ + q⁴·3/8)/16
  global  E[g²] = (q²/8)·((2 + q²)/8)^(n−1),  E[g⁴] = (3q⁴/128)·((1 + 3q² + 3q⁴/8)/16)^(n−1)
  local   E[g²] = q²/(8n²),                    E[g⁴] = (3/8)·q⁴/(16n⁴)

(q = 1 gives tests/test_warmup_physics.py's laws). The sample variance of S samples has
standard error √((E[g⁴] − E[g²]²)/S) up to O(1/S²); with 8 checks at Z = 4 standard errors
(two-sided normal tail 6e-5 each, 5e-4 for the family) the test is not tuned to pass.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys

import h5py
import numpy as np
import pytest
from qiskit.circuit.library import (
    PauliEvolutionGate,
    PauliGate,
    UnitaryGate,
    get_standard_gate_name_mapping,
)
from qiskit.quantum_info import DensityMatrix, Kraus, Operator, Pauli, SparsePauliOp

from analysis.pipeline import build_summary
from analysis.report import render_report
from helpers import (
    JOBS,
    assert_variance_matches,
    one_line_refusal,
    run_in_process,
    run_text,
    warmup_moments,
)
from suite.archive import verify
from suite.circuits.builders import circuit_of
from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved, make_simulator
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import choose, prepare
from suite.errors import SpecError
from suite.export import circuit_qasm
from suite.spec import load_spec, parse_spec
from suite.status import status

HEAD = """
name = "noisy"
seed = 3
samples = 4
"""
PRODUCT = """
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 3
"""


def test_noise_levels_get_their_own_ids_and_noiseless_tasks_keep_theirs():
    spec = parse_spec(
        HEAD
        + PRODUCT
        + "noise = [{}, { depolarizing = 0.02 }, { amplitude_damping = 0.1, depolarizing = 0.02 }]"
    )
    assert [t.id for t in spec.tasks] == [
        "product-local-n3-L1",
        "product-local-n3-L1-dep0.02",
        "product-local-n3-L1-ad0.1-dep0.02",
    ]
    # no [simulator] method: noisy tasks get density matrices, the noiseless one keeps its
    assert [t.method for t in spec.tasks] == ["statevector", "density_matrix", "density_matrix"]
    stored = [json.loads(t.to_json()) for t in spec.tasks]
    assert "noise" not in stored[0]  # results.h5 of noiseless jobs is unchanged
    assert json.loads(stored[2]["noise"]) == {"amplitude_damping": 0.1, "depolarizing": 0.02}


@pytest.mark.parametrize(
    ("sweep", "simulator", "message"),
    [
        (
            "noise = { depolarizing = 1.5 }",
            "",
            "job.toml: sweep[0].noise.depolarizing: must be a probability in [0, 1], got 1.5",
        ),
        ("noise = { depolarizing = true }", "", "sweep[0].noise.depolarizing: must be a prob"),
        ("noise = { dephasing = 0.1 }", "", "job.toml: sweep[0].noise.dephasing: unknown channel"),
        ("noise = 0.1", "", "job.toml: sweep[0].noise: must be a table"),
        ("noise = []", "", "job.toml: sweep[0].noise: must not be an empty list"),
        (
            "noise = { depolarizing = 0.1 }",
            'method = "statevector"',
            'job.toml: sweep[0].noise: simulator.method = "statevector" cannot apply noise',
        ),
        (
            'angles = "clifford"\nnoise = { depolarizing = 0.1 }',
            'method = "stabilizer"',
            'job.toml: sweep[0].noise: simulator.method = "stabilizer" cannot apply noise',
        ),
        (
            "noise = { amplitude_damping = 0.1 }",
            'method = "matrix_product_state"',
            'sweep[0].noise: simulator.method = "matrix_product_state" cannot apply noise',
        ),
    ],
)
def test_bad_noise_is_refused_in_one_line(sweep, simulator, message):
    text = HEAD + PRODUCT + sweep + ("\n[simulator]\n" + simulator if simulator else "")
    assert message in one_line_refusal(SpecError, "", parse_spec, text, source="job.toml")


def test_a_density_matrix_that_cannot_fit_is_refused():
    # 10 qubits: a statevector needs 32 KiB, a density matrix 2·16·4^10 B = 32 MiB
    text = HEAD + PRODUCT.replace("qubits = 3", "qubits = 10")
    parse_spec(text, source="job.toml", memory_bytes=16 << 20)
    with pytest.raises(SpecError) as error:
        parse_spec(
            text + "noise = { depolarizing = 0.01 }", source="job.toml", memory_bytes=16 << 20
        )
    assert str(error.value) == (
        "job.toml: sweep[0].qubits: a double-precision density matrix of 10 qubits (noise "
        "needs one) needs 32 MiB, more than this node's 16 MiB (use fewer qubits)"
    )


def test_gates_wider_than_three_qubits_are_refused_with_noise(tmp_path):
    (tmp_path / "wide.py").write_text(
        "from qiskit import QuantumCircuit\n"
        "from qiskit.circuit import Parameter\n"
        "from qiskit.circuit.library import PauliEvolutionGate\n"
        "from qiskit.quantum_info import SparsePauliOp\n"
        "def build(n, depth):\n"
        "    qc = QuantumCircuit(n)\n"
        "    qc.rx(Parameter('a'), 0)\n"
        "    qc.append(PauliEvolutionGate(SparsePauliOp('ZZZZ'), time=0.3), range(4))\n"
        "    return qc\n"
    )
    text = HEAD + '[[sweep]]\nansatz = "python:wide:build"\ncost = "local"\nqubits = 4\n'
    text += "depth = 1\n"
    parse_spec(text, base_dir=str(tmp_path))  # noiseless: fine
    with pytest.raises(SpecError, match=r"sweep\[0\]\.noise: python:wide:build at n=4 has a gate "):
        parse_spec(text + "noise = { depolarizing = 0.01 }", base_dir=str(tmp_path))


def test_noisy_tasks_never_take_the_cone_or_stabilizer_engine():
    spec = parse_spec(
        HEAD
        + """
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 12
depth = 1
noise = [{}, { depolarizing = 0.01 }]
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 4
depth = 2
angles = "clifford"
noise = [{}, { depolarizing = 0.01 }]
[simulator]
method = "auto"
""",
        memory_bytes=1 << 40,  # nothing is simulated: only the engines are chosen
    )
    chosen = [(t.method, choose(Workload(t)).name) for t in spec.tasks]
    assert chosen == [
        ("statevector", "cones"),  # noiseless: light cones pay off here …
        ("density_matrix", "template"),
        ("stabilizer", "pauli-propagation"),  # … and these angles are Clifford
        ("density_matrix", "template"),
    ]


# --- every gate gets its channel: the suite against a hand-built density-matrix simulation

BUILDER = """
from qiskit import QuantumCircuit
from qiskit.circuit import Gate, Parameter
from qiskit.circuit.library import PauliEvolutionGate, PauliGate, UnitaryGate
from qiskit.quantum_info import SparsePauliOp, random_unitary


def every_gate(n, depth):
    a, b, c, d = (Parameter(x) for x in "abcd")
    qc = QuantumCircuit(n)
    qc.h(0)
    qc.u(0.3, 0.5, 0.7, 1)
    qc.rx(a, 0)
    qc.ry(b, 1)
    qc.rz(c, 2)
    qc.cz(0, 1)
    qc.cx(1, 2)
    qc.rxx(d, 0, 2)
    qc.append(PauliGate("XYZ"), [0, 1, 2])
    qc.append(UnitaryGate(random_unitary(4, seed=11)), [2, 0])
    qc.ch(1, 2)  # Aer has no ch: the template holds its definition
    qc.append(PauliEvolutionGate(SparsePauliOp(["XX", "YY"], [0.5, -1.5]), time=a), [1, 2])
    qc.append(PauliEvolutionGate(SparsePauliOp(["XY"]), time=0.4), [0, 1])  # h, sdg, cx, rz …
    mine = Gate("mine", 2, [])  # a user's gate: each of its gates is a gate
    body = QuantumCircuit(2)
    body.ry(0.9, 0)
    body.cx(0, 1)
    mine.definition = body
    qc.append(mine, [2, 1])
    qc.ry(b, 2)
    return qc
"""
NOISES = (
    {"depolarizing": 0.1},
    {"amplitude_damping": 0.15},
    {"amplitude_damping": 0.15, "depolarizing": 0.1},
)
OBSERVABLE = [["XYZ", [0, 1, 2], 1.0], ["Z", [1], 0.5], ["XX", [0, 2], -0.3]]
_STANDARD = get_standard_gate_name_mapping()


def hand_channel(noise: dict[str, float], k: int) -> Kraus:
    """The channel after a k-qubit gate, from its definition (not from Aer): amplitude
    damping on each qubit, then ρ → (1 − p)ρ + p·Tr(ρ)·I/2^k = Σ_P w_P P ρ P (a Pauli
    twirl: w_I = 1 − p + p/4^k, w_P = p/4^k otherwise)."""
    channel = None
    if "amplitude_damping" in noise:
        g = noise["amplitude_damping"]
        one = Kraus(
            [np.array([[1, 0], [0, math.sqrt(1 - g)]]), np.array([[0, math.sqrt(g)], [0, 0]])]
        )
        channel = one
        for _ in range(k - 1):
            channel = channel.tensor(one)
    if "depolarizing" in noise:
        p = noise["depolarizing"]
        paulis = [Pauli("".join(s)).to_matrix() for s in itertools.product("IXYZ", repeat=k)]
        weights = [1 - p + p / 4**k] + [p / 4**k] * (4**k - 1)
        twirl = Kraus([math.sqrt(w) * m for w, m in zip(weights, paulis, strict=True)])
        channel = twirl if channel is None else channel.compose(twirl)
    return channel


def is_gate(operation) -> bool:
    """A gate of the circuit (gets one channel); anything else is opened up."""
    if isinstance(operation, PauliEvolutionGate | PauliGate | UnitaryGate):
        return True
    standard = _STANDARD.get(operation.name)
    return standard is not None and operation.base_class is standard.base_class


def noisy_state(circuit, noise, rho=None, qubits=None) -> DensityMatrix:
    rho = DensityMatrix.from_label("0" * circuit.num_qubits) if rho is None else rho
    qubits = list(range(circuit.num_qubits)) if qubits is None else qubits
    for instruction in circuit.data:
        where = [qubits[circuit.find_bit(q).index] for q in instruction.qubits]
        if is_gate(instruction.operation):
            rho = rho.evolve(Operator(instruction.operation), where)
            rho = rho.evolve(hand_channel(noise, len(where)), where)
        else:
            rho = noisy_state(instruction.operation.definition, noise, rho, where)
    return rho


def suite_values(task, samples):
    circuit = circuit_of(task)
    theta, axes = draw_samples(3, task, samples, circuit.random_axes)
    prepared = prepare(task)
    simulator = make_simulator(Resolved("auto", "CPU", "double", 1).for_task(task), 3)
    return circuit, theta, axes, gradient_batch(prepared, simulator, theta, axes)


def test_every_gate_of_a_user_circuit_gets_its_channel(tmp_path, monkeypatch):
    (tmp_path / "noise_builders.py").write_text(BUILDER)
    levels = ", ".join(
        "{ " + ", ".join(f"{k} = {v}" for k, v in noise.items()) + " }" for noise in NOISES
    )
    spec = parse_spec(
        HEAD
        + f"""
[[sweep]]
ansatz = "python:noise_builders:every_gate"
observable = {json.dumps(OBSERVABLE)}
qubits = 3
depth = 1
parameters = "all"
noise = [{levels}]
[[sweep]]
ansatz = "python:noise_builders:every_gate"
cost = "global"
qubits = 3
depth = 1
noise = {{ amplitude_damping = 0.15, depolarizing = 0.1 }}
""",
        base_dir=str(tmp_path),
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module_spec = importlib.util.spec_from_file_location(
        "noise_builders", tmp_path / "noise_builders.py"
    )
    builders = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(builders)
    operator = SparsePauliOp.from_sparse_list([tuple(t) for t in OBSERVABLE], 3)
    for task in spec.tasks:
        noise = json.loads(task.noise)
        _, theta, _, result = suite_values(task, np.arange(3))
        user = builders.every_gate(3, 1)
        parameters = list(user.parameters)

        def cost(values, user=user, parameters=parameters, noise=noise, task=task):
            rho = noisy_state(
                user.assign_parameters(dict(zip(parameters, values, strict=True))), noise
            )
            if task.cost == "global":
                return 1.0 - float(rho.probabilities()[0])
            return float(rho.expectation_value(operator).real)

        for row, values in enumerate(theta):
            assert abs(result.cost[row] - cost(values)) < 1e-12, (task.id, row)
            # the shift rule stays exact (the channels do not depend on θ); central
            # differences with h = 1e-4 agree to O(h²)·|C'''| + rounding/h ≈ 1e-8
            for column, k in enumerate(task.parameters):
                step = np.zeros_like(values)
                step[k] = 1e-4
                finite = (cost(values + step) - cost(values - step)) / 2e-4
                assert abs(result.grad[row, column] - finite) < 1e-7, (task.id, row, k)
    sys.modules.pop("noise_builders", None)


def test_mcclean_random_axes_get_one_channel_per_rotation():
    """McClean's rotation is one gate of the template whatever its axis: one channel, and
    amplitude damping, which does not commute with the axis frame, sees it in place."""
    spec = parse_spec(
        HEAD
        + """
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 3
depth = 2
noise = { amplitude_damping = 0.2, depolarizing = 0.05 }
"""
    )
    (task,) = spec.tasks
    circuit, theta, axes, result = suite_values(task, np.arange(4))
    zz = SparsePauliOp.from_sparse_list([("ZZ", [0, 1], 1.0)], 3)
    for row in range(len(theta)):
        rho = noisy_state(circuit.bind(theta[row], axes[row]), json.loads(task.noise))
        assert abs(result.cost[row] - rho.expectation_value(zz).real) < 1e-12


# --- the warm-up's exact law

SAMPLES = 3000
QUBITS = range(2, 6)
P, G = 0.2, 0.3
Z = 4.0
WARMUP = f"""
name = "warmup-noisy"
seed = 20210617
samples = {SAMPLES}
batch = 1000
[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = {list(QUBITS)}
noise = {{ depolarizing = {P} }}
[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = 3
samples = 40
noise = [{{ amplitude_damping = {G} }}, {{ amplitude_damping = {G}, depolarizing = {P} }}]
"""


@pytest.fixture(scope="module")
def noisy_warmup(tmp_path_factory):
    return run_text(WARMUP, tmp_path_factory.mktemp("noisy-warmup"))


@pytest.mark.parametrize("cost", ["global", "local"])
@pytest.mark.parametrize("n", QUBITS)
def test_noisy_warmup_variance_matches_the_law(noisy_warmup, cost, n):
    with h5py.File(noisy_warmup / "results.h5") as f:
        grad = f["tasks"][f"product-{cost}-n{n}-L1-dep{P}"]["grad"][:, 0]
    assert len(grad) == SAMPLES
    assert_variance_matches(grad, *warmup_moments(cost, n, 1 - P), Z)


def test_noisy_warmup_samples_equal_the_closed_form(noisy_warmup):
    tasks = [(f"-dep{P}", P, 0.0, n) for n in QUBITS]
    tasks += [(f"-ad{G}", 0.0, G, 3), (f"-ad{G}-dep{P}", P, G, 3)]
    with h5py.File(noisy_warmup / "results.h5") as f:
        for suffix, p, g, n in tasks:
            for cost in ("global", "local"):
                group = f["tasks"][f"product-{cost}-n{n}-L1{suffix}"]
                theta, grad = group["theta"][:], group["grad"][:, 0]
                p0 = (1 + (1 - p) * ((1 - g) * np.cos(theta) + g)) / 2
                slope = (1 - p) * (1 - g) * np.sin(theta[:, 0]) / 2
                if cost == "global":
                    cost_law, grad_law = 1 - p0.prod(axis=1), slope * p0[:, 1:].prod(axis=1)
                else:
                    cost_law, grad_law = 1 - p0.mean(axis=1), slope / n
                np.testing.assert_allclose(group["cost"][:], cost_law, rtol=0, atol=1e-12)
                np.testing.assert_allclose(grad, grad_law, rtol=0, atol=1e-12)


# --- the built-in noisy depth sweep against Wang et al.'s bound


def test_noise_depth_job_decays_faster_than_the_bound(tmp_path, capsys):
    job = JOBS / "noise-depth.toml"
    run_dir = run_in_process(job, tmp_path / "run")
    summary = build_summary([run_dir])
    (fit,) = summary["noise_fits"]
    assert fit["family"] == "mcclean-zz-n4-L*-dep0.03"
    assert fit["q"] == pytest.approx(0.97)
    assert fit["bound"] == pytest.approx(2 * math.log(0.97))
    assert fit["slope_ci"][1] < fit["bound"]  # the whole interval below 2 ln q
    assert fit["verdict"] == "satisfied"
    assert all(t["modifiers"] == ["noise"] and t["exact"] is None for t in summary["tasks"])
    assert "## Noise-induced decay" in render_report(summary, [])
    # the commands that read runs rebuild noisy tasks from the run alone
    identical, lines = verify(run_dir, per_task=2)
    assert identical, lines
    assert status(run_dir, check_complete=True) == 0
    task = load_spec(job).tasks[0]
    assert '// noise {"depolarizing": 0.03}: after every gate' in circuit_qasm(job, task.id, 0)


def test_density_matrix_batches_split_into_calls_give_the_same_bits(monkeypatch):
    """A batch's density matrices go to Aer in calls of at most DENSITY_CALL_BYTES (glibc
    keeps the freed matrices of one call: docs/noise.md); one point per call changes no
    bit."""
    from suite.engines import template

    spec = parse_spec(
        """
name = "dm-calls"
seed = 3
samples = 6
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 4
depth = 3
parameters = [0, 5]
noise = { depolarizing = 0.02, amplitude_damping = 0.01 }
"""
    )
    (task,) = spec.tasks
    theta, axes = draw_samples(spec.seed, task, np.arange(6), True)
    simulator = make_simulator(Resolved("density_matrix", "CPU", "double", 1), 4)
    whole = gradient_batch(prepare(task), simulator, theta, axes)
    monkeypatch.setattr(template, "DENSITY_CALL_BYTES", 1)
    prepared = prepare(task)
    assert prepared.points_per_call == 1
    split = gradient_batch(prepared, simulator, theta, axes)
    assert np.array_equal(split.grad, whole.grad) and np.array_equal(split.cost, whole.cost)
