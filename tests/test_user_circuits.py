"""Users' circuits (qiskit:, python:, qasm:) and observables, against Qiskit's Statevector.

Every engine that takes a task (template, light cones, stabilizer) must give the cost
of Qiskit's Statevector of the readable bound circuit (`circuit_of(task).bind`) and
its gradient, checked against central finite differences of that Statevector cost:
an independent path through qiskit.quantum_info, with no Aer and no shift rule.
Fixtures: tests/data/user (a Python builder module, OpenQASM 3 files for n = 3, 4).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from qiskit import qasm2, qasm3
from qiskit.quantum_info import Statevector

from analysis.load import load_run
from helpers import assert_binds_plain_parameters, one_line_refusal, run_in_process
from suite.circuits.builders import circuit_of
from suite.circuits.observables import of_task
from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved, make_simulator
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES, choose
from suite.errors import SpecError
from suite.export import circuit_qasm
from suite.parallel import world
from suite.runner import run
from suite.spec import parse_spec

DATA = Path(__file__).resolve().parent / "data" / "user"
SEED = 5
MEMORY = 1 << 34
# Five-point central differences: truncation h^4/30 |C^(5)| <= 3e-14 a^5 sum|c| for slopes
# a up to 6 (many_gates), rounding about 1e-16/h.
H = 1e-3
TOLERANCE = 1e-7
# Qiskit's Statevector exponentiates Pauli evolutions with scipy, which warns about formats.
pytestmark = pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")

QAOA_COST = '[["ZZ", [0, 1], 1.0], ["ZZ", [1, 2], 0.5], ["ZZ", [2, "n-1"], -1.0], ["Z", [0], 0.5]]'

# One sweep per builder, with named costs and explicit observables (index formulas,
# coefficient formulas, a periodic sum, an identity term).
OBSERVABLE = (
    '[["ZZ", [0, "n-1"], 1.0], ["X", [1], "1/n"], ["XY", [2, 0], -0.5], '
    '{ sum = "ZZ", boundary = "periodic", coefficient = 0.25 }, ["II", [0, 1], 0.3]]'
)
STATEVECTOR_JOB = f"""
name = "user-circuits"
seed = {SEED}
samples = 3
[[sweep]]
ansatz = "qiskit:efficient_su2"
cost = ["global", "local", "zz", "zout"]
qubits = 3
depth = 1
parameters = "all"
[[sweep]]
ansatz = "qiskit:efficient_su2"
observable = {OBSERVABLE}
qubits = 4
depth = 2
parameters = [0, "middle", "last"]
[[sweep]]
ansatz = "qiskit:real_amplitudes"
cost = ["local", "zz"]
qubits = 4
depth = 2
options = {{ entanglement = "linear" }}
parameters = "all"
[[sweep]]
ansatz = "qiskit:pauli_two_design"
observable = {OBSERVABLE}
qubits = 4
depth = 2
options = {{ seed = 7 }}
parameters = "all"
[[sweep]]
ansatz = "qiskit:qaoa_ansatz"
cost = ["global", "local"]
qubits = 4
depth = 2
options = {{ cost_operator = {QAOA_COST} }}
parameters = "all"
[[sweep]]
ansatz = "qiskit:qaoa_ansatz"
observable = {QAOA_COST}
qubits = 4
depth = 1
options = {{ cost_operator = {QAOA_COST} }}
parameters = "all"
[[sweep]]
ansatz = "python:user_builders:tied"
cost = ["global", "local", "zz"]
qubits = [3, 4]
depth = 2
options = {{ offset = 0.4 }}
parameters = "all"
[[sweep]]
ansatz = "python:user_builders:tied"
observable = {OBSERVABLE}
qubits = 4
depth = 2
parameters = ["g", "b1", "a0[2]"]
[[sweep]]
ansatz = "python:user_builders:many_gates"
cost = ["global", "local", "zz"]
qubits = 3
depth = 1
parameters = "all"
[[sweep]]
ansatz = "python:user_builders:many_gates"
observable = {OBSERVABLE}
qubits = 4
depth = 1
parameters = ["a", "e", "f", "t"]
[[sweep]]
ansatz = "qasm:ring_n{{n}}.qasm"
cost = ["global", "local", "zz"]
qubits = [3, 4]
parameters = "all"
[[sweep]]
ansatz = "qasm:ring_n{{n}}.qasm"
observable = {OBSERVABLE}
qubits = 4
parameters = ["shared", "t0", "t3"]
"""

# Clifford-capable circuits at Clifford angles, on Aer's stabilizer method.
STABILIZER_JOB = f"""
name = "user-clifford"
seed = {SEED}
samples = 3
[simulator]
method = "stabilizer"
[[sweep]]
ansatz = ["qiskit:efficient_su2", "qiskit:real_amplitudes"]
cost = ["global", "local"]
qubits = 4
depth = 2
angles = "clifford"
parameters = "all"
[[sweep]]
ansatz = "qiskit:qaoa_ansatz"
observable = {QAOA_COST}
qubits = 4
depth = 2
angles = "clifford"
options = {{ cost_operator = {QAOA_COST} }}
parameters = "all"
[[sweep]]
ansatz = ["python:user_builders:clifford_tied", "qasm:ring_n{{n}}.qasm"]
cost = ["global", "local", "zz"]
qubits = [3, 4]
depth = 2
angles = "clifford"
parameters = "all"
[[sweep]]
ansatz = ["python:user_builders:clifford_tied", "qasm:ring_n{{n}}.qasm"]
observable = {OBSERVABLE}
qubits = 4
depth = 2
angles = "clifford"
parameters = "all"
"""


def parse(text: str, base_dir=DATA):
    return parse_spec(text, source="user.toml", memory_bytes=MEMORY, base_dir=str(base_dir))


# One sweep, for single checks and bad input.
JOB = """
name = "bad"
seed = 1
samples = 2
[[sweep]]
ansatz = "{ansatz}"
qubits = 3
depth = 1
{extra}
"""
LOCAL = 'cost = "local"'


STATEVECTOR_TASKS = parse(STATEVECTOR_JOB).tasks
STABILIZER_TASKS = parse(STABILIZER_JOB).tasks


def exact_cost(task, theta: np.ndarray) -> float:
    """C(θ) from Qiskit's Statevector of the readable bound circuit: no Aer, no template."""
    circuit = circuit_of(task)
    observable = of_task(task, circuit.output_qubit)
    state = Statevector(circuit.bind(theta, None))
    value = state.expectation_value(observable.operator()).real
    return observable.offset + observable.scale * value


