"""``hub parcels``: the logistics watch from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from ..clicommon import csv_arg, open_hub, print_json, shop_ids_named

#: Chinese labels of parcel states, roles and actions (the pages and `hub case show` use them)
STATE_ZH = {
    "pending": "待查询",
    "no_trace": "暂无轨迹",
    "in_transit": "运输中",
    "delivering": "派件中",
    "problem": "疑难件",
    "out_of_area": "超区",
    "signed": "已签收",
    "returned": "已退回",
    "stalled": "长时间无更新",
    "unknown_company": "缺少快递公司",
}
ROLE_ZH = {"outbound": "发货", "return": "退货", "reship": "补发"}
ACTION_ZH = {
    "confirm_return_receipt": "确认退货收货",
    "verify_signed_with_courier": "核实签收",
    "handle_returned_parcel": "处理退回包裹",
    "arrange_other_courier": "改发其他快递或协商退款",
    "follow_up_courier": "联系快递跟进",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parcels = sub.add_parser("parcels", help="the logistics watch: watched parcels, unmatched returns")
    ps = parcels.add_subparsers(dest="parcels_command", metavar="ACTION")
    ps.required = True
    p = ps.add_parser("list", help="watched parcels with their state and action")
    p.add_argument("--all", action="store_true", help="also parcels that reached a final state")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_parcels_list)
    p = ps.add_parser("unmatched", help="returned parcels that match no case, to be matched by waybill")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_parcels_unmatched)
    p = ps.add_parser("match", help="tie a parcel to a case: hub parcels match WAYBILL CASE")
    p.add_argument("waybill", help="the waybill number, e.g. YT1234567890")
    p.add_argument("case", type=int, help="the case it belongs to, e.g. 42")
    p.add_argument("--actor", default="cli", help="who did it, for the audit log, e.g. zhang.san")
    p.set_defaults(func=cmd_parcels_match)
    p = ps.add_parser("add", help="watch a waybill by hand (a parcel that came back with no case)")
    p.add_argument("waybill", help="the waybill number, e.g. YT1234567890")
    p.add_argument("--company", help="the tracker's courier code, e.g. yuantong")
    p.add_argument(
        "--role",
        default="return",
        choices=("outbound", "return", "reship"),
        help="which parcel (default return)",
    )
    p.add_argument(
        "--phone", help="the recipient's phone, e.g. 13800138000 (its last four digits are sent; 顺丰 asks)"
    )
    p.set_defaults(func=cmd_parcels_add)
    p = ps.add_parser("watch", help="one pass now: find parcels, poll the due ones, update actions")
    p.add_argument("--shop", type=csv_arg, default=[], help="only these shops, e.g. tb-main,pdd-main")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_parcels_watch)


def _line(p: dict[str, Any]) -> str:
    case = f"case {p['case_id']}" if p["case_id"] else "no case"
    act = f"  → {p['action']} by {p['action_due_at']}" if p["action"] else ""
    err = f"  ! {p['last_error']}" if p["last_error"] else ""
    return (
        f"{p['waybill']}  {p['company'] or '-'}  {p['role']}  {p['state']}{' (final)' if p['final'] else ''}"
        f"  {case}  {p['last_context'] or ''}{act}{err}"
    )


async def cmd_parcels_list(args: argparse.Namespace) -> int:
    from .repo import list_parcels

    async with open_hub(args) as hub:
        items = await list_parcels(hub.engine, watching_only=not args.all)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no parcels watched")
    for p in items:
        print(_line(p))
    return 0


async def cmd_parcels_unmatched(args: argparse.Namespace) -> int:
    from .repo import unmatched

    async with open_hub(args) as hub:
        items = await unmatched(hub.engine)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no unmatched returned parcels")
    for p in items:
        print(_line(p))
    if items:
        print("match one: hub parcels match WAYBILL CASE")
    return 0


async def cmd_parcels_match(args: argparse.Namespace) -> int:
    from .repo import match
    from .watcher import reevaluate, watch_settings

    async with open_hub(args) as hub:
        await match(hub.engine, args.waybill, args.case, args.actor, hub.now())
        await reevaluate(hub.engine, watch_settings(hub), hub.now(), None)
    print(f"parcel {args.waybill} matched to case {args.case}")
    return 0


async def cmd_parcels_add(args: argparse.Namespace) -> int:
    from .repo import add_parcel

    async with open_hub(args) as hub:
        added = await add_parcel(hub.engine, args.waybill, args.company, args.role, args.phone, hub.now())
    print(f"parcel {args.waybill} {'watched' if added else 'already watched (updated)'}")
    return 0


async def cmd_parcels_watch(args: argparse.Namespace) -> int:
    from .watcher import run_watch

    async with open_hub(args) as hub:
        shop_ids = await shop_ids_named(hub, args.shop)
        result = await run_watch(hub, shop_ids)
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            f"parcels found {result.found}, polled {result.polled}, changed {result.changed}, "
            f"case actions {result.actions}"
        )
        for e in result.errors:
            print(f"  ! {e}")
    return 0


def print_parcels(parcels: list[dict[str, Any]]) -> None:
    """The logistics lines of ``hub case show``."""
    if not parcels:
        return
    print("  logistics:")
    for p in parcels:
        print(f"    {_line(p)}")
