"""Analysis stage of the barren-plateau suite.

Reads run directories (`DIR/results.h5`, schema `bpsuite/1`) and writes
`DIR/analysis/summary.json`, `report.md` and `figures/*.png`. Needs numpy, scipy, h5py
and matplotlib only: no MPI, no Qiskit, nothing from `suite`.
"""

from analysis.console import format_verdicts
from analysis.errors import AnalysisError
from analysis.pipeline import analyze_runs

__all__ = ["AnalysisError", "analyze_runs", "format_verdicts"]