def finite_difference(task, theta: np.ndarray, k: int) -> float:
    """dC/dθ_k of the Statevector cost, by the five-point central stencil."""
    step = np.zeros_like(theta)
    step[k] = H
    near = exact_cost(task, theta + step) - exact_cost(task, theta - step)
    far = exact_cost(task, theta + 2 * step) - exact_cost(task, theta - 2 * step)
    return (8 * near - far) / (12 * H)


def samples_of(task, seed: int = SEED) -> np.ndarray:
    theta, axes = draw_samples(seed, task, np.arange(task.samples), circuit_of(task).random_axes)
    assert axes is None
    return theta


@pytest.fixture(scope="module")
def statevector():
    return make_simulator(Resolved("statevector", "CPU", "double", 1), 4)


@pytest.fixture(scope="module")
def stabilizer():
    return make_simulator(Resolved("stabilizer", "CPU", "double", 1), 4)


def check_against_statevector(task, result, theta) -> None:
    for b in range(len(theta)):
        assert result.cost[b] == pytest.approx(exact_cost(task, theta[b]), abs=1e-10)
        for j, k in enumerate(task.parameters):
            assert abs(result.grad[b, j] - finite_difference(task, theta[b], k)) < TOLERANCE, (
                f"sample {b}, parameter {k} ({circuit_of(task).names[k]})"
            )


# --- 1. costs and gradients agree with Qiskit's Statevector on every engine -----------


def test_the_jobs_cover_every_builder_and_cost():
    ansatze = {t.ansatz for t in STATEVECTOR_TASKS}
    assert ansatze == {
        "qiskit:efficient_su2",
        "qiskit:real_amplitudes",
        "qiskit:pauli_two_design",
        "qiskit:qaoa_ansatz",
        "python:user_builders:tied",
        "python:user_builders:many_gates",
        "qasm:ring_n{n}.qasm",
    }
    assert {t.cost for t in STATEVECTOR_TASKS} == {"global", "local", "zz", "zout", "observable"}
    assert all(t.method == "statevector" for t in STATEVECTOR_TASKS)
    assert all(t.method == "stabilizer" for t in STABILIZER_TASKS)
    assert len(STABILIZER_TASKS) == 4 + 1 + 12 + 2


