"""The core's sub-commands: db, plugins, shop, sync, cases, case, link, quarantine, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .clicommon import (
    MAX_LIMIT,
    action_exit_code,
    check_names,
    csv_arg,
    duration_arg,
    iso_arg,
    limit_arg,
    open_hub,
    parse_kv,
    port_arg,
    print_json,
)
from .clock import CST, utcnow
from .config import Settings
from .errors import ConfigError, HubError
from .money import fen_to_yuan
from .store.base import tbl


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]

    db = sub.add_parser("db", help="create, migrate or check the database")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION")
    dbs.required = True
    p = dbs.add_parser("upgrade", help="create or migrate the database to the latest schema")
    p.add_argument("revision", nargs="?", default="head", help="target revision (default: head), e.g. 0008")
    p.set_defaults(func=cmd_db_upgrade)
    p = dbs.add_parser("downgrade", help="migrate down (to 'base' drops every table)")
    p.add_argument("revision", help="target revision, or base for none, e.g. 0006")
    p.set_defaults(func=cmd_db_downgrade)
    dbs.add_parser("check", help="exit 1 when the schema differs from the models").set_defaults(
        func=cmd_db_check
    )
    dbs.add_parser("current", help="print the database's revision").set_defaults(func=cmd_db_current)

    p = sub.add_parser("plugins", help="list installed platforms and their capabilities")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    p.set_defaults(func=cmd_plugins)

    shop = sub.add_parser("shop", help="add, list, change or remove shops")
    shops = shop.add_subparsers(dest="shop_command", metavar="ACTION")
    shops.required = True
    p = shops.add_parser("add", help="add a shop: hub shop add PLATFORM NAME --set key=value ...")
    p.add_argument("platform", help="the platform id (see `hub plugins`), e.g. taobao")
    p.add_argument("name", help="a name for the shop, unique, e.g. my-tmall")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting (repeatable; `hub plugins` lists them); secrets may be env:VAR, "
        "e.g. --set app_secret=env:TB_SECRET",
    )
    p.set_defaults(func=cmd_shop_add)
    p = shops.add_parser("set", help="change a shop's settings (clears 'needs re-authorisation')")
    p.add_argument("name", help="the shop's name, e.g. my-tmall")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        required=True,
        help="a setting to change (repeatable), e.g. --set sync_window=30m",
    )
    p.set_defaults(func=cmd_shop_set)
    p = shops.add_parser("list", help="list shops")
    p.add_argument("--json", action="store_true", help="print a JSON array (secrets masked)")
    p.set_defaults(func=cmd_shop_list)
    p = shops.add_parser("remove", help="remove a shop and everything synced from it")
    p.add_argument("name", help="the shop's name, e.g. my-tmall")
    p.set_defaults(func=cmd_shop_remove)

    p = sub.add_parser("sync", help="sync shops from their platforms")
    p.add_argument(
        "--shop", action="append", metavar="NAME", help="only this shop (repeatable), e.g. --shop my-tmall"
    )
    p.add_argument(
        "--since",
        type=iso_arg,
        metavar="ISO",
        help="re-read from this time (default: the checkpoint), e.g. 2026-11-01T00:00+08:00",
    )
    p.add_argument(
        "--until", type=iso_arg, metavar="ISO", help="read up to this time (default: now), e.g. 2026-11-02"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--every",
        type=duration_arg,
        metavar="5m",
        help="keep syncing at this interval until stopped, e.g. 5m",
    )
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("cases", help="the work list: open cases, soonest deadline first")
    p.add_argument(
        "--platform",
        type=csv_arg,
        default=[],
        help="only these platforms (comma-separated ids, see `hub plugins`), e.g. taobao,pinduoduo",
    )
    p.add_argument(
        "--shop", type=csv_arg, default=[], help="only these shops (comma-separated names), e.g. my-tmall"
    )
    p.add_argument(
        "--kind",
        type=csv_arg,
        default=[],
        help="only these kinds: refund_only, return_refund, exchange, reship, repair, compensation; "
        "e.g. refund_only,return_refund",
    )
    p.add_argument(
        "--status",
        type=csv_arg,
        default=None,
        help="these statuses, terminal included (default: the open ones): requested, seller_refused, "
        "awaiting_return, return_shipped, awaiting_reship, reshipped, refunding, platform_review, "
        "succeeded, closed; e.g. requested,platform_review",
    )
    p.add_argument(
        "--awaiting",
        "--party",
        dest="awaiting",
        type=csv_arg,
        default=[],
        help="whose next action: merchant (alias seller), buyer, platform, supplier; e.g. merchant",
    )
    p.add_argument(
        "--orders",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list orders whose ship clock runs as items of their own (default: on)",
    )
    p.add_argument(
        "--due-within",
        type=duration_arg,
        metavar="24h",
        help="only items whose deadline is this close or passed, e.g. 24h, 90m, 3d",
    )
    p.add_argument("--dispute", action="store_true", help="only cases with a dispute")
    p.add_argument("--search", help="order id, after-sales id or buyer, e.g. 4012345678901234")
    p.add_argument(
        "--limit",
        type=limit_arg,
        default=None,
        metavar="N",
        help=f"at most N items, 1 to {MAX_LIMIT} (default: all), e.g. 50",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array (fields in docs/cli.md)")
    p.add_argument(
        "--mine",
        action="store_true",
        help="my queue (我的待办): cases assigned to the acting user plus unassigned ones in their shops",
    )
    p.add_argument(
        "--user", metavar="NAME", help="the acting workbench user for --mine (default: $HUB_USER), e.g. alice"
    )
    p.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the filtered list to FILE.xlsx or FILE.csv (Chinese headers), e.g. cases.xlsx",
    )
    p.set_defaults(func=cmd_cases)

    case = sub.add_parser("case", help="one case: show it, act on it")
    cases = case.add_subparsers(dest="case_command", metavar="ACTION")
    cases.required = True
    p = cases.add_parser("show", help="the case with its timeline, deadline, rule, insights and raw record")
    p.add_argument("id", type=int, help="the case's id (first column of `hub cases`), e.g. 42")
    p.add_argument("--json", action="store_true", help="print the case as a JSON object")
    p.set_defaults(func=cmd_case_show)
    p = cases.add_parser(
        "act", help="perform an action: hub case act ID ACTION --param key=value (ID may be 12,13,14)"
    )
    p.add_argument(
        "id",
        help="a case id, or a comma list of up to 200 (a batch: one result per case), e.g. 42 or 12,13,14",
    )
    p.add_argument("action", help="the action (see `hub case actions ID`), e.g. agree_refund")
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="an action parameter (repeatable), e.g. amount=12.50",
    )
    p.add_argument(
        "--key",
        help="idempotency key (default: derived from the case's state and the params); a batch uses it "
        "for every case, so rerunning it acts on none twice, e.g. refund-42-1",
    )
    p.add_argument(
        "--actor", default=None, help="who acts, for the audit log (default: $HUB_USER, else cli), e.g. alice"
    )
    p.add_argument("--json", action="store_true", help="print the result (per case for a batch) as JSON")
    p.set_defaults(func=cmd_case_act)
    p = cases.add_parser("actions", help="the actions this case allows now, and why not the others")
    p.add_argument("id", type=int, help="the case's id, e.g. 42")
    p.set_defaults(func=cmd_case_actions)
    p = cases.add_parser("evidence", help="attach an evidence file to a case")
    p.add_argument("id", type=int, help="the case's id, e.g. 42")
    p.add_argument("file", type=Path, help="the file to attach, e.g. chat.png")
    p.add_argument("--description", default="", help="what the file shows, e.g. 'buyer admits wrong size'")
    p.add_argument(
        "--actor", default="cli", help="who attaches it, for the audit log (default cli), e.g. alice"
    )
    p.set_defaults(func=cmd_case_evidence)
    p = cases.add_parser("pack", help="write the case's evidence pack (zip) for an appeal")
    p.add_argument("id", type=int, help="the case's id, e.g. 42")
    p.add_argument(
        "-o", "--output", type=Path, help="where to write it (default: case-ID-evidence.zip), e.g. pack.zip"
    )
    p.set_defaults(func=cmd_case_pack)

    p = sub.add_parser(
        "link", help="link a purchase to the sale it fulfils: hub link [SHOP:]PURCHASE [SHOP:]SALE"
    )
    p.add_argument("purchase", help="the 17网 purchase's order id, optionally SHOP:ID, e.g. my-17:P100")
    p.add_argument("sale", help="the sale's order id, optionally SHOP:ID, e.g. my-tmall:4012345678")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("quarantine", help="records that could not be mapped, with their errors")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser(
        "demo", help="start every plugin's sandbox, add demo shops, sync, show the work list, serve"
    )
    p.add_argument(
        "--home", type=Path, help="demo folder (default: $HUB_HOME/demo); emptied first, e.g. /tmp/hub-demo"
    )
    p.add_argument("--no-serve", action="store_true", help="stop after printing the work list")
    p.add_argument(
        "--port", type=port_arg, default=8080, help="the workbench's port (default 8080), e.g. 8090"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1), e.g. 0.0.0.0"
    )
    p.set_defaults(func=cmd_demo)
    _register_erp_and_parcels(sub)


def _register_erp_and_parcels(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``hub sink``, ``hub erp`` (ERP documents) and ``hub parcels`` (the logistics watch)."""
    from .erp import commands as erp_commands
    from .logistics import commands as parcel_commands

    erp_commands.register(sub)
    parcel_commands.register(sub)

    from . import report_commands  # hub report, hub ledger

    report_commands.register(sub)
    from .auto import cli as auto_cli
    from .policy import cli as policy_cli

    policy_cli.register(sub)  # hub policy show|set
    auto_cli.register(sub)  # hub auto add|dry-run|enable|disable|pause|resume|run|list|show


