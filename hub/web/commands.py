"""The workbench's sub-commands: ``serve``, ``user add|list``, ``token create``."""

from __future__ import annotations

import argparse
import getpass
import sys

from ..clicommon import csv_arg, open_hub, print_json
from ..errors import ConfigError
from .app import run_server
from .auth import ensure_user

__all__ = ["ensure_user", "register", "run_server"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``serve``, ``user`` and ``token`` to the ``hub`` command."""
    p = sub.add_parser(
        "serve",
        help="serve the agents' workbench (web pages + JSON API)",
        epilog="Behind a TLS-terminating reverse proxy, set HUB_TRUSTED_PROXIES to its networks "
        "(e.g. 127.0.0.1,10.0.0.0/8): only their Forwarded / X-Forwarded-* headers are believed.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1), e.g. 0.0.0.0"
    )
    p.add_argument("--port", type=int, default=8080, help="port (default 8080), e.g. 8090")
    p.set_defaults(func=cmd_serve)

    user = sub.add_parser("user", help="workbench users: add, list")
    users = user.add_subparsers(dest="user_command", metavar="ACTION")
    users.required = True
    p = users.add_parser("add", help="add a user: hub user add NAME --role agent --shops A,B")
    p.add_argument("name", help="the user's login name, e.g. alice")
    p.add_argument(
        "--role",
        required=True,
        choices=("admin", "agent", "viewer"),
        help="admin (everything), agent (acts on its shops' cases) or viewer (reads), e.g. agent",
    )
    p.add_argument(
        "--shops",
        default="",
        help="comma-separated shop names the user serves (admins: all), e.g. my-tmall,my-pdd",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    p.set_defaults(func=cmd_user_add)
    p = users.add_parser("list", help="list users (never their credentials)")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    p.set_defaults(func=cmd_user_list)

    token = sub.add_parser("token", help="API tokens for scripts")
    tokens = token.add_subparsers(dest="token_command", metavar="ACTION")
    tokens.required = True
    p = tokens.add_parser("create", help="create an API token for USER (printed once, stored hashed)")
    p.add_argument("user", help="the user the token acts as, e.g. alice")
    p.set_defaults(func=cmd_token_create)
    p = tokens.add_parser("revoke", help="revoke every API token of USER")
    p.add_argument("user", help="the user whose tokens stop working, e.g. alice")
    p.set_defaults(func=cmd_token_revoke)
    for name, active, text in (
        ("disable", False, "disable a user (ends their sessions)"),
        ("enable", True, "enable a disabled user"),
    ):
        p = users.add_parser(name, help=text)
        p.add_argument("name", help="the user's login name, e.g. alice")
        p.set_defaults(func=cmd_user_active, active=active)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise ConfigError("--password-stdin: stdin gave no password")
        return password
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to prompt for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the passwords differ")
    return first


async def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the workbench until interrupted."""
    from ..store.migrate import current_revision, head_revision

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0-65535, not {args.port}")
    hub = open_hub(args)
    try:
        if await current_revision(hub.engine) != head_revision():
            raise ConfigError("the database is not at the latest schema: run `hub db upgrade` first")
    except ConfigError:
        await hub.close()
        raise

    def ready(url: str) -> None:
        print(f"hub workbench listening on {url}  (Ctrl+C to stop)", flush=True)
        if hub.settings.trusted_proxies:
            print(f"trusting the proxies at {', '.join(hub.settings.trusted_proxies)}", flush=True)

    await run_server(hub, args.host, args.port, on_ready=ready)
    return 0


async def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a user; the password is prompted for (or read from stdin), never taken as an argument."""
    from .auth import add_user, validate_name, validate_password

    validate_name(args.name)
    password = validate_password(_read_password(args.password_stdin))
    async with open_hub(args) as hub:
        await add_user(hub.engine, args.name, args.role, csv_arg(args.shops), password, now=hub.now())
        from .auth import audit

        await audit(
            hub.engine,
            actor="cli",
            kind="user_added",
            now=hub.now(),
            detail={"user": args.name, "role": args.role, "shops": csv_arg(args.shops)},
        )
    print(f"user {args.name} added ({args.role})")
    return 0


async def cmd_user_list(args: argparse.Namespace) -> int:
    """List users with their role and shops."""
    from .auth import list_users

    async with open_hub(args) as hub:
        users = await list_users(hub.engine)
    if args.json:
        print_json(users)
        return 0
    if not users:
        print("no users (add one with `hub user add NAME --role admin`)")
        return 0
    print(f"{'name':<20}{'role':<8}{'tokens':>7}  shops")
    for u in users:
        shops = "(all)" if u["role"] == "admin" else ",".join(u["shops"]) or "-"
        print(f"{u['name']:<20}{u['role']:<8}{u['tokens']:>7}  {shops}")
    return 0


async def cmd_token_create(args: argparse.Namespace) -> int:
    """Create an API token and print it once."""
    from ..errors import NotFoundError
    from .auth import audit, create_token

    async with open_hub(args) as hub:
        try:
            token = await create_token(hub.engine, args.user, now=hub.now())
        except NotFoundError as err:
            raise ConfigError(str(err)) from None
        await audit(hub.engine, actor="cli", kind="token_created", now=hub.now(), detail={"user": args.user})
    print(token)
    sys.stderr.write(
        "Store this token now: it is not shown again. Send it as 'Authorization: Bearer TOKEN'.\n"
    )
    return 0


async def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a user's API tokens."""
    from ..errors import NotFoundError
    from .auth import audit, revoke_tokens

    async with open_hub(args) as hub:
        try:
            n = await revoke_tokens(hub.engine, args.user, now=hub.now())
        except NotFoundError as err:
            raise ConfigError(str(err)) from None
        await audit(
            hub.engine,
            actor="cli",
            kind="token_revoked",
            now=hub.now(),
            detail={"user": args.user, "tokens": n},
        )
    print(f"{n} token(s) of {args.user} revoked")
    return 0


async def cmd_user_active(args: argparse.Namespace) -> int:
    """Disable or enable a user."""
    from ..errors import NotFoundError
    from .auth import audit, set_active

    async with open_hub(args) as hub:
        try:
            await set_active(hub.engine, args.name, args.active)
        except NotFoundError as err:
            raise ConfigError(str(err)) from None
        kind = "user_enabled" if args.active else "user_disabled"
        await audit(hub.engine, actor="cli", kind=kind, now=hub.now(), detail={"user": args.name})
    print(f"user {args.name} {'enabled' if args.active else 'disabled'}")
    return 0
