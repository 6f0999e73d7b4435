"""``hub policy show SHOP`` and ``hub policy set SHOP KEY=VALUE ... [--from DATE]``."""

from __future__ import annotations

import argparse
from datetime import datetime, time
from typing import Any

from ..clicommon import UsageError, open_hub, print_json
from ..clock import CST, parse_iso
from .keys import FORMS, KEYS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = sub.add_parser("policy", help="the shop's own clocks and thresholds (shop policy)")
    ps = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    ps.required = True
    p = ps.add_parser("show", help="values in force, their source, and scheduled values")
    p.add_argument("shop", help="the shop's name, e.g. tb-main")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_policy_show)
    keys = "; ".join(f"{k.key} ({FORMS[k.kind]}, default {k.default})" for k in KEYS)
    p = ps.add_parser(
        "set",
        help="set policy values (re-evaluates the shop's open cases)",
        description=f"Keys: {keys}.",
    )
    p.add_argument("shop", help="the shop's name, e.g. tb-main")
    p.add_argument(
        "values",
        nargs="+",
        metavar="KEY=VALUE",
        help="policy values, e.g. unshipped_refund_within=12h small_refund_fen=1000 "
        "(keys: `hub policy show SHOP`)",
    )
    p.add_argument(
        "--from",
        dest="effective",
        metavar="DATE",
        help="in force from this Beijing date (YYYY-MM-DD, from 00:00, e.g. 2026-12-15) "
        "or ISO time (default: now)",
    )
    p.add_argument("--actor", default="cli", help="who made the change, for the audit log, e.g. zhang.san")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_policy_set)


def effective_arg(text: str | None) -> datetime | None:
    """``--from``: a Beijing date (from its 00:00) or an ISO time with a zone; bad input is exit 2."""
    if not text:
        return None
    try:
        if len(text.strip()) == 10:
            day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
            return datetime.combine(day, time(0), tzinfo=CST)
        return parse_iso(text)
    except ValueError:
        raise UsageError(
            f"--from {text!r}: use a date YYYY-MM-DD (Beijing) or an ISO time with a zone"
        ) from None


def _pairs(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in values:
        if "=" not in pair:
            raise UsageError(f"{pair!r}: give KEY=VALUE (keys: {', '.join(k.key for k in KEYS)})")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(CST).strftime("%Y-%m-%d %H:%M")


async def cmd_policy_show(args: argparse.Namespace) -> int:
    from .store import apply_policy, history, policy_state, shop_row_named

    async with open_hub(args) as hub:
        await apply_policy(hub, args.shop)  # a scheduled value whose time has come goes in force
        async with hub.engine.connect() as conn:
            shop = await shop_row_named(conn, args.shop)
            state = await policy_state(conn, shop, hub.registry.platforms.get(shop.platform), hub.now())
            past = await history(conn, shop.id)
    items = [c.as_dict() for c in state.values()]
    if args.json:
        print_json({"shop": args.shop, "platform": shop.platform, "policy": items, "history": past})
        return 0
    print(f"Shop policy of {args.shop} ({shop.platform}); times in Beijing time")
    print(f"  {'key':<26}{'value':<8}{'source':<30}drives")
    for c in items:
        source = {
            "default": "default",
            "set": f"set, from {_when(c['since'])}",
            "shop_setting": "shop setting",
        }[c["source"]]
        drives = ", ".join(c["drives"]) or "-"
        print(f"  {c['key']:<26}{c['value']:<8}{source:<30}{drives}")
    scheduled = [(c["key"], s) for c in items for s in c["scheduled"]]
    if scheduled:
        print("Scheduled:")
        for key, s in scheduled:
            print(f"  {key} = {s['value']} from {_when(s['from'])} (set by {s['set_by']})")
    return 0


async def cmd_policy_set(args: argparse.Namespace) -> int:
    from .store import set_policy

    pairs = _pairs(args.values)
    effective = effective_arg(args.effective)
    async with open_hub(args) as hub:
        result = await set_policy(hub, args.shop, pairs, effective_at=effective, actor=args.actor)
        now = hub.now()
    out: dict[str, Any] = {**result.as_dict(), "values": pairs}
    if args.json:
        print_json(out)
        return 0
    when = (
        "now" if effective is None or effective <= now else f"from {effective.astimezone(CST):%Y-%m-%d %H:%M}"
    )
    print(f"{args.shop}: {', '.join(f'{k}={v}' for k, v in pairs.items())} in force {when}")
    print(
        f"re-evaluated {result.cases} open cases and {result.orders} orders "
        f"({result.changed} next actions changed)"
    )
    return 0
