"""The CLI's side of batch work, the personal queue and exports: ``hub case act 12,13,14 ACTION``,
``hub cases --mine`` and ``hub cases --export FILE``.

The acting user: ``--user NAME`` (``--actor`` on ``hub case act``), else the ``HUB_USER``
environment variable. ``hub cases --mine`` needs one (it reads that workbench user's shops and
assignments); an action without one is recorded as done by ``cli``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from .batch import BatchResult, cli_one, run_batch
from .clicommon import UsageError, print_json
from .errors import ConfigError

#: who the CLI acts as when neither --actor/--user nor HUB_USER names someone
DEFAULT_ACTOR = "cli"


def acting_user(given: str | None) -> str | None:
    """The CLI's acting user: the option's value, else ``$HUB_USER``, else None."""
    return (given or os.environ.get("HUB_USER") or "").strip() or None


def actor_of(args: argparse.Namespace) -> str:
    """Who an action from the CLI is recorded as: ``--actor``, ``$HUB_USER``, else ``cli``."""
    return acting_user(getattr(args, "actor", None)) or DEFAULT_ACTOR


async def queue_scope(hub: Any, user: str | None) -> tuple[Collection[int] | None, str]:
    """The shop ids and name for ``hub cases --mine``: that workbench user's shops (every shop for
    an admin); no user, or an unknown or disabled one, is a usage error naming what to do."""
    from .store.auth_repo import _scope_ids, user_by_name

    if user is None:
        raise UsageError("--mine needs the acting user: --user NAME or the HUB_USER environment variable")
    row = await user_by_name(hub.engine, user)
    if row is None or not row.active:
        raise ConfigError(f"no active workbench user named {user!r} (see `hub user list`)")
    async with hub.engine.connect() as conn:
        shop_ids = await _scope_ids(conn, row.role, row.shops or [])
    return shop_ids, str(row.name)


async def export_cases(hub: Any, f: Any, path: Path) -> int:
    """Write the filtered list to ``path`` (.xlsx or .csv); returns the rows written."""
    from .export import export_to_file, format_of

    format_of(str(path))
    if not path.parent.is_dir():
        raise ConfigError(f"--export: no such folder {str(path.parent)!r}")
    names = {pid: info.name_zh for pid, info in hub.registry.platforms.items()}
    return await export_to_file(hub.engine, f, names, path)


async def act_many(
    hub: Any, ids: list[int], action: str, params: Mapping[str, Any], key: str | None, actor: str
) -> BatchResult:
    """Act on each case in turn (see :mod:`hub.batch`)."""

    async def one(case_id: int) -> Any:
        return await cli_one(hub, case_id, action, params, key, actor)

    return await run_batch(ids, action, key, one)


def print_batch(result: BatchResult, as_json: bool) -> None:
    """One line per case, then the counts (or the whole result as JSON)."""
    if as_json:
        print_json(result.as_dict())
        return
    for row in result.rows:
        text = (row.status or "") if row.outcome == "done" else row.message
        note = " (already done under this key: nothing sent)" if row.replayed else ""
        print(f"{row.id:>7}  {row.outcome:<8} {text}{note}")
    c = result.counts
    print(f"{c['done']} done, {c['refused']} refused, {c['skipped']} skipped")
