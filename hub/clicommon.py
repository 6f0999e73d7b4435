"""What the ``hub`` command and every module that adds sub-commands share: the usage error,
opening the hub from the parsed arguments, the argument parsers for times, durations, lists and
``KEY=VALUE`` pairs, and JSON output.

It imports no command module, so :mod:`hub.cli` (which builds the parser from the command
modules) and the command modules (which need these helpers) no longer import each other.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from .clock import parse_duration, parse_iso
from .config import Settings
from .errors import HubError
from .scrub import scrub
from .terminal import json_text

#: The exit codes every ``hub`` command uses (docs/cli.md): a script can tell "it failed" from
#: "I asked wrongly" from "it waits for me".
EXIT_OK = 0  #: done
EXIT_FAILED = 1  #: failed, or done only in part (a shop's sync not ok, an action the platform refused)
EXIT_USAGE = 2  #: bad usage or input: an unknown option value, shop, platform, id; a setting refused
EXIT_WAITING = 3  #: an action waits for something (an SMS code, a verification) and was not done


class UsageError(HubError):
    """A bad command-line value."""


class WaitingError(HubError):
    """An action cannot go on until the user supplies something (exit :data:`EXIT_WAITING`)."""


def exit_code_for(err: HubError) -> int:
    """The exit code of a command that stopped on ``err``."""
    from .errors import ConfigError, IdempotencyConflict, NotFoundError

    if isinstance(err, WaitingError):
        return EXIT_WAITING
    if isinstance(err, ConfigError | UsageError | IdempotencyConflict | NotFoundError):
        return EXIT_USAGE
    return EXIT_FAILED


def log_level_for(verbose: int, configured: str | None, stderr_is_terminal: bool) -> str:
    """The log level of a command: ``-v`` info, ``-vv`` debug; else ``HUB_LOG_LEVEL``; else
    warnings only on a terminal (a person reads the command's output there, not routine log
    lines) and info elsewhere (services and cron keep their logs)."""
    if verbose >= 2:
        return "debug"
    if verbose == 1:
        return "info"
    if configured:
        return configured.lower()
    return "warning" if stderr_is_terminal else "info"


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings for a command: the environment, with ``--database`` when given."""
    return Settings.from_env(database_url=getattr(args, "database", None))


def open_hub(args: argparse.Namespace, **kw: Any) -> Any:
    """Open the hub for a command: plugins loaded, database engine made (connects lazily)."""
    from .runtime import Hub  # the runtime loads plugins and the store: only when a command runs

    return Hub.open(settings_from(args), **kw)


def iso_arg(text: str) -> datetime:
    """An argparse ``type`` for an ISO-8601 time."""
    try:
        return parse_iso(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def duration_arg(text: str) -> timedelta:
    """An argparse ``type`` for a duration such as ``90m``, ``24h`` or ``3d``."""
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


#: the most items ``--limit`` asks for (a larger list is an export, not a screenful)
MAX_LIMIT = 100_000


def limit_arg(text: str) -> int:
    """An argparse ``type`` for ``--limit``: a whole number from 1 to :data:`MAX_LIMIT`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (1 to {MAX_LIMIT})") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is out of range: give 1 to {MAX_LIMIT}")
    return value


def port_arg(text: str) -> int:
    """An argparse ``type`` for a TCP port (1-65535)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1 to 65535)")
    return value


def check_known(what: str, given: Sequence[str], known: Sequence[str]) -> None:
    """Refuse values that name nothing (``--platform tmall``, ``--shop typo``) in one line naming
    the known ones: an unknown name is bad input, not an empty result."""
    unknown = [g for g in given if g not in set(known)]
    if unknown:
        raise UsageError(
            f"unknown {what} {', '.join(unknown)} (known: {', '.join(sorted(known)) or 'none yet'})"
        )


async def check_names(hub: Any, *, platforms: Sequence[str] = (), shops: Sequence[str] = ()) -> None:
    """``--platform`` and ``--shop`` values checked against the installed platforms and the shops
    in the database (:func:`check_known`)."""
    if platforms:
        check_known("platform", platforms, list(hub.registry.platforms))
    if shops:
        from .store.shops import list_shop_rows

        check_known("shop", shops, [r.name for r in await list_shop_rows(hub.engine)])


async def shop_ids_named(hub: Any, names: Sequence[str]) -> list[int] | None:
    """The ids of the shops ``--shop`` names (None when it names none: every shop); an unknown
    name is a usage error naming the known ones (:func:`check_known`, exit 2)."""
    if not names:
        return None
    from .store.shops import list_shop_rows

    rows = {r.name: r.id for r in await list_shop_rows(hub.engine)}
    check_known("shop", names, list(rows))
    return [rows[n] for n in names]


def action_exit_code(status: str) -> int:
    """The exit code of an action by its reply's status: done or recorded 0; waiting for a
    verification (an SMS code) :data:`EXIT_WAITING`; anything else :data:`EXIT_FAILED`."""
    if status in ("done", "recorded"):
        return EXIT_OK
    if status == "needs_verification":
        return EXIT_WAITING
    return EXIT_FAILED


def csv_arg(text: str) -> list[str]:
    """An argparse ``type`` for a comma-separated list (blank items dropped)."""
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_kv(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs as a dict; a pair without ``=`` is a :class:`UsageError`."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise UsageError(f"--set needs KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def print_json(value: Any) -> None:
    """Print a value as JSON: exact data but the known secrets, control and bidi characters
    escaped (\\uXXXX), never raw."""
    sys.stdout.write(json_text(scrub(value), ensure_ascii=False, indent=2, default=str) + "\n")
