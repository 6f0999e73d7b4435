"""``hub notify``: the channels 超时预警 alerts go to (add, list, remove, test)."""

from __future__ import annotations

import argparse
from typing import Any

from ..clicommon import csv_arg, duration_arg, open_hub, print_json
from ..clock import utcnow
from ..domain import Party
from .channels import DEFAULT_WITHIN, KINDS, MAX_WITHIN


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``notify`` to the ``hub`` command."""
    notify = sub.add_parser(
        "notify",
        help="超时预警: send deadlines that come close to a DingTalk/WeCom robot or a webhook",
        description="Alert channels. After each shop's sync, every open case or order whose next "
        "action is due within a channel's window is announced there once per deadline.",
    )
    ns = notify.add_subparsers(dest="notify_command", metavar="ACTION")
    ns.required = True
    p = ns.add_parser(
        "add",
        help="add a channel, e.g. hub notify add ops --kind dingtalk --url URL --secret env:DT_SECRET",
    )
    p.add_argument("name", help="the channel's name, e.g. ops-group")
    p.add_argument(
        "--kind",
        required=True,
        choices=KINDS,
        help="dingtalk (custom robot), wecom (group robot) or webhook (plain JSON POST)",
    )
    p.add_argument(
        "--url",
        required=True,
        help="the robot's webhook URL, or env:VAR to read it from the environment when sending "
        "(the URL carries the robot's token), e.g. env:DINGTALK_URL",
    )
    p.add_argument(
        "--secret",
        help="DingTalk 加签 secret (SEC...), or the webhook's HMAC secret; env:VAR allowed, "
        "e.g. env:DT_SECRET",
    )
    p.add_argument(
        "--shops",
        type=csv_arg,
        default=[],
        metavar="A,B",
        help="only these shops (comma-separated names; default: every shop), e.g. my-tmall,my-pdd",
    )
    p.add_argument(
        "--within",
        type=duration_arg,
        default=DEFAULT_WITHIN,
        metavar="DURATION",
        help=f"announce a deadline this long before it (or once passed); 1m to {MAX_WITHIN.days}d, "
        "default 2h, e.g. 90m",
    )
    p.add_argument(
        "--awaiting",
        type=csv_arg,
        default=["merchant"],
        metavar="PARTIES",
        help="whose deadlines: merchant (default), buyer, platform, supplier; comma-separated, "
        "e.g. merchant,supplier",
    )
    p.set_defaults(func=cmd_notify_add)
    p = ns.add_parser("list", help="the channels, their window, shops and last error (URLs masked)")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    p.set_defaults(func=cmd_notify_list)
    p = ns.add_parser("remove", help="remove a channel and its sent-log, e.g. hub notify remove ops")
    p.add_argument("name", help="the channel's name, e.g. ops")
    p.set_defaults(func=cmd_notify_remove)
    p = ns.add_parser(
        "test", help="send a test message now (exit 1 when the channel refuses it), e.g. hub notify test ops"
    )
    p.add_argument("name", help="the channel's name, e.g. ops")
    p.set_defaults(func=cmd_notify_test)


async def cmd_notify_add(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from .channels import add_channel

    try:
        parties = [Party.parse(v).value for v in args.awaiting]
    except ValueError as err:
        raise ConfigError(f"--awaiting: {err}") from None
    async with open_hub(args) as hub:
        await add_channel(
            hub.engine,
            name=args.name,
            kind=args.kind,
            url=args.url,
            secret=args.secret,
            shops=args.shops,
            within=args.within,
            parties=parties,
        )
    print(f"notify channel {args.name} added ({args.kind})")
    return 0


def _listing(row: Any) -> dict[str, Any]:
    from .channels import masked_url

    return {
        "name": row.name,
        "kind": row.kind,
        "url": masked_url(row.url),
        "secret": None if row.secret is None else (row.secret if row.secret.startswith("env:") else "***"),
        "shops": list(row.shops or []),
        "within_seconds": row.within_seconds,
        "awaiting": list(row.parties or []),
        "last_sent_at": row.last_sent_at.isoformat() if row.last_sent_at else None,
        "last_error": row.last_error,
        "last_error_at": row.last_error_at.isoformat() if row.last_error_at else None,
    }


async def cmd_notify_list(args: argparse.Namespace) -> int:
    from .channels import channel_rows

    async with open_hub(args) as hub:
        items = [_listing(r) for r in await channel_rows(hub.engine)]
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no notify channels yet: hub notify add NAME --kind dingtalk|wecom|webhook --url URL")
    for it in items:
        shops = ",".join(it["shops"]) or "every shop"
        mins = it["within_seconds"] // 60
        print(
            f"{it['name']}  {it['kind']}  {it['url']}  within {mins}m  {shops}  ({','.join(it['awaiting'])})"
        )
        if it["last_error"]:
            print(f"    ! last error {it['last_error_at']}: {it['last_error']}")
    return 0


async def cmd_notify_remove(args: argparse.Namespace) -> int:
    from .channels import remove_channel

    async with open_hub(args) as hub:
        await remove_channel(hub.engine, args.name)
    print(f"notify channel {args.name} removed")
    return 0


async def cmd_notify_test(args: argparse.Namespace) -> int:
    import sys
    from datetime import timedelta

    from .channels import channel_row, resolve
    from .message import test_message
    from .robots import SendError, send

    async with open_hub(args) as hub:
        row = await channel_row(hub.engine, args.name)
        channel = resolve(row)
        message = test_message(channel.name, channel.shops, timedelta(seconds=row.within_seconds))
        try:
            attempts = await send(hub.http, channel, message, now=utcnow, sleep=hub.sleep)
        except SendError as err:
            sys.stderr.write(f"hub: error: notify channel {args.name}: {err}\n")
            return 1
    print(f"test message sent to {args.name} ({attempts} attempt{'s' if attempts > 1 else ''})")
    return 0