def test_templates_bind_plain_parameters_only():
    """Ties such as RZ(2g + 0.4) are affine maps computed in numpy, not gate expressions."""
    for task in STATEVECTOR_TASKS:
        assert_binds_plain_parameters(circuit_of(task).circuit, task.id)


@pytest.mark.parametrize("task", STATEVECTOR_TASKS, ids=lambda t: t.id)
def test_template_engine_matches_statevector(task, statevector):
    theta = samples_of(task)
    prepared = ENGINES["template"].prepare(Workload(task))
    check_against_statevector(task, gradient_batch(prepared, statevector, theta), theta)


@pytest.mark.parametrize(
    "task",
    [t for t in STATEVECTOR_TASKS if t.cost != "global"],
    ids=lambda t: t.id,
)
def test_light_cone_engine_matches_statevector(task, statevector):
    workload = Workload(task)
    assert ENGINES["cones"].refusal(workload) is None
    prepared = ENGINES["cones"].prepare(workload)
    theta = samples_of(task)
    check_against_statevector(task, gradient_batch(prepared, statevector, theta), theta)


def test_light_cone_engine_refuses_the_global_projector():
    task = next(t for t in STATEVECTOR_TASKS if t.cost == "global")
    assert ENGINES["cones"].refusal(Workload(task))[0] == "cost"


@pytest.mark.parametrize("task", STABILIZER_TASKS, ids=lambda t: t.id)
def test_stabilizer_engine_matches_statevector(task, stabilizer, statevector):
    """At Clifford angles: the stabilizer engine, the template engine on the same samples,
    and the Statevector cost and its central differences (θ ± h need no stabilizer)."""
    theta = samples_of(task)
    quarters = theta / (math.pi / 2)
    assert np.array_equal(quarters, np.round(quarters))
    workload = Workload(task)
    assert choose(workload).name in ("stabilizer", "pauli-propagation")  # same bits
    got = gradient_batch(ENGINES["stabilizer"].prepare(workload), stabilizer, theta)
    as_statevector = dataclasses.replace(task, method="statevector")
    want = gradient_batch(ENGINES["template"].prepare(Workload(as_statevector)), statevector, theta)
    assert np.allclose(got.cost, want.cost, rtol=0, atol=1e-10)
    assert np.allclose(got.grad, want.grad, rtol=0, atol=1e-10)
    check_against_statevector(task, got, theta)


def test_stabilizer_refuses_a_circuit_with_a_non_clifford_gate():
    text = STABILIZER_JOB.replace("qiskit:real_amplitudes", "qiskit:pauli_two_design")
    with pytest.raises(SpecError, match=r"sweep\[0\]\.ansatz: .*pauli_two_design"):
        parse(text)
    text = STABILIZER_JOB.replace("user_builders:clifford_tied", "user_builders:tied")
    with pytest.raises(SpecError, match=r"sweep\[2\]\.ansatz: .*user_builders:tied"):
        parse(text)


def test_a_user_gate_that_borrows_a_standard_name_is_simulated_by_its_definition(
    tmp_path, statevector
):
    """OpenQASM's stdgates.inc has no rzz: a file may define its own `rzz`, which need not
    be qiskit's RZZ. The suite must follow the file's definition, as Statevector does."""
    (tmp_path / "impostor_n3.qasm").write_text(
        "OPENQASM 3.0;\n"
        'include "stdgates.inc";\n'
        "gate rzz(x) a, b { rx(x) a; }\n"
        "input float[64] w;\n"
        "qubit[3] q;\n"
        "h q[1];\n"
        "rzz(2 * w) q[0], q[1];\n"
    )
    job = JOB.format(ansatz="qasm:impostor_n{n}.qasm", extra=LOCAL)
    task = parse(job, tmp_path).tasks[0]
    (rotation,) = circuit_of(task).rotations
    assert (rotation.pauli, rotation.qubits, rotation.terms) == ("X", (0,), ((0, 2.0),))
    theta = samples_of(task)
    prepared = ENGINES["template"].prepare(Workload(task))
    check_against_statevector(task, gradient_batch(prepared, statevector, theta), theta)


