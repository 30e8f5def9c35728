"""Fixtures shared by the top-level tests (helpers live in tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def write_job(tmp_path):
    """Write a job spec into tmp_path and return its path."""

    def write(text: str, name: str = "job.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
