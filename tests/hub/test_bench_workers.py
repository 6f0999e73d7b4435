"""bench/workers.py works end to end at a tiny size (PostgreSQL); never asserts on timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_bench_workers_prints_its_table_and_target() -> None:
    if not os.environ.get("HUB_TEST_POSTGRES_URL"):
        pytest.skip("bench/workers.py needs HUB_TEST_POSTGRES_URL (PostgreSQL)")
    out = subprocess.run(
        [
            sys.executable,
            "bench/workers.py",
            "--shops",
            "4",
            "--latency",
            "0",
            "--workers",
            "2",
            "--days",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    lines = out.splitlines()
    assert any(line.startswith("| 1 | ") and "{'ok': 4}" in line for line in lines), out
    assert any(line.startswith("| 2 | ") and "{'ok': 4}" in line for line in lines), out
    assert "overlapping syncs of one shop: 0" in lines
    last = lines[-1]
    assert last.startswith("target workers_2_vs_1=") and last.endswith(("PASS", "FAIL"))
    assert " goal>=2.5 " in last
