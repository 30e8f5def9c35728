"""`bpsuite circuit`: one sample's bound circuit as OpenQASM, to recompute elsewhere."""

from __future__ import annotations

from pathlib import Path

from suite.circuits import observables
from suite.circuits.builders import circuit_of
from suite.circuits.sampling import COUNTER_DRAWS_ABOVE, counter_drawn, draw_sample
from suite.spec import SpecError, load_spec


def circuit_qasm(job: Path, task_id: str, sample: int, qasm3: bool = False) -> str:
    spec = load_spec(job)
    task = spec.task(task_id)
    if not 0 <= sample < task.samples:
        raise SpecError(
            f"{job}: --sample {sample} out of range for task {task_id} (0…{task.samples - 1})"
        )
    if counter_drawn(task):
        raise SpecError(
            f"{job}: task {task_id} has {task.n_params} parameters: `bpsuite circuit` writes "
            f"circuits of at most {COUNTER_DRAWS_ABOVE} (the light-cone route's samples are "
            "rebuilt by `bpsuite verify`; docs/large-n.md)"
        )
    circuit = circuit_of(task)
    theta, axes = draw_sample(spec.seed, task, sample, circuit.random_axes)
    qc = circuit.bind(theta, axes)
    observable = observables.of_task(task, circuit.output_qubit)
    if qasm3:
        from qiskit import qasm3 as exporter
    else:
        from qiskit import qasm2 as exporter
    names = ", ".join(circuit.names[k] for k in task.parameters)
    header = [
        f"// bpsuite job '{spec.name}' seed {spec.seed}, task {task.id}, sample {sample}",
        f"// cost: {observables.DESCRIPTIONS[task.cost]}",
        f"// {_formula(observable)}",
        f"// derivatives taken w.r.t. theta[{', '.join(map(str, task.parameters))}] ({names})",
        "// theta = [" + ", ".join(repr(float(t)) for t in theta) + "]",
    ]
    if axes is not None:
        header.append("// axes = [" + "".join("XYZ"[a] for a in axes) + "]")
    if task.noise:
        header.append(
            f"// noise {task.noise}: after every gate below, on its qubits (not expressible "
            "in OpenQASM; docs/noise.md)"
        )
    return "\n".join(header) + "\n" + exporter.dumps(qc) + "\n"


def _formula(observable: observables.Observable) -> str:
    """C = offset + (scale) * <O>, O as a Pauli sum (the projector expanded)."""
    terms = " + ".join(f"{c.real!r}·{label}" for label, c in observable.operator().to_list())
    return (
        f"C = {observable.offset!r} + ({observable.scale!r}) * <O>, O = {terms}\n"
        "//   (Pauli labels read right to left: qubit 0 is the rightmost letter)"
    )