# -- db ---------------------------------------------------------------------------------------


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from .store.migrate import current_revision, upgrade

    async with open_hub(args) as hub:
        await upgrade(hub.engine, args.revision)
        print(f"database at revision {await current_revision(hub.engine)}")
    return 0


async def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from .store.migrate import current_revision, downgrade

    async with open_hub(args) as hub:
        await downgrade(hub.engine, args.revision)
        print(f"database at revision {await current_revision(hub.engine) or 'base'}")
    return 0


async def cmd_db_check(args: argparse.Namespace) -> int:
    from .store.migrate import current_revision, head_revision, pending_diff

    async with open_hub(args) as hub:
        current = await current_revision(hub.engine)
        if current != head_revision():
            print(f"database at {current or 'base'}, head is {head_revision()}: run `hub db upgrade`")
            return 1
        diff = await pending_diff(hub.engine)
        if diff:
            print("schema differs from the models:")
            for d in diff:
                print(f"  {d}")
            return 1
        print("schema up to date")
        return 0


async def cmd_db_current(args: argparse.Namespace) -> int:
    from .store.migrate import current_revision

    async with open_hub(args) as hub:
        print(await current_revision(hub.engine) or "base")
    return 0


# -- plugins and shops ------------------------------------------------------------------------


async def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import build_registry, get_plugin_manager
    from .store.serialize import jsonable

    registry = build_registry(get_plugin_manager())
    if args.json:
        print_json(
            [
                {**jsonable(info), "sandbox": pid in registry.sandboxes}
                for pid, info in sorted(registry.platforms.items())
            ]
        )
        return 0
    if not registry.platforms:
        print("no platforms installed")
    for name, problem in sorted(registry.problems.items()):
        print(f"{name}  NOT LOADED: {problem}")
    for pid, info in sorted(registry.platforms.items()):
        print(f"{pid}  {info.name} / {info.name_zh}{'  (sandbox)' if pid in registry.sandboxes else ''}")
        for s in info.settings:
            flags = ", ".join(
                f
                for f in (
                    "required" if s.required else "",
                    "secret" if s.secret else "",
                    f"default {s.default}" if s.default else "",
                )
                if f
            )
            print(f"    setting {s.name}: {s.help}{f' ({flags})' if flags else ''}")
        for c in info.capabilities:
            mark = "yes" if c.supported else "no "
            why = f" — {c.reason}" if not c.supported and c.reason else ""
            api = f" [{c.api}]" if c.api else ""
            print(f"    {mark} {c.action}: {c.label} / {c.label_zh}{api}{why}")
    return 0


