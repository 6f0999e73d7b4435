"""Benchmark: exporting the work list (200,000 cases) as XLSX and CSV, on SQLite or PostgreSQL.

Builds a migrated database with the work-list bench's synthetic shops and cases (``bench/worklist.py``
seeds them the same way), adds an admin and an API token, then, for each format, starts a fresh
interpreter that serves the workbench and downloads ``GET /api/cases/export?format=...`` of every
case (every status, so all N rows) through a real HTTP connection, writing the body to a file as it
arrives. That process's peak resident set size (``ru_maxrss``: interpreter, imports, server and
client included) is the figure: the export must stream, not hold the rows. On Linux the high-water
mark is also reset once the server is up, so the report shows the RSS reached during the export
apart from start-up's.

Usage: ``python bench/export.py [--database-url URL] [--cases 200000] [--formats xlsx,csv]``.
The report ends with one line per format: ``target export_peak_rss_mb[FORMAT]=N goal<300 PASS|FAIL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.worklist import NOW, STATUSES, backend, build, engine_url  # noqa: E402
from hub.testing.fixtures import create_pg_database, drop_pg_database  # noqa: E402

GOAL_MB = 300
FORMATS = ("xlsx", "csv")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def reset_peak() -> bool:
    """Reset this process's RSS high-water mark (Linux: ``/proc/self/clear_refs``), so the export's
    own peak can be read apart from start-up's; False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def high_water_mb() -> float | None:
    """VmHWM (the RSS high-water mark since the last reset) in MiB, where /proc has it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def make_token(url: str, home: Path) -> str:
    """An admin and their API token (made here: hashing a password takes 64 MiB, which must not
    count against the export)."""
    from hub.config import Settings
    from hub.plugins import get_plugin_manager
    from hub.runtime import Hub
    from hub.web.auth import create_token, ensure_user

    hub = Hub.open(
        Settings.from_env(database_url=url, home=home), pm=get_plugin_manager(load_entrypoints=False)
    )
    try:
        await ensure_user(hub, "bench-admin", "admin", [], "bench-password")
        return await create_token(hub.engine, "bench-admin", now=NOW)
    finally:
        await hub.close()


async def download(url: str, home: Path, token: str, fmt: str, out: Path) -> dict[str, Any]:
    """Serve the workbench and download the export of every case into ``out``, chunk by chunk."""
    from aiohttp.test_utils import TestClient, TestServer

    from hub.config import Settings
    from hub.runtime import Hub
    from hub.web import create_app

    hub = Hub.open(Settings.from_env(database_url=url, home=home))
    hub.now = lambda: NOW
    base_mb = peak_rss_mb()  # start-up: interpreter, plugins, the workbench's modules
    own = reset_peak()
    every = ",".join(STATUSES)  # terminal statuses too: all N rows
    started = time.perf_counter()
    size = 0
    async with TestClient(TestServer(create_app(hub))) as client:
        resp = await client.get(
            f"/api/cases/export?format={fmt}&status={every}", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == 200, await resp.text()
        with out.open("wb") as fh:
            async for chunk in resp.content.iter_chunked(256 * 1024):
                fh.write(chunk)
                size += len(chunk)
    export_mb = high_water_mb() if own else None
    return {
        "format": fmt,
        "seconds": time.perf_counter() - started,
        "bytes": size,
        "base_rss_mb": base_mb,
        "export_rss_mb": export_mb,  # the highest RSS while the export ran, None where unknown
        "peak_rss_mb": max(base_mb, peak_rss_mb(), export_mb or 0.0),
    }


def count_rows(path: Path, fmt: str) -> int:
    """Data rows in the exported file (its header not counted), read back without holding it."""
    if fmt == "csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1
    import zipfile

    # the sheet's XML has one <row ...> element per row: counted as it is inflated, chunk by chunk
    # (a spreadsheet reader would take minutes over 200,000 rows)
    rows, tail = 0, b""
    with zipfile.ZipFile(path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
        while chunk := sheet.read(1 << 20):
            data = tail + chunk
            rows += data.count(b"<row ")
            # 4 bytes cannot hold a whole "<row ": a tag cut between two chunks is counted once
            tail = data[-4:]
    return rows - 1


def child(fmt: str, url: str, home: str, token: str, out: str) -> int:
    """The measured process: one download, its figures as JSON on stdout."""
    figures = asyncio.run(download(url, Path(home), token, fmt, Path(out)))
    print(json.dumps(figures))
    return 0


def measure(url: str, home: Path, token: str, fmt: str, out: Path) -> dict[str, Any]:
    """One format in a fresh interpreter (its ru_maxrss is the export's own), then the rows counted."""
    env = {**os.environ, "HUB_LOG_LEVEL": "warning", "HUB_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", fmt, "--url", url, "--home", str(home), "--out", str(out)],
        input=token,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the {fmt} export failed:\n{proc.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["rows"] = count_rows(out, fmt)
    return figures


def target_line(fmt: str, peak_mb: float) -> str:
    """``target export_peak_rss_mb[FORMAT]=N goal<300 PASS|FAIL``."""
    verdict = "PASS" if peak_mb < GOAL_MB else "FAIL"
    return f"target export_peak_rss_mb[{fmt}]={peak_mb:.0f} goal<{GOAL_MB} {verdict}"


def run(url: str, n_cases: int, formats: list[str], workdir: Path) -> list[dict[str, Any]]:
    """Build, then measure each format; the figures per format."""
    asyncio.run(build(url, n_cases))
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    token = asyncio.run(make_token(url, home))
    return [measure(url, home, token, fmt, workdir / f"export.{fmt}") for fmt in formats]


def _mb(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} MiB"


def report(results: list[dict[str, Any]], n_cases: int, db: str) -> str:
    lines = [
        f"export of {n_cases:,} cases ({db}), each format in a fresh process through GET /api/cases/export:"
    ]
    for r in results:
        lines.append(
            f"  {r['format']:<5} {r['rows']:>8,} rows  {r['bytes'] / 1e6:7.1f} MB  {r['seconds']:6.1f} s  "
            f"peak RSS {r['peak_rss_mb']:.0f} MiB (start-up {r['base_rss_mb']:.0f} MiB, "
            f"during the export {_mb(r['export_rss_mb'])})"
        )
    lines += [target_line(r["format"], r["peak_rss_mb"]) for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (a fresh database is created on that server and dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--formats", default=",".join(FORMATS), help="xlsx,csv (default: both)")
    parser.add_argument("--child", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.url, args.home, sys.stdin.readline().strip(), args.out)
    formats = [f for f in args.formats.split(",") if f]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        parser.error(f"--formats: {', '.join(bad)} (xlsx, csv)")
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url and backend(args.database_url) == "postgresql":
            url = engine_url(asyncio.run(create_pg_database(engine_url(args.database_url))))
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        try:
            print(f"building {args.cases:,} cases ({backend(url)}) ...", flush=True)
            results = run(url, args.cases, formats, Path(tmp))
        finally:
            if backend(url) == "postgresql":
                asyncio.run(drop_pg_database(url))
    print(report(results, args.cases, backend(url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
