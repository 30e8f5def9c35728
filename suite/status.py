"""`bpsuite status DIR`: progress per task, from the shards (readable while written)."""

from __future__ import annotations

from pathlib import Path

from suite.errors import RunError
from suite.spec import load_spec
from suite.store import progress

EXIT_INCOMPLETE = 1


def status(run_dir: Path, check_complete: bool = False) -> int:
    job = run_dir / "job.toml"
    if not job.exists():
        raise RunError(f"{run_dir}: not a run directory (no job.toml)")
    spec = load_spec(job)
    rows = progress(run_dir, spec)
    width = max(len(t.id) for t, _ in rows)
    total = sum(t.samples for t, _ in rows)
    present = sum(min(n, t.samples) for t, n in rows)
    lines = [f"{'task':<{width}}  {'samples':>15}  done"]
    for task, n in rows:
        lines.append(
            f"{task.id:<{width}}  {n:>7}/{task.samples:<7}  {100 * n / task.samples:5.1f}%"
        )
    merged = (run_dir / "results.h5").exists()
    lines.append(
        f"{'all':<{width}}  {present:>7}/{total:<7}  {100 * present / total:5.1f}%"
        f"   results.h5: {'merged' if merged else 'not yet'}"
    )
    print("\n".join(lines))
    if check_complete and present < total:
        print(f"bpsuite: incomplete: {total - present} of {total} samples missing in {run_dir}")
        return EXIT_INCOMPLETE
    return 0
