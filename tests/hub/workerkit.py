"""Helpers for the worker tests: `hub` subprocesses against a fleet sandbox, database snapshots."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.store.engine import create_engine
from hub.store.models import (
    AfterSaleRecord,
    EventRecord,
    OrderRecord,
    QuarantineRecord,
    RawRecordRow,
    SyncCheckpointRecord,
)
from tests.testplatform.fleet import FleetServer

ROOT = Path(__file__).resolve().parents[2]
#: columns that legitimately differ between two databases holding the same data
VOLATILE = {"id", "received_at", "first_seen_at", "last_seen_at", "updated_at", "shop_id"}


def hub_env(db: str, home: Path, **extra: str) -> dict[str, str]:
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
    env.update(extra)
    return env


async def run_hub(
    db: str, home: Path, *args: str, stdin: str | None = None, **extra: str
) -> tuple[int, str, str]:
    """Run ``hub ARGS`` to the end; (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        *args,
        env=hub_env(db, home, **extra),
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 300)
    return (proc.returncode if proc.returncode is not None else -1), out.decode(), err.decode()


async def ok_hub(db: str, home: Path, *args: str, **extra: str) -> str:
    code, out, err = await run_hub(db, home, *args, **extra)
    assert code == 0, f"hub {' '.join(args)} exited {code}: {out} {err}"
    return out


class Background:
    """A long-running ``hub`` process (worker, serve) with its output in files."""

    def __init__(self, proc: asyncio.subprocess.Process, out: Path, err: Path) -> None:
        self.proc, self.out, self.err = proc, out, err

    @classmethod
    async def start(cls, db: str, home: Path, logs: Path, *args: str, **extra: str) -> Background:
        logs.parent.mkdir(parents=True, exist_ok=True)
        out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub",
            *args,
            env=hub_env(db, home, **extra),
            stdout=out.open("wb"),
            stderr=err.open("wb"),
        )
        return cls(proc, out, err)

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    async def wait_for_output(self, needle: str, within: float = 60) -> str:
        """Wait until stdout holds ``needle``; fail (with the process's stderr) if it exits first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while needle not in self.stdout():
            if self.proc.returncode is not None:
                raise AssertionError(f"exited {self.proc.returncode} first: {self.stdout()} {self.stderr()}")
            if loop.time() > deadline:
                raise AssertionError(f"no {needle!r} within {within}s: {self.stdout()} {self.stderr()}")
            await asyncio.sleep(0.1)
        return self.stdout()

    async def stop(self, within: float = 60) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.proc.returncode is None:
            self.proc.terminate()
        return await asyncio.wait_for(self.proc.wait(), within)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def add_fleet_shops(
    db: str, home: Path, fleet: FleetServer, *settings: str, names: list[str] | None = None
) -> None:
    """``hub shop add acme NAME`` for every fleet shop (or the named ones)."""
    for name in names or sorted(fleet.shops):
        s = fleet.shop_settings(name)
        sets = [f"api_url={s['api_url']}", f"token={s['token']}", *settings]
        await ok_hub(db, home, "shop", "add", "acme", name, *(a for kv in sets for a in ("--set", kv)))


def _no_ids(value: Any) -> Any:
    """A stored document without the database's own row ids (a next action's ``via`` names the
    linked case's id, which differs between two databases holding the same data)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "case_id"}
    return value


async def snapshot(db: str) -> dict[str, Any]:
    """The synced data and checkpoints, without ids and local timestamps."""
    engine = create_engine(db)
    out: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            for model in (
                OrderRecord,
                AfterSaleRecord,
                EventRecord,
                RawRecordRow,
                QuarantineRecord,
                SyncCheckpointRecord,
            ):
                table = model.__table__
                cols = [c for c in table.c if c.name not in VOLATILE]
                rows = (await conn.execute(select(*cols))).all()
                out[table.name] = sorted(tuple(repr(_no_ids(v)) for v in r) for r in rows)
    finally:
        await engine.dispose()
    return out


async def query(db: str, statement: Any) -> list[Any]:
    engine = create_engine(db)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())
    finally:
        await engine.dispose()
