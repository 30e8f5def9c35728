"""Rank-independent random parameters.

Sample k of task t draws from a generator seeded by (job seed, task id, k)
alone, so any rank can compute any sample and a run gives the same numbers
on 1 rank or 64, in one attempt or several.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from suite.records import Task

TWO_PI = 2.0 * math.pi


def task_key(task_id: str) -> int:
    """A 64-bit integer fixed by the task id (stable across Python runs)."""
    return int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:8], "little")


def sample_rng(job_seed: int, task_id: str, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(job_seed, spawn_key=(task_key(task_id), k)))


# A third spawn-key word gives the shot outcomes a stream of their own, independent of
# the angles (whose draws stay as they were) and equally rank-independent.
SHOT_STREAM = int.from_bytes(b"shots", "little")


def shot_rng(job_seed: int, task_id: str, k: int) -> np.random.Generator:
    """The generator of sample k's shot outcomes (docs/shots.md)."""
    seed = np.random.SeedSequence(job_seed, spawn_key=(task_key(task_id), k, SHOT_STREAM))
    return np.random.default_rng(seed)


def draw_sample(
    job_seed: int, task: Task, k: int, random_axes: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Angles (and, for random-axis families, axes 0=X 1=Y 2=Z) of sample k."""
    rng = sample_rng(job_seed, task.id, k)
    if task.angles == "clifford":
        theta = rng.integers(0, 4, task.n_params) * (math.pi / 2)
    else:
        theta = rng.uniform(0.0, TWO_PI, task.n_params)
    axes = rng.integers(0, 3, task.n_params).astype(np.int8) if random_axes else None
    return theta, axes


def draw_samples(
    job_seed: int, task: Task, samples: np.ndarray, random_axes: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Stack `draw_sample` over sample indices: theta (B, P), axes (B, P) or None."""
    drawn = [draw_sample(job_seed, task, int(k), random_axes) for k in samples]
    theta = np.array([d[0] for d in drawn], dtype=np.float64).reshape(len(drawn), task.n_params)
    axes = (
        np.array([d[1] for d in drawn], dtype=np.int8).reshape(theta.shape) if random_axes else None
    )
    return theta, axes