# --- 2. bad input: one line naming the sweep key, before any work -------------------------

BAD = [
    ("qiskit:efficient_su3", LOCAL, "ansatz", "'efficient_su3' is not a function of qiskit"),
    (
        "qiskit:real_amplitudes",
        LOCAL + '\noptions = { entanglment = "linear" }',
        "options",
        "real_amplitudes takes no option 'entanglment' (it takes: entanglement,",
    ),
    ("qiskit:real_amplitudes", LOCAL + "\noptions = { reps = 4 }", "options", "set by the sweep"),
    ("qiskit:real_amplitudes", LOCAL + "\noptions = 3", "options", "must be a table"),
    ("qasm:ring_n{n}.qasm", LOCAL + "\noptions = { a = 1 }", "options", "do not apply"),
    ("qiskit:qaoa_ansatz", LOCAL, "ansatz", "qiskit.circuit.library.qaoa_ansatz failed at n=3"),
    (
        "qiskit:qaoa_ansatz",
        LOCAL + '\noptions = { cost_operator = [["ZZ", [0, 5]]] }',
        "ansatz",
        "option 'cost_operator': term 0: qubit 5 is outside the register of 3 qubits",
    ),
    ("python:no_such_module:f", LOCAL, "ansatz", "cannot import module 'no_such_module'"),
    ("python:user_builders", LOCAL, "ansatz", "must be python:MODULE:FUNCTION"),
    ("python:user_builders:missing", LOCAL, "ansatz", "has no function 'missing'"),
    (
        "python:user_builders:raising",
        LOCAL,
        "ansatz",
        "user_builders:raising(n=3, depth=1) raised ValueError: this builder refuses n=3",
    ),
    (
        "python:user_builders:tied",
        LOCAL + "\noptions = { offsett = 1.0 }",
        "ansatz",
        "raised TypeError: tied() got an unexpected keyword argument 'offsett'",
    ),
    ("python:user_builders:wrong_width", LOCAL, "ansatz", "a circuit of 4 qubits for qubits = 3"),
    ("python:user_builders:not_a_circuit", LOCAL, "ansatz", "returned str, not a QuantumCircuit"),
    ("qasm:missing_n{n}.qasm", LOCAL, "ansatz", "cannot read OpenQASM file"),
    ("qasm:ring_n4.qasm", LOCAL, "ansatz", "gave a circuit of 4 qubits for qubits = 3"),
    (
        "python:user_builders:with_u",
        LOCAL,
        "ansatz",
        "parameter 'a' sits in a 'u' gate, which has no two-term shift rule",
    ),
    (
        "python:user_builders:with_crx",
        LOCAL,
        "ansatz",
        "parameter 'a' sits in a 'crx' gate, which has no two-term shift rule",
    ),
    ("python:user_builders:squared", LOCAL, "ansatz", "is not linear in 'a'"),
    ("python:user_builders:sine", LOCAL, "ansatz", "is not linear in 'a'"),
    ("python:user_builders:noncommuting", LOCAL, "ansatz", "non-commuting strings"),
    ("python:user_builders:opaque", LOCAL, "ansatz", "'mystery' is not a standard gate"),
    (
        "python:user_builders:tied",
        'observable = [["ZZ", [0, 3], 1.0]]',
        "observable",
        "at n=3: term 0: qubit 3 is outside the register of 3 qubits (0…2)",
    ),
    (
        "python:user_builders:tied",
        'observable = [["X", [0]], ["Z", ["n"]]]',
        "observable",
        "term 1: qubit 3 is outside the register",
    ),
    ("python:user_builders:tied", 'observable = [["Z", [0], "1j"]]', "observable", "complex"),
    (
        "python:user_builders:tied",
        'observable = [["Z", [0], [1.0, 0.5]]]',
        "observable",
        "complex coefficient",
    ),
    ("python:user_builders:tied", 'observable = [["Z", [0], "1/m"]]', "observable", "name 'm'"),
    ("python:user_builders:tied", 'observable = [["Z", [0], nan]]', "observable", "finite"),
    (
        "python:user_builders:tied",
        'observable = [["Z", [0], "(-1)**0.5"]]',
        "observable",
        "not a finite real number",
    ),
    (
        "python:user_builders:tied",
        'observable = { sum = "ZZ", boundary = "closed" }',
        "observable",
        "boundary must be 'open' or 'periodic'",
    ),
    ("python:user_builders:tied", 'observable = [["ZQ", [0, 1]]]', "observable", "letters I, X"),
    (
        "python:user_builders:tied",
        LOCAL + '\nobservable = [["Z", [0]]]',
        "cost",
        "give either `cost`",
    ),
    (
        "python:user_builders:tied",
        LOCAL + '\nparameters = ["g", "zeta"]',
        "parameters",
        "'zeta' is neither first, middle, last, all nor a parameter name (parameters: a0[0],",
    ),
    ("python:user_builders:tied", LOCAL + "\nparameters = [11]", "parameters", "out of range"),
    ("python:user_builders:tied", LOCAL + '\nparameters = ["g", 4]', "parameters", "repeated"),
    ("python:user_builders:tied", LOCAL + "\ntheorem = 'linear'", "theorem", "unknown value"),
]


