"""bench/ingest.py works end to end at a tiny N. Never asserts on timing: the bench only reports."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import ingest
from hub.domain import AfterSaleStatus

N = 300
BATCH = 100


async def test_first_ingest_lands_everything_and_unchanged_resync_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    await ingest.setup_db(db)
    first = await ingest.hub_pass(db, N, BATCH)
    assert first["stats"]["new"] == N and first["stats"]["quarantined"] == 0
    counts = ingest.table_counts(db)
    assert counts["raw_records"] == counts["after_sales"] == N
    assert counts["events"] >= N and counts["quarantine"] == 0

    again = await ingest.hub_pass(db, N, BATCH)
    assert again["stats"]["unchanged"] == N
    assert again["stats"]["new"] == again["stats"]["changed"] == 0
    assert ingest.table_counts(db) == counts  # no rows, no events

    changed = await ingest.hub_pass(db, N, BATCH, changed=True)
    assert changed["stats"]["changed"] == N // ingest.CHANGED_EVERY
    after = ingest.table_counts(db)
    assert after["after_sales"] == N and after["events"] > counts["events"]


def _rows(db: Path, table: str, cols: tuple[str, ...], order: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()


async def test_baseline_writes_the_same_rows_as_the_hub(tmp_path: Path) -> None:
    hub_db, base_db = tmp_path / "hub.db", tmp_path / "base.db"
    await ingest.setup_db(hub_db)
    await ingest.setup_db(base_db)
    await ingest.hub_pass(hub_db, N, BATCH)
    result = ingest.baseline_pass(base_db, N, BATCH)
    assert result["written"]["after_sales"] == N
    assert ingest.table_counts(base_db) == ingest.table_counts(hub_db)
    for table, cols, order in (
        ("raw_records", ingest.RAW_COLS, "external_id"),
        ("after_sales", ingest.CASE_COLS, "external_id"),
        ("events", ingest.EVENT_COLS, "external_id, kind"),
    ):
        assert _rows(base_db, table, cols, order) == _rows(hub_db, table, cols, order), table


def test_source_is_lazy_and_realistic() -> None:
    batches = ingest.record_batches(2_500, 1_000)
    assert [len(b) for b in batches] == [1_000, 1_000, 500]
    [first] = next(ingest.record_batches(1, 1))
    assert len(first.payload) >= 25
    case = ingest.map_refund(first)
    assert case.refund_fen > 0 and case.created_at.tzinfo is not None
    statuses = {ingest.map_refund(r).status for r in next(ingest.record_batches(200, 200))}
    assert AfterSaleStatus.REQUESTED in statuses and AfterSaleStatus.CLOSED in statuses


def test_phases_and_report_in_process(tmp_path: Path) -> None:
    results = ingest.run_all(N, BATCH, tmp_path / "hub.db", subprocesses=False)
    assert results["resync"]["counts"] == results["first"]["counts"]
    text = ingest.report(results, N, BATCH)
    assert "baseline" in text and text.count("PASS") + text.count("FAIL") == 3


@pytest.mark.slow
def test_cli_runs_each_phase_in_a_subprocess_and_exits_0(tmp_path: Path) -> None:
    script = Path(ingest.__file__)
    done = subprocess.run(
        [sys.executable, str(script), "--records", "200", "--batch", "50", "--db", str(tmp_path / "cli.db")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "targets:" in done.stdout and "plain sqlite3" in done.stdout
    assert (tmp_path / "cli.db").exists() and (tmp_path / "cli-baseline.db").exists()


def test_setup_replaces_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    asyncio.run(ingest.setup_db(db))
    asyncio.run(ingest.hub_pass(db, 10, 10))
    asyncio.run(ingest.setup_db(db))
    assert ingest.table_counts(db)["after_sales"] == 0
