"""The work-list, sync and 17网 import benches run end to end at a tiny size (never timed here)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from bench import import17, sync, worklist


def test_worklist_bench_compares_the_same_json_and_prints_targets(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    asyncio.run(worklist.build(url, 6_000))
    figures = asyncio.run(worklist.measure(url, 2, web=False))  # asserts hub JSON == hand-built JSON
    lines = worklist.target_lines(figures, "sqlite")
    assert [line.split("=")[0] for line in lines] == [
        "target worklist_first_page_vs_raw[sqlite]",
        "target worklist_deep_page_vs_raw[sqlite]",
    ]
    assert all(line.endswith((" PASS", " FAIL")) and "goal<=2" in line for line in lines)


@pytest.mark.slow
def test_worklist_bench_compares_the_same_json_on_postgresql() -> None:
    from hub.testing.fixtures import create_pg_database, drop_pg_database, postgres_url

    admin = postgres_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need HUB_TEST_POSTGRES_URL=postgresql://... (not set)")
    url = worklist.engine_url(asyncio.run(create_pg_database(worklist.engine_url(admin))))
    try:
        asyncio.run(worklist.build(url, 6_000))
        figures = asyncio.run(worklist.measure(url, 2, web=False))  # asserts hub JSON == hand-built
        assert [line.split("=")[0] for line in worklist.target_lines(figures, "postgresql")] == [
            "target worklist_first_page_vs_raw[postgresql]",
            "target worklist_deep_page_vs_raw[postgresql]",
        ]
    finally:
        asyncio.run(drop_pg_database(url))


def test_sync_bench_backfills_the_sandbox_and_counts_statements() -> None:
    args = argparse.Namespace(days=0.5, latency=0.0, database_url=None, in_flight=4)
    result = asyncio.run(sync.run(args))
    assert result["status"] == "ok" and result["windows"] == 48  # 2 resources x 24 windows
    assert result["statements"] > 0 and result["calls"] >= 48
    text = sync.report(result)
    assert text.splitlines()[-2].startswith("target sync_statements_per_record[sqlite]=")
    assert text.splitlines()[-1].startswith("target sync_vs_rate_limit_floor[sqlite]=")


def test_rate_limit_floor_counts_calls_beyond_the_burst() -> None:
    from collections import Counter

    from hub.ratelimit import RateLimiter

    limiter = RateLimiter(100.0, {"list": (100, 10.0)})
    floor, bucket = sync.rate_limit_floor(limiter, Counter({"list": 1_440, "detail": 60}))
    assert bucket == "list" and floor == (1_440 - 100) / 10


def test_import_bench_phases(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    import17.write_csv(path, 500)
    assert import17.phase("csv", path, None)["rows"] == 500
    snap = import17.phase("snapshot", path, None)
    assert snap["rows"] == 500 and snap["records"] == 250 and not snap["problems"]
    refused = import17.phase("xlsx_cap", path, 100)["refused"]
    assert "orders.csv" in refused and "import_max_rows" in refused


def test_export_bench_downloads_every_row_and_prints_rss_targets(tmp_path: Path) -> None:
    from bench import export

    url = f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"
    results = export.run(url, 300, ["xlsx", "csv"], tmp_path)
    assert [r["format"] for r in results] == ["xlsx", "csv"]
    assert all(r["rows"] == 300 and r["bytes"] > 0 and r["peak_rss_mb"] > 0 for r in results)
    lines = export.report(results, 300, "sqlite").splitlines()[-2:]
    assert [line.split("=")[0] for line in lines] == [
        "target export_peak_rss_mb[xlsx]",
        "target export_peak_rss_mb[csv]",
    ]
    assert all(line.endswith((" PASS", " FAIL")) and "goal<300" in line for line in lines)