async def cmd_shop_add(args: argparse.Namespace) -> int:
    from .store.shops import add_shop

    async with open_hub(args) as hub:
        info = hub.registry.info(args.platform)
        shop_id = await add_shop(hub.engine, info, args.name, parse_kv(args.set))
        print(f"shop {args.name} added ({info.id}, id {shop_id})")
    return 0


async def cmd_shop_set(args: argparse.Namespace) -> int:
    from .store.shops import get_shop_row, update_shop

    async with open_hub(args) as hub:
        row = await get_shop_row(hub.engine, args.name)
        await update_shop(hub.engine, hub.registry.info(row.platform), args.name, parse_kv(args.set))
        print(f"shop {args.name} updated")
    return 0


async def cmd_shop_list(args: argparse.Namespace) -> int:
    from .store.shops import display_settings, list_shop_rows

    async with open_hub(args) as hub:
        rows = await list_shop_rows(hub.engine)
        items = [
            {
                "id": r.id,
                "name": r.name,
                "platform": r.platform,
                "needs_reauth": r.needs_reauth,
                "reauth_reason": r.reauth_reason,
                "rate_limited_until": r.rate_limited_until.isoformat() if r.rate_limited_until else None,
                "rate_limit_reason": r.rate_limit_reason,
                "settings": display_settings(hub.registry.platforms.get(r.platform), r.settings),
            }
            for r in rows
        ]
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no shops yet: hub shop add PLATFORM NAME --set key=value ...")
    for it in items:
        flag = "  NEEDS RE-AUTHORISATION" if it["needs_reauth"] else ""
        if it["rate_limited_until"]:  # cleared by the first sync after it
            flag += f"  RATE-LIMITED until {show_time(it['rate_limited_until'])} ({it['rate_limit_reason']})"
        print(f"{it['name']}  ({it['platform']}){flag}")
    return 0


