"""``hub report`` and ``hub ledger``: the reports and the after-sales ledger on the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from .clicommon import csv_arg, open_hub, print_json, shop_ids_named
from .errors import ConfigError
from .money import fen_to_yuan
from .reportdays import DayRange, day_range, parse_day

SHOP_HELP = "only these shops (comma-separated names, e.g. tb-main,pdd-main)"
DATE_HELP = "a Beijing day, YYYY-MM-DD (e.g. 2026-11-01); both ends are included"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "report",
        help="cases, refunds, first replies, missed deadlines, late shipment and agents over a range of days",
    )
    p.add_argument("--from", dest="first", required=True, metavar="DATE", help=DATE_HELP)
    p.add_argument("--to", dest="last", required=True, metavar="DATE", help=DATE_HELP)
    p.add_argument("--shop", type=csv_arg, default=[], metavar="S", help=SHOP_HELP)
    p.add_argument(
        "--json", action="store_true", help="print the figures as JSON (what GET /api/reports returns)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "ledger",
        help="the after-sales ledger per shop and Beijing day: refunds, compensation, postage, "
        "penalties, 17网",
        description="hub ledger --from DATE --to DATE [--shop S] [--xlsx FILE | --csv FILE | --json]; "
        "hub ledger daily --dir DIR [--date D] writes one day's file for finance",
    )
    p.add_argument("--from", dest="first", metavar="DATE", help=DATE_HELP)
    p.add_argument("--to", dest="last", metavar="DATE", help=DATE_HELP)
    p.add_argument("--shop", type=csv_arg, default=[], metavar="S", help=SHOP_HELP)
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--xlsx",
        type=Path,
        metavar="FILE",
        help="write an Excel workbook (ledger, lost parcels), e.g. ledger.xlsx",
    )
    out.add_argument(
        "--csv", type=Path, metavar="FILE", help="write CSV (UTF-8 with BOM, 元), e.g. ledger.csv"
    )
    out.add_argument(
        "--json", action="store_true", help="print JSON (amounts in fen; what GET /api/ledger returns)"
    )
    p.set_defaults(func=cmd_ledger)
    subs = p.add_subparsers(dest="ledger_command", metavar="ACTION")
    d = subs.add_parser(
        "daily",
        help="write one Beijing day's ledger (default yesterday) as DIR/ledger-YYYY-MM-DD.csv; "
        "re-running rewrites it",
    )
    d.add_argument(
        "--dir", type=Path, required=True, metavar="DIR", help="the folder finance reads, e.g. /srv/finance"
    )
    d.add_argument(
        "--date", metavar="D", help="the day (YYYY-MM-DD, e.g. 2026-11-30); default: yesterday in Beijing"
    )
    d.add_argument("--shop", type=csv_arg, default=[], metavar="S", help=SHOP_HELP)
    d.add_argument(
        "--format", choices=("csv", "xlsx"), default="csv", help="csv (default, UTF-8 with BOM) or xlsx"
    )
    d.set_defaults(func=cmd_ledger_daily)


def sourcing_platforms(hub: Any) -> set[str]:
    """The platforms where the merchant is the buyer (17网): their refunds are money received."""
    from .domain import Party

    return {pid for pid, info in hub.registry.platforms.items() if info.merchant_side is Party.BUYER}


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    h, m = seconds // 3600, seconds % 3600 // 60
    return f"{h}h{m:02d}m" if h else f"{m}m{seconds % 60:02d}s"


def print_report(r: dict[str, Any]) -> None:
    from .commands import cell

    out = sys.stdout.write
    c = r["cases"]
    out(f"Report {r['from']} .. {r['to']} (Beijing days), shops: {', '.join(r['shops']) or '-'}\n\n")
    out(f"Cases opened {c['opened']}, requested {fen_to_yuan(c['requested_fen'])} yuan; ")
    out(f"refunded {c['refunded']}, {fen_to_yuan(c['refunded_fen'])} yuan\n")
    for key, title in (("by_shop", "shop"), ("by_platform", "platform"), ("by_reason", "reason")):
        out(f"\n  by {title}:\n")
        for g in c[key]:
            out(f"    {cell(g[title], 32)}{g['cases']:>6}  {fen_to_yuan(g['refund_fen']):>12}\n")
    f = r["first_reply"]
    median = _duration(f["median_seconds"])
    out(f"\nFirst reply: median {median} ({f['replied']} of {f['cases']} cases answered)\n")
    d = r["deadlines"]
    out(f"\nMerchant deadlines missed: {d['missed']}; ")
    out(f"the platform agreed by itself {d['auto_agreed']['cases']} ")
    out(f"times, money lost {fen_to_yuan(d['auto_agreed']['money_lost_fen'])} yuan; ")
    out(f"open and overdue now: {d['overdue_open']['cases']}\n")
    for o in d["by_outcome"]:
        money = fen_to_yuan(o["refund_fen"])
        out(f"    {o['on_expiry']:<20}→ {o['to_status']:<16}{o['cases']:>6}  {money:>12}\n")
    s = r["late_shipment"]
    out(
        f"\nLate shipment: at risk {s['at_risk']['orders']} orders, "
        f"{fen_to_yuan(s['at_risk']['penalty_fen'])} yuan "
        f"(overdue {s['overdue']['orders']}, {fen_to_yuan(s['overdue']['penalty_fen'])} yuan); "
        f"incurred {s['incurred']['orders']} orders, {fen_to_yuan(s['incurred']['penalty_fen'])} yuan\n"
    )
    out("\nAgents (cases, actions, done, failed):\n")
    for a in r["agents"]:
        out(f"    {cell(a['agent'], 32)}{a['cases']:>6}{a['actions']:>8}{a['done']:>6}{a['failed']:>6}\n")


async def cmd_report(args: argparse.Namespace) -> int:
    from .reports import build_report

    days = day_range(args.first, args.last)
    async with open_hub(args) as hub:
        ids = await shop_ids_named(hub, args.shop)
        report = await build_report(hub.engine, days, shop_ids=ids, now=hub.now())
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0


async def cmd_ledger(args: argparse.Namespace) -> int:
    from .ledger import (
        build_ledger,
        csv_bytes,
        ledger_doc,
        lost_parcels,
        totals,
        write_atomically,
        xlsx_bytes,
    )

    if not args.first or not args.last:
        raise ConfigError("hub ledger needs --from DATE and --to DATE (or: hub ledger daily --dir DIR)")
    days = day_range(args.first, args.last)
    async with open_hub(args) as hub:
        ids = await shop_ids_named(hub, args.shop)
        rows = await build_ledger(hub.engine, days, shop_ids=ids, sourcing=sourcing_platforms(hub))
        lost = await lost_parcels(hub.engine, days, shop_ids=ids)
    if args.json:
        print_json(ledger_doc(days, rows, lost))
    elif args.csv:
        write_atomically(args.csv, csv_bytes(rows))
        sys.stdout.write(f"wrote {len(rows)} rows to {args.csv}\n")
    elif args.xlsx:
        write_atomically(args.xlsx, xlsx_bytes(rows, lost))
        sys.stdout.write(f"wrote {len(rows)} rows to {args.xlsx}\n")
    else:
        print_ledger(rows, totals(rows), lost)
    return 0


def print_ledger(rows: Any, total: dict[str, int], lost: Any) -> None:
    from .commands import cell

    out = sys.stdout.write
    out(
        f"{'day':<11}{'shop':<20}{'refunds':>12}{'compens.':>11}{'postage':>10}"
        f"{'late ship':>11}{'17网 refunds':>13}{'goods cost':>12}\n"
    )
    for r in [*rows, None]:
        v = total if r is None else r.__dict__
        label = f"{'total':<31}" if r is None else f"{r.day:<11}{cell(r.shop, 20)}"
        out(
            f"{label}{fen_to_yuan(v['refunds_fen']):>12}{fen_to_yuan(v['compensation_fen']):>11}"
            f"{fen_to_yuan(v['postage_fen']):>10}{fen_to_yuan(v['late_shipment_fen']):>11}"
            f"{fen_to_yuan(v['upstream_refunds_fen']):>13}{fen_to_yuan(v['goods_cost_fen']):>12}\n"
        )
    if lost:
        out("\nLost parcels (month, shop, cases, yuan):\n")
        for x in lost:
            out(f"  {x['month']}  {cell(x['shop'], 20)}{x['cases']:>5}{fen_to_yuan(x['refund_fen']):>12}\n")


async def write_ledger_file(
    hub: Any, days: DayRange, path: Path, fmt: str = "csv", shop_ids: list[int] | None = None
) -> list[Any]:
    """Write the ledger over ``days`` to ``path`` (CSV or XLSX, atomically: a reader never sees half a
    file, and a re-run rewrites the same bytes); return its rows."""
    from .ledger import build_ledger, csv_bytes, lost_parcels, write_atomically, xlsx_bytes

    rows = await build_ledger(
        hub.engine, days, shop_ids=shop_ids, sourcing=sourcing_platforms(hub), include_empty=True
    )
    lost = await lost_parcels(hub.engine, days, shop_ids=shop_ids) if fmt == "xlsx" else []
    write_atomically(path, csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows, lost))
    return rows


async def cmd_ledger_daily(args: argparse.Namespace) -> int:
    from .ledger import daily_name, yesterday

    async with open_hub(args) as hub:
        day: date = parse_day(args.date, "--date") if args.date else yesterday(hub.now())
        path = args.dir / daily_name(day, args.format)
        await write_ledger_file(
            hub, DayRange(day, day), path, args.format, await shop_ids_named(hub, args.shop)
        )
    sys.stdout.write(f"{path}\n")
    return 0
