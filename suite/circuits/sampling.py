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


# Tasks with more trainable parameters than this draw each angle on its own (below), so
# that an engine that needs a few thousand of 20 M angles draws only those, and store the
# `theta` columns of their differentiated parameters only (docs/hdf5-schema.md). Every
# task at or below it draws as it always did.
COUNTER_DRAWS_ABOVE = 2**16
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def counter_drawn(task: Task) -> bool:
    """Whether the task's angles come from `draw_columns` (more than 2^16 parameters)."""
    return task.n_params > COUNTER_DRAWS_ABOVE


def stored_columns(task: Task) -> np.ndarray | None:
    """The parameter index of each stored `theta` column, or None: all of them."""
    return np.asarray(task.parameters, dtype=np.int64) if counter_drawn(task) else None


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele et al. 2014): a bijection of uint64 whose outputs
    of consecutive inputs pass BigCrush; numpy's uint64 arrays wrap on overflow."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draw_columns(
    job_seed: int, task: Task, k: int, columns: np.ndarray, random_axes: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Angles (and axes) of the parameters `columns` of sample k of a `counter_drawn` task.

    Parameter i gets the 64-bit word mix(key + (i + 1)·γ), with the key drawn from the
    sample's seed sequence (job seed, task, k): a counter-based generator, so any subset
    of the parameters costs only its own size. Clifford angles take the top two bits,
    uniform angles the top 53, axes a second key.
    """
    keys = np.random.SeedSequence(job_seed, spawn_key=(task_key(task.id), k)).generate_state(
        2, np.uint64
    )
    counter = (np.asarray(columns, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
    words = _mix(keys[0] + counter)
    if task.angles == "clifford":
        theta = (words >> np.uint64(62)).astype(np.float64) * (math.pi / 2)
    else:
        theta = (words >> np.uint64(11)).astype(np.float64) * (TWO_PI * 2.0**-53)
    if not random_axes:
        return theta, None
    axes = ((_mix(keys[1] + counter) >> np.uint64(32)) * np.uint64(3)) >> np.uint64(32)
    return theta, axes.astype(np.int8)


def draw_sample(
    job_seed: int, task: Task, k: int, random_axes: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Angles (and, for random-axis families, axes 0=X 1=Y 2=Z) of sample k."""
    if counter_drawn(task):
        return draw_columns(job_seed, task, k, np.arange(task.n_params), random_axes)
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