@pytest.mark.parametrize(("ansatz", "extra", "key", "fragment"), BAD, ids=lambda v: str(v)[:40])
def test_bad_user_input_is_one_line_naming_the_key(ansatz, extra, key, fragment):
    text = JOB.format(ansatz=ansatz, extra=extra)
    message = one_line_refusal(SpecError, f"user.toml: sweep[0].{key}: ", parse, text)
    assert fragment in message, message


def test_python_depth_is_required():
    text = JOB.format(ansatz="python:user_builders:tied", extra=LOCAL).replace("depth = 1\n", "")
    with pytest.raises(SpecError, match=r"^user\.toml: sweep\[0\]\.depth: missing"):
        parse(text)


def test_a_bad_job_stops_the_run_before_any_work(tmp_path):
    job = tmp_path / "bad.toml"
    job.write_text(JOB.format(ansatz="python:user_builders:with_u", extra=LOCAL))
    shutil.copy(DATA / "user_builders.py", tmp_path)
    out = tmp_path / "out"
    with pytest.raises(SpecError, match=r"sweep\[0\]\.ansatz: .*'u' gate"):
        run(job, out, world(use_mpi=False))
    assert not out.exists()


# --- 3. parameters by name; a shared parameter sums over its gates ------------------------


def test_parameters_by_name_select_their_index():
    task = next(t for t in STATEVECTOR_TASKS if t.id.startswith("tied-obs"))
    names = circuit_of(task).names
    assert names == (
        *(f"a0[{q}]" for q in range(4)),
        *(f"a1[{q}]" for q in range(4)),
        "b0",
        "b1",
        "g",
    )
    assert task.parameters == (names.index("g"), names.index("b1"), names.index("a0[2]"))
    assert task.parameters == (10, 9, 2)
    task = next(t for t in STATEVECTOR_TASKS if t.id.startswith("ring-obs"))
    assert circuit_of(task).names == ("shared", "t0", "t1", "t2", "t3")
    assert task.parameters == (0, 1, 4)
    text = JOB.format(
        ansatz="qiskit:real_amplitudes", extra=LOCAL + "\nparameters = ['θ[4]', 'last']"
    )
    assert parse(text).tasks[0].parameters == (4, 5)


def slot_derivatives(task, theta: np.ndarray) -> np.ndarray:
    """dC/dφ_s of every slot of the template, by central differences of a Statevector."""
    circuit = circuit_of(task)
    observable = of_task(task, circuit.output_qubit)
    operator = observable.operator()

    def cost(phi):
        bound = circuit.circuit.assign_parameters(dict(zip(circuit.slots, phi, strict=True)))
        return (
            observable.offset
            + observable.scale * Statevector(bound).expectation_value(operator).real
        )

    phi = circuit.angles(theta[None, :])[0]
    result = np.empty(len(phi))
    for s in range(len(phi)):
        step = np.zeros_like(phi)
        step[s] = H
        near = cost(phi + step) - cost(phi - step)
        far = cost(phi + 2 * step) - cost(phi - 2 * step)
        result[s] = (8 * near - far) / (12 * H)
    return result


