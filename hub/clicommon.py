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