async def cmd_shop_remove(args: argparse.Namespace) -> int:
    from .store.shops import remove_shop

    async with open_hub(args) as hub:
        await remove_shop(hub.engine, args.name)
        print(f"shop {args.name} removed")
    return 0


# -- sync -------------------------------------------------------------------------------------


class Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr  # the stream when it runs (tests and embedders swap it)
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.count = 0

    def __call__(self, shop: str, resource: str, window: Any, index: int) -> None:
        if not self.enabled:
            return
        self.count += 1
        spin = "|/-\\"[self.count % 4]
        span = f"{window.start:%Y-%m-%d %H:%M} → {window.end:%Y-%m-%d %H:%M}"
        line = f"\r{spin} {shop}: {resource} {span} (window {index + 1})"
        self.stream.write(line[:120].ljust(120))
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.count:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()


def show_time(iso: str | None) -> str:
    """An ISO time as the merchants read it: Beijing time to the minute."""
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(CST).strftime("%Y-%m-%d %H:%M 北京时间")


def cell(text: str, columns: int) -> str:
    """``text`` cut and padded to exactly ``columns`` terminal columns (CJK-aware)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > columns - 1:
            break
        out, used = out + ch, used + w
    return out + " " * (columns - used)


def print_summaries(summaries: Sequence[Any]) -> None:
    print(
        f"{'shop':<26}{'status':<13}{'fetched':>8}{'new':>7}{'changed':>8}{'same':>7}{'quarant.':>9}{'errors':>7}"
    )
    for s in summaries:
        d = s.as_dict()
        print(
            f"{cell(d['shop'], 26)}{d['status']:<13}{d['fetched']:>8}{d['new']:>7}{d['changed']:>8}"
            f"{d['unchanged']:>7}{d['quarantined']:>9}{len(d['errors']):>7}"
        )
        for e in d["errors"] + d["problems"]:
            print(f"    ! {e}")
        for w in d["warnings"]:
            print(f"    ~ warning: {w}")


async def run_sync(hub: Any, args: argparse.Namespace) -> list[Any]:
    from .logging import register_secrets
    from .store.shops import list_shop_rows, resolve_secrets
    from .sync import sync_shops

    for row in await list_shop_rows(hub.engine):
        info = hub.registry.platforms.get(row.platform)
        if info:
            try:
                resolved = resolve_secrets(row.settings, row.name)
            except ConfigError:
                continue
            register_secrets(resolved[k] for k in info.secret_settings if k in resolved)
    progress = Progress()
    try:
        return await sync_shops(hub, names=args.shop, since=args.since, until=args.until, progress=progress)
    finally:
        progress.done()


async def cmd_sync(args: argparse.Namespace) -> int:

    if args.since and args.until and args.since >= args.until:
        raise ConfigError("--since must be before --until")
    async with open_hub(args) as hub:
        await check_names(hub, shops=args.shop or [])
        while True:
            summaries = await run_sync(hub, args)
            if args.json:
                print_json([s.as_dict() for s in summaries])
            else:
                print_summaries(summaries)
            if not args.every:
                break
            # later runs continue from the checkpoints, whatever --since said
            args.since = None
            await asyncio.sleep(args.every.total_seconds())
    return 0 if all(s.status == "ok" for s in summaries) else 1


# -- cases ------------------------------------------------------------------------------------


def relative(due: str | None, now: datetime) -> str:
    if not due:
        return "-"
    delta = datetime.fromisoformat(due) - now
    sign = "" if delta >= timedelta(0) else "-"
    secs = abs(int(delta.total_seconds()))
    text = (
        f"{secs // 86400}d{secs % 86400 // 3600:02d}h"
        if secs >= 86400
        else f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    )
    return sign + text


def print_cases(items: Sequence[dict[str, Any]], now: datetime) -> None:
    if not items:
        print("no cases")
        return
    print(
        f"{'id':>7} {'due':>9}  {'platform':<10}{'shop':<18}{'kind':<14}{'status':<16}{'party':<9}"
        f"{'action':<22}{'amount':>9}  {'case/order':<20}on expiry"
    )
    for c in items:
        d = c["next_action"] or {}
        due = d.get("due_at")
        flag = "!" if due and due < now.isoformat() else " "
        ident = f"{c['id']}" if c["item"] == "case" else f"o{c['id']}"
        via = d.get("via")
        expiry = d.get("consequence") or d.get("on_expiry") or ""
        if d.get("penalty_fen") and "¥" not in expiry:
            expiry = f"{expiry} (¥{fen_to_yuan(d['penalty_fen'])} at stake)"
        if via:
            expiry = f"{expiry} (via {via['platform']} {via['subject']} {via['external_id']})"
        amount = c["refund_fen"] if c["item"] == "case" else c.get("paid_fen", 0)
        print(
            f"{ident:>7} {relative(due, now) if due else 'no clock':>9}{flag} {c['platform']:<10}"
            f"{cell(c['shop'], 18)}{c['kind'] or 'order':<14}{c['status']:<16}{d.get('party', 'none'):<9}"
            f"{cell(d.get('action') or '-', 22)}{fen_to_yuan(amount):>9}  {c['external_id'][:19]:<20}{expiry}"
        )


async def cmd_cases(args: argparse.Namespace) -> int:
    from .domain import AfterSaleKind, AfterSaleStatus, Party
    from .store.cases import CaseFilter, all_cases

    for value, enum, name in (
        (args.status or [], AfterSaleStatus, "status"),
        (args.kind, AfterSaleKind, "kind"),
    ):
        bad = [v for v in value if v not in {e.value for e in enum}]
        if bad:
            raise ConfigError(f"unknown {name} {', '.join(bad)} (one of {', '.join(e.value for e in enum)})")
    try:
        parties = [Party.parse(v).value for v in args.awaiting]
    except ValueError as err:
        raise ConfigError(f"--awaiting: {err}") from None
    async with open_hub(args) as hub:
        await check_names(hub, platforms=args.platform, shops=args.shop)
        now = utcnow()
        shop_ids, mine = None, None
        if args.mine:
            from .batchcli import acting_user, queue_scope

            shop_ids, mine = await queue_scope(hub, acting_user(args.user))
        f = CaseFilter(
            platforms=args.platform,
            shops=args.shop,
            kinds=args.kind,
            statuses=args.status,
            awaiting=parties,
            due_within=args.due_within,
            dispute_only=args.dispute,
            search=args.search,
            now=now,
            orders=args.orders,
            shop_ids=shop_ids,
            mine=mine,
        )
        if args.export is not None:
            from .batchcli import export_cases

            rows = await export_cases(hub, f, args.export)
            print(f"{rows} rows exported to {args.export}")
            return 0
        items = await all_cases(hub.engine, f)
    if args.limit:
        items = items[: args.limit]
    if args.json:
        print_json(items)
    else:
        print_cases(items, now)
    return 0


async def cmd_case_show(args: argparse.Namespace) -> int:
    from .actions import available_actions, case_insights
    from .scrub import register_all_shops
    from .store.cases import case_detail
    from .store.serialize import jsonable

    async with open_hub(args) as hub:
        await register_all_shops(hub.engine, hub.registry.platforms)  # raw records are printed: hide secrets
        detail = await case_detail(hub.engine, args.id)
        detail["insights"] = jsonable(await case_insights(hub, args.id))
        detail["actions_available"] = await available_actions(hub, args.id)
        if detail["next_action"]:  # a policy deadline names its policy key and value
            from .policy.explain import deadline_policy

            nxt = detail["next_action"]
            nxt["policy"] = await deadline_policy(hub, detail["shop"], nxt)
        await _add_erp_and_parcels(hub, detail)
    if args.json:
        print_json(detail)
        return 0
    print_case(detail)
    return 0


async def _add_erp_and_parcels(hub: Any, detail: dict[str, Any]) -> None:
    from .erp.repo import case_documents
    from .logistics.repo import case_parcels

    detail["erp_documents"] = await case_documents(hub.engine, detail["id"])
    detail["parcels"] = await case_parcels(hub.engine, detail["id"])


def print_case(c: dict[str, Any]) -> None:
    now = utcnow()
    print(
        f"Case {c['id']}  {c['platform']} / {c['shop']}  "
        f"after-sale {c['external_id']}  order {c['order_external_id']}"
    )
    print(
        f"  {c['kind']}  {c['status']} ({c['platform_status']})  "
        f"refund {fen_to_yuan(c['refund_fen'])}  reason {c['reason'] or '-'}"
    )
    d = c["next_action"]
    if d:
        when = (
            f"before {show_time(d['due_at'])} ({relative(d['due_at'], now)})"
            if d["due_at"]
            else f"no clock: {d['no_clock_reason']}"
        )
        print(f"  next action: {d['party']} to {d['action']} {when}")
        rule = f"[{d['source'] or '-'}: {d['rule_id'] or '-'}]"
        print(f"    on expiry: {d['consequence'] or d['on_expiry']}  {rule}")
        if d.get("via"):
            v = d["via"]
            print(f"    via: {v['platform']}/{v['shop']} {v['subject']} {v['external_id']}")
            own = c.get("own_action") or {}
            if own:
                due = show_time(own["due_at"]) if own.get("due_at") else "no clock"
                print(f"    this case itself: {own.get('party')} to {own.get('action')} by {due}")
        if d.get("summary"):
            print(f"    {d['summary']}")
        if d.get("rule_source"):
            print(f"    source: {d['rule_source']}")
        if d.get("policy"):
            p = d["policy"]
            since = f", in force from {show_time(p['since'])}" if p.get("since") else ""
            name = p["key"] or p["setting"]
            print(f"    shop policy: {name} = {p['value']} (setting {p['setting']}{since})")
        if d.get("penalty_fen"):
            print(f"    penalty: {fen_to_yuan(d['penalty_fen'])} yuan")
    else:
        print("  next action: none (the case is over)")
    if c.get("dispute"):
        print(f"  dispute: {c['dispute']['kind']} {c['dispute']['status']}")
    for dsp in c.get("disputes", []):
        print(f"  tracked {dsp['kind']}: {dsp['status']}  {dsp['note'] or ''}")
    for w in c.get("warnings", []):
        print(f"  warning: {w}")
    if c.get("order"):
        o = c["order"]
        print(f"  order: {o['status']} ({o['platform_status']}) paid {fen_to_yuan(o['paid_fen'])}")
    for lk in c.get("linked", []):
        print(
            f"  linked {lk['role']}: {lk['platform']}/{lk['shop']} {lk['external_id']} {lk['status']} "
            f"({lk['link_method']})"
        )
        for lc in lk.get("cases", []):
            print(f"      case {lc['id']}: {lc['kind']} {lc['status']}")
    for i in c.get("insights", []):
        due = f" — by {show_time(i['due_at'])}" if i.get("due_at") else ""
        amount = f" ({fen_to_yuan(i['amount_fen'])} yuan)" if i.get("amount_fen") is not None else ""
        print(f"  [{i['level']}] {i['kind']}: {i['title']}{amount}{due}")
        if i.get("body"):
            for line in str(i["body"]).splitlines():
                print(f"        {line}")
        if i.get("source"):
            print(f"        source: {i['source']}")
    _print_erp_and_parcels(c)
    print("  timeline:")
    for e in c["timeline"]:
        print(f"    {show_time(e['at'])}  {e['actor']:<10} {e['summary']}")
    acts = c.get("actions_available", [])
    if acts:
        print("  actions:")
        for a in acts:
            print(
                f"    {'+' if a['enabled'] else '-'} {a['action']}: {a['label']}"
                f"{'' if a['enabled'] else ' — ' + str(a['reason'])}"
            )
    for r in c.get("raw", []):
        print(f"  raw {r['resource']} (received {r['received_at']}):")
        print("    " + json.dumps(r["payload"], ensure_ascii=False)[:2000])


def _print_erp_and_parcels(c: dict[str, Any]) -> None:
    from .erp.commands import print_documents
    from .logistics.commands import print_parcels

    print_documents(c.get("erp_documents") or [])
    print_parcels(c.get("parcels") or [])


async def cmd_case_act(args: argparse.Namespace) -> int:
    from .audit import audited_action
    from .batch import parse_ids
    from .batchcli import act_many, actor_of, print_batch

    ids = parse_ids(args.id)
    if len(ids) > 1:
        async with open_hub(args) as hub:
            result = await act_many(hub, ids, args.action, parse_kv(args.param), args.key, actor_of(args))
        print_batch(result, args.json)
        return 0 if result.all_done else 1
    async with open_hub(args) as hub:
        # audited like the workbench's actions: the audit page shows who (命令行) changed what
        reply = await audited_action(
            hub,
            ids[0],
            args.action,
            parse_kv(args.param),
            actor=actor_of(args),
            via="cli",
            idempotency_key=args.key,
        )
    if args.json:
        print_json(reply.as_dict())
        return 0 if reply.status in ("done", "recorded", "needs_verification") else 1
    note = " (already done under this key: nothing sent)" if reply.replayed else ""
    print(f"{reply.action}: {reply.status}{' — ' + reply.message if reply.message else ''}{note}")
    print(f"idempotency key: {reply.idempotency_key}")
    return action_exit_code(reply.status)


async def cmd_case_actions(args: argparse.Namespace) -> int:
    from .actions import available_actions

    async with open_hub(args) as hub:
        for a in await available_actions(hub, args.id):
            print(
                f"{'+' if a['enabled'] else '-'} {a['action']}: {a['label']}"
                f"{'' if a['enabled'] else ' — ' + str(a['reason'])}"
            )
    return 0


async def cmd_case_evidence(args: argparse.Namespace) -> int:
    from .actions import add_evidence

    if not args.file.is_file():
        raise ConfigError(f"no such file: {args.file}")
    async with open_hub(args) as hub:
        ident = await add_evidence(
            hub,
            args.id,
            name=args.file.name,
            content=args.file.read_bytes(),
            content_type=None,
            actor=args.actor,
            description=args.description,
        )
        print(f"evidence {ident} attached")
    return 0


async def cmd_case_pack(args: argparse.Namespace) -> int:
    from .actions import evidence_pack

    async with open_hub(args) as hub:
        data = await evidence_pack(hub, args.id)
    out = args.output or Path(f"case-{args.id}-evidence.zip")
    out.write_bytes(data)
    print(f"evidence pack written to {out} ({len(data)} bytes)")
    return 0


async def cmd_link(args: argparse.Namespace) -> int:
    from .store.links import link_by_hand

    async with open_hub(args) as hub:
        async with hub.engine.begin() as conn:
            made = await link_by_hand(conn, args.purchase, args.sale, utcnow(), "cli")
    print("linked" if made else "already linked")
    return 0


async def cmd_quarantine(args: argparse.Namespace) -> int:
    from .scrub import register_all_shops
    from .store.cases import quarantined

    async with open_hub(args) as hub:
        await register_all_shops(hub.engine, hub.registry.platforms)  # raw payloads: hide secrets
        items = await quarantined(hub.engine)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("nothing in quarantine")
    for q in items:
        print(f"{q['shop']} {q['resource']} {q['external_id']}: {q['error']} (last seen {q['last_seen_at']})")
    return 0


# -- demo -------------------------------------------------------------------------------------


async def cmd_demo(args: argparse.Namespace) -> int:
    """Every installed sandbox, a demo shop each, a sync, the work list, then the workbench."""
    from .logging import configure_logging
    from .logistics.demo import show_erp_and_tracking_demo, start_erp_and_tracking_demo
    from .runtime import Hub
    from .store.migrate import upgrade
    from .store.shops import add_shop

    base = Settings.from_env()
    if "HUB_LOG_LEVEL" not in os.environ:
        # The demo prints its own summary and work list; routine sync lines would bury them.
        configure_logging(base.log_format, "warning")
    home = (args.home or base.home / "demo").expanduser()
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    settings = Settings.from_env(database_url=f"sqlite+aiosqlite:///{home / 'hub.db'}", home=home)
    hub = Hub.open(settings)
    sandboxes: list[Any] = []
    try:
        await upgrade(hub.engine)
        if not hub.registry.sandboxes:
            raise HubError("no installed plugin provides a sandbox")
        for pid, factory in sorted(hub.registry.sandboxes.items()):
            sandbox = factory()
            workdir = home / "sandboxes" / pid
            workdir.mkdir(parents=True, exist_ok=True)
            shops = await sandbox.start(str(workdir))
            sandboxes.append(sandbox)
            for demo in shops:
                await add_shop(hub.engine, hub.registry.info(pid), demo.name, dict(demo.settings))
                print(f"sandbox {pid}: shop {demo.name}")
        ns = argparse.Namespace(shop=None, since=None, until=None)
        parcel_box = await start_erp_and_tracking_demo(hub, home)  # ERP files and a watched parcel
        sandboxes.append(parcel_box)
        summaries = await run_sync(hub, ns)
        print()
        print_summaries(summaries)
        await _demo_show(hub)
        await _demo_policy_and_auto(hub)
        await show_erp_and_tracking_demo(hub, home, parcel_box)
        await _demo_ledger(hub, home)
        print(f"\nThis demo's store, for queries later: {demo_store_env(home)} hub cases")
        if not args.no_serve:
            await _demo_serve(hub, args)
    finally:
        for sandbox in sandboxes:
            await sandbox.stop()
        await hub.close()
    return 0


def demo_store_env(home: Path) -> str:
    """The environment that points ``hub`` at a demo's store (its database and home folder)."""
    return f"HUB_DATABASE_URL=sqlite:///{home / 'hub.db'} HUB_HOME={home}"