@pytest.mark.parametrize(
    ("prefix", "name", "weights"),
    [
        ("tied-obs", "g", [2.0, 0.5, 0.5, 0.5, 2.0, 0.5, 0.5, 0.5]),  # RZ(2g + c), RZZ(g/2)
        ("tied-obs", "b1", [-1.0]),  # RX(−b1)
        ("ring-obs", "shared", [2.0, -1.0]),  # RZ(2·shared − π/2), zz(−shared)
        ("qaoa_ansatz-obs", "γ[0]", [2.0, 1.0, -2.0, 1.0]),  # 2·c per cost term
        ("qaoa_ansatz-obs", "β[0]", [2.0] * 4),  # the mixer Σ X_j
    ],
)
def test_a_shared_parameter_sums_over_its_gates(prefix, name, weights, statevector):
    task = next(t for t in STATEVECTOR_TASKS if t.id.startswith(prefix))
    circuit = circuit_of(task)
    k = circuit.names.index(name)
    occurrences = circuit.occurrences(k)
    assert [a for _, a in occurrences] == weights
    theta = samples_of(task)[:1]
    task = dataclasses.replace(task, parameters=(k,))
    result = gradient_batch(ENGINES["template"].prepare(Workload(task)), statevector, theta)
    per_slot = slot_derivatives(task, theta[0])
    chain = sum(a * per_slot[s] for s, a in occurrences)
    assert result.grad[0, 0] == pytest.approx(chain, abs=TOLERANCE)
    assert result.grad[0, 0] == pytest.approx(finite_difference(task, theta[0], k), abs=TOLERANCE)


# --- 4. end to end: a run of user circuits, read back; one sample exported -------------


END_TO_END = """
name = "users"
seed = 3
samples = 4
batch = 3
[[sweep]]
ansatz = "python:user_builders:tied"
observable = [["ZZ", [0, "n-1"], 1.0], ["X", [1], "1/n"]]
qubits = [3, 4]
depth = 1
options = { offset = 0.2 }
parameters = ["g", "first"]
[[sweep]]
ansatz = "qasm:ring_n{n}.qasm"
cost = "local"
qubits = [3, 4]
parameters = "all"
theorem = "exponential"
"""


def test_a_run_of_user_circuits_is_read_back_and_exported(tmp_path, statevector):
    for name in ("user_builders.py", "ring_n3.qasm", "ring_n4.qasm"):
        shutil.copy(DATA / name, tmp_path)
    job = tmp_path / "users.toml"
    job.write_text(END_TO_END)
    out = run_in_process(job, tmp_path / "run")
    data = load_run(out, with_theta=True)
    spec = parse(END_TO_END, tmp_path)
    assert sorted(data.tasks) == sorted(t.id for t in spec.tasks)
    for task in spec.tasks:
        got = data.tasks[task.id]
        assert got.ansatz == task.ansatz
        assert np.array_equal(got.sample, np.arange(4))
        assert np.array_equal(got.param_index, task.parameters)
        theta = samples_of(task, spec.seed)
        assert np.array_equal(got.theta, theta)
        want = gradient_batch(ENGINES["template"].prepare(Workload(task)), statevector, theta)
        assert np.allclose(got.cost_values, want.cost, rtol=0, atol=1e-10)
        assert np.allclose(got.grad, want.grad, rtol=0, atol=1e-10)
    task = spec.tasks[0]
    text = circuit_qasm(job, task.id, 2)
    assert f"derivatives taken w.r.t. theta[{task.parameters[0]}, 0] (g, a0[0])" in text
    for task in spec.tasks:  # the exported circuit has the cost of the sample
        theta = samples_of(task, spec.seed)[1]
        observable = of_task(task)
        for exporter in (qasm2, qasm3):
            text = circuit_qasm(job, task.id, 1, qasm3=exporter is qasm3)
            body = text[text.index("OPENQASM") :]
            if exporter is qasm2:
                loaded = qasm2.loads(body, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
            else:
                loaded = qasm3.loads(body)
            value = Statevector(loaded).expectation_value(observable.operator()).real
            cost = observable.offset + observable.scale * value
            assert cost == pytest.approx(exact_cost(task, theta), abs=1e-9)
