"""The kill test: a `hub sync` subprocess SIGKILLed at several points and started again ends with
exactly the rows and events of an uninterrupted run, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from hub.store.engine import create_engine
from hub.store.migrate import upgrade
from hub.testing.fixtures import create_pg_database, drop_pg_database
from tests.hub.workerkit import snapshot
from tests.testplatform.server import TOKEN, AcmeServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


async def run_hub(db: str, home: Path, *args: str, crash: str | None = None) -> int:
    env = {
        **os.environ,
        "HUB_DATABASE_URL": db,
        "HUB_HOME": str(home),
        "HUB_PLUGINS": "tests.testplatform",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen,jd",
        "PYTHONPATH": str(ROOT),
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "warning",
    }
    env.pop("HUB_CRASH_AT", None)
    if crash:
        env["HUB_CRASH_AT"] = crash
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "--database",
        db,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if crash is None and proc.returncode != 0:
        raise AssertionError(f"hub {' '.join(args)} failed: {out.decode()} {err.decode()}")
    return proc.returncode if proc.returncode is not None else -1


async def fresh_db(db_url: str, tmp_path: Path, name: str) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / name}.db"
    from hub.testing.fixtures import postgres_url

    admin = postgres_url()
    assert admin
    return await create_pg_database(admin)


@pytest.mark.parametrize(
    "crashes",
    [
        ("window_fetched:3", "mid_window:6", "before_commit:9", "after_commit:14", "before_commit:25"),
    ],
)
async def test_killed_sync_ends_identical(db_url: str, tmp_path: Path, crashes: tuple[str, ...]) -> None:
    server = AcmeServer()
    server.populate(n_cases=300, days=16, seed=11)
    # a malformed record too: quarantine must also end identical
    bad = sorted(server.cases)[10]
    server.cases[bad]["amount"] = "1.2.3"
    url = await server.serve() + "/api"
    reference = await fresh_db(db_url, tmp_path, "reference")
    try:
        for db, home in ((db_url, tmp_path / "a"), (reference, tmp_path / "b")):
            engine = create_engine(db)
            await upgrade(engine)
            await engine.dispose()
            await run_hub(
                db,
                home,
                "shop",
                "add",
                "acme",
                "acme-1",
                "--set",
                f"api_url={url}",
                "--set",
                f"token={TOKEN}",
            )
        # No --since: every run starts from the checkpoint the killed one left (or the 30-day
        # initial look-back, which covers the sandbox's 16 days).
        await run_hub(reference, tmp_path / "b", "sync")
        killed = 0
        for crash in crashes:
            code = await run_hub(db_url, tmp_path / "a", "sync", crash=crash)
            killed += code == -signal.SIGKILL
        assert killed >= 4, "the crash points were not reached"
        await run_hub(db_url, tmp_path / "a", "sync")
        a, b = await snapshot(db_url), await snapshot(reference)
        assert a["after_sales"] and a["events"]
        for table in b:
            assert a[table] == b[table], f"{table} differs after the killed runs"
        # and a run on top of the finished one changes nothing
        await run_hub(db_url, tmp_path / "a", "sync")
        assert await snapshot(db_url) == a
    finally:
        await server.stop()
        if not reference.startswith("sqlite"):
            await drop_pg_database(reference)