async def _demo_show(hub: Any) -> None:
    from .actions import case_insights
    from .domain import Party
    from .store.cases import CaseFilter, all_cases
    from .store.serialize import jsonable

    now = utcnow()
    items = await all_cases(hub.engine, CaseFilter(now=now, orders=True))
    n_orders = sum(c["item"] == "order" for c in items)
    print(
        f"\nWork list: {len(items) - n_orders} open cases and {n_orders} orders with a running clock "
        f"across {len({c['shop'] for c in items})} shops, soonest deadline first (first 25):"
    )
    print_cases(items[:25], now)
    # The chain: sale cases whose order is linked to an upstream purchase, with their advice.
    from sqlalchemy import select

    from .store.models import OrderLinkRecord, OrderRecord

    L, O = tbl(OrderLinkRecord), tbl(OrderRecord)  # noqa: E741
    async with hub.engine.connect() as conn:
        pairs = (await conn.execute(select(L.c.purchase_order_id, L.c.sale_order_id, L.c.method))).all()
        ids = {i for p in pairs for i in p[:2]}
        ext = (
            dict((await conn.execute(select(O.c.id, O.c.external_id).where(O.c.id.in_(ids)))).tuples().all())
            if ids
            else {}
        )
    if pairs:
        print(f"\nLinked purchase ↔ sale pairs: {len(pairs)}")
        for p, s, method in pairs[:10]:
            print(f"  17网 purchase {ext.get(p)}  ↔  sale {ext.get(s)}  ({method})")
    linked_sales = {ext.get(s) for _, s, _ in pairs}
    # Show the buyer returns behind which the 17网 chain has something to say, conflicts first.
    chains: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
    for c in await all_cases(hub.engine, CaseFilter(now=now)):
        sourcing = hub.registry.info(c["platform"]).merchant_side is Party.BUYER
        if c["order_external_id"] not in linked_sales or sourcing:
            continue
        insights = jsonable(await case_insights(hub, c["id"]))
        if not any(i["kind"] in ("upstream_step", "warning") for i in insights):
            continue
        conflicts = sum(i["level"] in ("warning", "danger") for i in insights)
        chains.append((-conflicts, c, insights))
    chains.sort(key=lambda t: (t[0], t[1]["id"]))
    for _, c, insights in chains[:2]:
        print(
            f"\nBuyer return {c['external_id']} ({c['platform']}/{c['shop']}, {c['kind']} {c['status']}):"
            " upstream 17网 steps and warnings"
        )
        for i in insights:
            due = f" — by {show_time(i['due_at'])}" if i.get("due_at") else ""
            print(f"  [{i['level']}] {i['title']}{due}")


