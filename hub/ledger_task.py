"""The daily ledger file as a worker task: where ``hub worker`` runs and ``HUB_LEDGER_DIR`` names a
folder, yesterday's (Beijing) after-sales ledger is written there once a day, the same file
``hub ledger daily --dir`` writes (so cron is not needed beside the workers).

The scheduler asks every tick whether yesterday's file is missing; the queue keeps at most one
such task waiting, and the file is written atomically, so two workers that both write it leave
one whole file with the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from .domain import Shop
from .errors import ConfigError
from .ledger import daily_name, yesterday
from .reportdays import DayRange
from .runtime import Hub
from .worker.tasks import task_kind

log = structlog.get_logger("hub.ledger")

KIND = "ledger_daily"
#: the folder finance reads; unset, no daily file is written by the workers
ENV = "HUB_LEDGER_DIR"
FORMAT_ENV = "HUB_LEDGER_FORMAT"


def ledger_dir() -> Path | None:
    """The configured folder, or None."""
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


def ledger_format() -> str:
    fmt = os.environ.get(FORMAT_ENV, "csv").strip() or "csv"
    if fmt not in ("csv", "xlsx"):
        raise ConfigError(f"{FORMAT_ENV} must be csv or xlsx, not {fmt!r}")
    return fmt


def missing_day(now: datetime, folder: Path | None, fmt: str = "csv") -> date | None:
    """Yesterday (Beijing) when its file is not in ``folder`` yet; None when it is, or no folder."""
    if folder is None:
        return None
    day = yesterday(now)
    return None if (folder / daily_name(day, fmt)).exists() else day


async def schedule_daily_ledger(hub: Hub, queue: Any, now: datetime) -> bool:
    """Queue the daily ledger task when yesterday's file is missing; whether it was queued."""
    day = missing_day(now, ledger_dir(), ledger_format())
    if day is None:
        return False
    return bool(await queue.defer(KIND, None, {"day": day.isoformat()}))


@task_kind(KIND, help="write yesterday's after-sales ledger file into HUB_LEDGER_DIR", per_shop=False)
async def run_daily_ledger(hub: Hub, shop: Shop | None, args: Mapping[str, Any]) -> str:
    """Write the day's ledger (every shop) as ``HUB_LEDGER_DIR/ledger-YYYY-MM-DD.csv``."""
    from .report_commands import write_ledger_file

    folder = ledger_dir()
    if folder is None:
        return "skipped"
    day = date.fromisoformat(str(args["day"])) if args.get("day") else yesterday(hub.now())
    fmt = ledger_format()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / daily_name(day, fmt)
    rows = await write_ledger_file(hub, DayRange(day, day), path, fmt)
    log.info("ledger_daily_written", path=str(path), rows=len(rows))
    return "ok"
