"""The ``hub`` command.

Every sub-command is an ``async def cmd_*(args) -> int``; :func:`main` sets up logging, runs it,
and turns a :class:`hub.errors.HubError` (or a bad argument) into one clear line and a non-zero
exit: a user never sees a traceback for bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from .clicommon import (
    EXIT_USAGE,
    UsageError,
    csv_arg,
    duration_arg,
    exit_code_for,
    iso_arg,
    log_level_for,
    open_hub,
    parse_kv,
    print_json,
    settings_from,
)
from .config import redact_url
from .errors import HubError
from .logging import configure_logging
from .scrub import scrub_text
from .terminal import SafeStream, clean

Handler = Callable[[argparse.Namespace], Awaitable[int]]

# The helpers command modules share live in hub.clicommon (so those modules and this one do not
# import each other); the old names stay here for plugins and modules that import them from hub.cli.
_iso = iso_arg
_duration = duration_arg
_csv = csv_arg
_kv = parse_kv
_print_json = print_json

__all__ = ["UsageError", "build_parser", "main", "open_hub", "settings_from"]


def build_parser() -> argparse.ArgumentParser:
    from . import commands, scaffold

    parser = argparse.ArgumentParser(
        prog="hub", description="After-sales command centre: one work list across Taobao, Pinduoduo and 17网."
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: $HUB_DATABASE_URL or sqlite in $HUB_HOME), "
        "e.g. postgresql://hub@db/hub or sqlite:///hub.db",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more on standard error: -v info, -vv debug (default: warnings only on a terminal, "
        "info elsewhere; HUB_LOG_LEVEL sets it too), e.g. hub -v sync",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    commands.register(sub)
    scaffold.register(sub)
    try:
        from .web import commands as web_commands
    except ImportError:  # the workbench is optional in a stripped-down install
        web_commands = None  # type: ignore[assignment]
    if web_commands is not None:
        web_commands.register(sub)
    from .worker import commands as worker_commands

    worker_commands.register(sub)
    from .notify import commands as notify_commands

    notify_commands.register(sub)
    _plugin_commands(sub)
    return parser


def _plugin_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Commands plugins add through ``hub_register_commands``. A plugin set that cannot load adds
    none here: the command that opens the hub then reports the problem."""
    from .errors import PluginError
    from .plugins import call_plugin, get_plugin_manager

    try:
        pm = get_plugin_manager()
    except PluginError:
        return
    for impl in pm.hook.hub_register_commands.get_hookimpls():
        plugin = impl.plugin_name

        def register(name: str, help: str, plugin: str = plugin) -> argparse.ArgumentParser:
            if name in sub.choices:
                raise PluginError(f"plugin {plugin!r} adds the command {name!r}, which already exists")
            parser: argparse.ArgumentParser = sub.add_parser(name, help=f"{help} [plugin {plugin}]")
            return parser

        try:
            call_plugin(pm, "hub_register_commands", plugin, register=register)
        except Exception as err:
            # Named, and the core commands still work: one plugin's bad command breaks nothing else.
            why = _one_line(err)
            sys.stderr.write(f"hub: warning: plugin {plugin!r} could not add its commands: {why}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        settings = settings_from(args)
        configure_logging(
            settings.log_format,
            log_level_for(args.verbose, os.environ.get("HUB_LOG_LEVEL"), sys.stderr.isatty()),
        )
        return _run_printing_safely(args)
    except KeyboardInterrupt:
        sys.stderr.write("hub: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader stopped early (`hub cases | head`, `grep -q`): that is its choice, not a
        # failure. Point stdout at /dev/null so the interpreter's final flush cannot raise again.
        _silence_stdout()
        return 0
    except HubError as err:
        sys.stderr.write(f"hub: error: {_one_line(err)}\n")
        return exit_code_for(err)
    except Exception as err:
        from sqlalchemy.exc import DBAPIError

        # Platform clients wrap their network errors in PlatformError; a bare connection error or
        # a DBAPI error reaching here comes from the database.
        if isinstance(err, DBAPIError) and getattr(args, "command", None) != "db":
            behind = _schema_behind(args)
            if behind:  # an SQL error from a database `hub db upgrade` has not reached yet
                sys.stderr.write(f"hub: error: {behind}\n")
                return EXIT_USAGE
        if isinstance(err, DBAPIError | ConnectionError | TimeoutError) or (
            isinstance(err, OSError) and err.errno is None and "connect" in str(err).lower()
        ):
            url = redact_url(getattr(args, "database", None) or os.environ.get("HUB_DATABASE_URL", "") or "")
            orig = getattr(err, "orig", None) or err
            sys.stderr.write(
                f"hub: error: the database cannot be reached{f' ({url})' if url else ''}: {_one_line(orig)}\n"
            )
            return 1
        if isinstance(err, OSError):
            sys.stderr.write(f"hub: error: {_one_line(err)}\n")
            return 1
        raise


def _schema_behind(args: argparse.Namespace) -> str | None:
    """Why the database cannot serve this hub (no schema, or an older one), or None when it is at
    the head revision or cannot be asked."""

    async def state() -> str | None:
        from .store.engine import create_engine
        from .store.migrate import current_revision, head_revision

        engine = create_engine(settings_from(args).database_url)
        try:
            current = await current_revision(engine)
        finally:
            await engine.dispose()
        head = head_revision()
        if current == head:
            return None
        where = f"at revision {current}" if current else "empty (no schema yet)"
        return f"the database is {where}, this hub needs revision {head}: run `hub db upgrade`"

    try:
        return asyncio.run(state())
    except Exception:
        return None


def _run_printing_safely(args: argparse.Namespace) -> int:
    """Run the command with its standard output cleaned of terminal controls: what commands print
    carries platform data (names, reasons, raw records) that must be shown, never obeyed."""
    real = sys.stdout
    sys.stdout = SafeStream(real)  # type: ignore[assignment]
    try:
        return asyncio.run(args.func(args))
    finally:
        sys.stdout = real


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout: nothing to flush
        pass


def _one_line(err: BaseException) -> str:
    return clean(scrub_text(" ".join(str(err).split()))) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