async def _demo_policy_and_auto(hub: Any) -> None:
    """A shop policy that drives a deadline, and an auto-rule: its dry-run and one automatic action."""
    from .policy.demo import demo_policy_and_auto

    for line in await demo_policy_and_auto(hub):
        print(line)


async def _demo_ledger(hub: Any, home: Path) -> None:
    """The after-sales ledger of the demo's last 30 Beijing days, as the file finance would get."""
    from datetime import timedelta

    from .money import fen_to_yuan
    from .report_commands import write_ledger_file
    from .reportdays import DayRange, today_beijing

    last = today_beijing(hub.now())
    days = DayRange(last - timedelta(days=29), last)
    path = home / "ledger" / f"ledger-{days.first.isoformat()}_{days.last.isoformat()}.csv"
    rows = await write_ledger_file(hub, days, path)
    busy = [r for r in rows if not r.empty()]
    refunds = sum(r.refunds_fen for r in rows)
    print(f"\nAfter-sales ledger ({days.first} to {days.last}, Beijing days) in {path}:")
    print(f"  {len(busy)} shop-days with after-sales money; refunds paid {fen_to_yuan(refunds)} 元")


async def _demo_serve(hub: Any, args: argparse.Namespace) -> None:
    import secrets

    try:
        from .web.commands import ensure_user, run_server
    except ImportError:
        print("(the workbench is not installed: stopping here)")
        return
    password = secrets.token_urlsafe(9)
    await ensure_user(hub, "admin", "admin", [], password)

    def ready(url: str) -> None:
        print(f"\nWorkbench: {url}  — log in as admin / {password}   (Ctrl-C to stop)")

    async def keep_syncing() -> None:
        # The sandboxes' shops move on with the clock: sync them so the page shows it.
        ns = argparse.Namespace(shop=None, since=None, until=None)
        while True:
            await asyncio.sleep(60)
            await run_sync(hub, ns)

    syncing = asyncio.create_task(keep_syncing())
    try:
        await run_server(hub, args.host, args.port, on_ready=ready)
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        syncing.cancel()
