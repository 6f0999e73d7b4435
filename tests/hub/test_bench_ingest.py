"""bench/ingest.py works end to end at a tiny N. Never asserts on timing: the bench only reports."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench import ingest
from hub.domain import AfterSaleStatus

N = 300
BATCH = 100


def _url(tmp_path: Path, name: str) -> str:
    url = ingest.fresh_database(None, tmp_path, name)
    asyncio.run(ingest.setup_db(url))
    return url


def test_first_ingest_lands_everything_and_unchanged_resync_writes_nothing(tmp_path: Path) -> None:
    url = _url(tmp_path, "hub")
    first = asyncio.run(ingest.hub_pass(url, N, BATCH))
    assert first["stats"]["new"] == N and first["stats"]["quarantined"] == 0
    assert first["write_statements"] > 0
    counts = ingest.table_counts(url)
    assert counts["raw_records"] == counts["after_sales"] == N
    assert counts["events"] >= N and counts["quarantine"] == 0

    again = asyncio.run(ingest.hub_pass(url, N, BATCH))
    assert again["stats"]["unchanged"] == N
    assert again["stats"]["new"] == again["stats"]["changed"] == 0
    assert again["write_statements"] == 0 and again["statements"] > 0
    assert ingest.table_counts(url) == counts  # no rows, no events

    changed = asyncio.run(ingest.hub_pass(url, N, BATCH, changed=True))
    assert changed["stats"]["changed"] == N // ingest.CHANGED_EVERY
    after = ingest.table_counts(url)
    assert after["after_sales"] == N and after["events"] > counts["events"]


def _rows(url: str, table: str, cols: tuple[str, ...], order: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(make_url(url).database or "") as conn:
        return conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()


def test_baseline_writes_the_same_rows_as_the_hub(tmp_path: Path) -> None:
    hub_url, base_url = _url(tmp_path, "hub"), _url(tmp_path, "base")
    asyncio.run(ingest.hub_pass(hub_url, N, BATCH))
    result = asyncio.run(ingest.baseline_pass(base_url, N, BATCH))
    assert result["written"]["after_sales"] == N
    assert ingest.table_counts(base_url) == ingest.table_counts(hub_url)
    for table, cols, order in (
        ("raw_records", ingest.RAW_COLS, "external_id"),
        ("after_sales", ingest.CASE_COLS, "external_id"),
        ("events", ingest.EVENT_COLS, "external_id, kind"),
    ):
        assert _rows(base_url, table, cols, order) == _rows(hub_url, table, cols, order), table


async def _pg_rows(url: str, table: str, cols: tuple[str, ...], order: str) -> list[tuple[object, ...]]:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        rows = await conn.fetch(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}")
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


@pytest.mark.slow
def test_baseline_writes_the_same_rows_as_the_hub_on_postgresql() -> None:
    from hub.testing.fixtures import postgres_url

    admin = postgres_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need HUB_TEST_POSTGRES_URL=postgresql://... (not set)")
    urls = [ingest.fresh_database(admin, Path("."), name) for name in ("hub", "base")]
    try:
        for url in urls:
            asyncio.run(ingest.setup_db(url))
        hub_url, base_url = urls
        asyncio.run(ingest.hub_pass(hub_url, N, BATCH))
        assert asyncio.run(ingest.baseline_pass(base_url, N, BATCH))["written"]["after_sales"] == N
        assert ingest.table_counts(base_url) == ingest.table_counts(hub_url)
        for table, cols, order in (
            ("raw_records", ingest.RAW_COLS, "external_id"),
            ("after_sales", ingest.CASE_COLS, "external_id"),
            ("events", ingest.EVENT_COLS, "external_id, kind"),
        ):
            # shop ids match (one shop in each fresh database); JSONB compares as documents
            hub_rows = asyncio.run(_pg_rows(hub_url, table, cols, order))
            assert asyncio.run(_pg_rows(base_url, table, cols, order)) == hub_rows, table
    finally:
        for url in urls:
            asyncio.run(ingest.drop_database(url))


def test_source_is_lazy_and_realistic() -> None:
    batches = ingest.record_batches(2_500, 1_000)
    assert [len(b) for b in batches] == [1_000, 1_000, 500]
    [first] = next(ingest.record_batches(1, 1))
    assert len(first.payload) >= 25
    case = ingest.map_refund(first)
    assert case.refund_fen > 0 and case.created_at.tzinfo is not None
    statuses = {ingest.map_refund(r).status for r in next(ingest.record_batches(200, 200))}
    assert AfterSaleStatus.REQUESTED in statuses and AfterSaleStatus.CLOSED in statuses


def test_phases_and_target_lines_in_process(tmp_path: Path) -> None:
    results = ingest.run_all(N, BATCH, None, subprocesses=False)
    assert results["resync"]["counts"] == results["first"]["counts"]
    assert results["resync"]["write_statements"] == 0
    text = ingest.report(results, N, BATCH, "sqlite")
    targets = [line for line in text.splitlines() if line.startswith("target ")]
    assert [t.split("=")[0] for t in targets] == [
        "target first_ingest_vs_raw[sqlite]",
        "target resync_speedup[sqlite]",
        "target resync_write_statements[sqlite]",
        "target peak_rss_mb[sqlite]",
    ]
    assert all(t.endswith((" PASS", " FAIL")) and " goal" in t for t in targets)
    assert "target resync_write_statements[sqlite]=0 goal==0 PASS" in targets


def test_target_line_format() -> None:
    assert ingest.target_line("x[sqlite]", 0.471, ">=", 0.4) == "target x[sqlite]=0.47 goal>=0.4 PASS"
    assert ingest.target_line("y", 301, "<", 300, "{:.0f}") == "target y=301 goal<300 FAIL"


@pytest.mark.slow
def test_cli_runs_each_phase_in_a_subprocess_and_exits_0(tmp_path: Path) -> None:
    script = Path(ingest.__file__)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run(
        [sys.executable, str(script), "--records", "200", "--batch", "50", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("target peak_rss_mb[sqlite]=")
    assert (tmp_path / "cli-hub.db").exists() and (tmp_path / "cli-baseline.db").exists()


@pytest.mark.slow
def test_postgresql_phases_when_a_server_is_given() -> None:
    from hub.testing.fixtures import postgres_url

    admin = postgres_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need HUB_TEST_POSTGRES_URL=postgresql://... (not set)")
    results = ingest.run_all(N, BATCH, admin, subprocesses=False)
    assert results["first"]["stats"]["new"] == N
    assert results["resync"]["write_statements"] == 0
    assert results["baseline"]["counts"] == results["first"]["counts"]
    text = ingest.report(results, N, BATCH, "postgresql")
    assert "target ingest_linearity[postgresql]=" in text
