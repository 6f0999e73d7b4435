"""``hub auto``: add, dry-run, enable/disable, pause/resume, run, list, show."""

from __future__ import annotations

import argparse
import sys

from ..clicommon import UsageError, csv_arg, duration_arg, open_hub, print_json
from ..clock import CST
from ..money import fen_to_yuan
from .expr import ConditionError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    auto = sub.add_parser("auto", help="auto-rules: conditions over cases that act by themselves")
    ac = auto.add_subparsers(dest="auto_command", metavar="ACTION")
    ac.required = True
    p = ac.add_parser("add", help="add a rule (or a new version of it); it starts disabled")
    p.add_argument("name", help="the rule's name, e.g. small-unshipped-refunds")
    p.add_argument(
        "--shops",
        type=csv_arg,
        required=True,
        metavar="A,B",
        help="the shops it runs in, comma-separated, e.g. tb-main,pdd-main",
    )
    p.add_argument(
        "--when", required=True, metavar="CONDITION", help='e.g. kind == "refund_only" and refund_yuan <= 10'
    )
    p.add_argument("--do", required=True, metavar="ACTION", help="the action, e.g. agree_refund")
    p.add_argument(
        "--param",
        action="append",
        metavar="K=V",
        help="a parameter of the action, repeatable, e.g. --param reason=缺货",
    )
    p.add_argument(
        "--daily-cap-yuan",
        metavar="N",
        help="most money it may move per Beijing day (required to move money), e.g. 200",
    )
    p.add_argument("--actor", default="cli", help="who made the change, for the audit log, e.g. zhang.san")
    p.set_defaults(func=cmd_auto_add)
    p = ac.add_parser("dry-run", help="what the rule would act on, now and over a past period")
    p.add_argument("name", help="the rule's name, e.g. small-unshipped-refunds")
    p.add_argument(
        "--since",
        type=duration_arg,
        default=duration_arg("30d"),
        metavar="30d",
        help="how far back to look, e.g. 30d, 12h (default 30d)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_auto_dry_run)
    for verb, text in (("enable", "let the rule run after each sync"), ("disable", "stop the rule")):
        p = ac.add_parser(verb, help=text)
        p.add_argument("name", help="the rule's name, e.g. small-unshipped-refunds")
        p.set_defaults(func=cmd_auto_enable, enable=verb == "enable")
    for verb, text in (("pause", "kill switch: stop every rule"), ("resume", "let enabled rules run again")):
        p = ac.add_parser(verb, help=text)
        p.add_argument(
            "--actor",
            default="cli",
            help="who made the change, for the audit log, e.g. zhang.san",
        )
        p.set_defaults(func=cmd_auto_pause, pause=verb == "pause")
    p = ac.add_parser("run", help="run enabled rules now (they also run after each shop's sync)")
    p.add_argument(
        "name", nargs="?", help="one rule (default: every enabled rule), e.g. small-unshipped-refunds"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_auto_run)
    p = ac.add_parser("list", help="every rule")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_auto_list)
    p = ac.add_parser("show", help="a rule with its versions and history")
    p.add_argument("name", help="the rule's name, e.g. small-unshipped-refunds")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_auto_show)


def _params(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise UsageError(f"--param needs K=V, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v
    return out


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else fen_to_yuan(fen)


async def cmd_auto_add(args: argparse.Namespace) -> int:
    from .service import add_rule

    params = _params(args.param)
    async with open_hub(args) as hub:
        try:
            row = await add_rule(
                hub,
                name=args.name,
                shops=args.shops,
                condition=args.when,
                action=args.do,
                params=params,
                daily_cap_yuan=args.daily_cap_yuan,
                actor=args.actor,
            )
        except ConditionError as err:
            # the condition, and a caret under the column
            sys.stderr.write(f"  {args.when}\n  {' ' * (err.column - 1)}^\n")
            raise
    print(
        f"auto-rule {row.name} v{row.version} saved, disabled: check `hub auto dry-run {row.name}`, "
        f"then `hub auto enable {row.name}`"
    )
    return 0


async def cmd_auto_dry_run(args: argparse.Namespace) -> int:
    from . import repo
    from .runner import dry_run

    async with open_hub(args) as hub:
        rule = await repo.get_rule(hub.engine, args.name)
        result = await dry_run(hub, rule, args.since)
    if args.json:
        print_json(result.as_dict())
        return 0
    cap = f", daily cap {_yuan(rule.daily_cap_fen)} yuan" if rule.daily_cap_fen else ""
    print(f"Dry-run of {rule.name} v{rule.version}: {rule.action} when {rule.condition}{cap}")
    for title, hits, money in (
        ("Now (open cases)", result.now, result.money_now_fen),
        (f"Over the last {args.since.days}d (cases as first seen)", result.history, result.money_history_fen),
    ):
        print(f"{title}: {len(hits)} cases" + (f", {fen_to_yuan(money)} yuan" if result.money else ""))
        for h in hits:
            when = h.at.astimezone(CST).strftime("%Y-%m-%d %H:%M")
            mark = "  (stopped by the daily cap)" if h.capped else ""
            print(
                f"  case {h.case_id}  {h.platform}/{h.shop} {h.external_id}  {h.kind} {h.status}  "
                f"{fen_to_yuan(h.refund_fen)} yuan  {when}{mark}"
            )
    return 0


async def cmd_auto_enable(args: argparse.Namespace) -> int:
    from . import repo

    async with open_hub(args) as hub:
        row = await repo.set_enabled(hub.engine, args.name, args.enable, hub.now())
    print(f"auto-rule {row.name} v{row.version} {'enabled' if row.enabled else 'disabled'}")
    return 0


async def cmd_auto_pause(args: argparse.Namespace) -> int:
    from . import repo

    async with open_hub(args) as hub:
        await repo.set_paused(hub.engine, args.pause, args.actor, hub.now())
    print("auto-rules paused: none runs until `hub auto resume`" if args.pause else "auto-rules resumed")
    return 0


async def cmd_auto_run(args: argparse.Namespace) -> int:
    from . import repo
    from .runner import run_rule

    async with open_hub(args) as hub:
        rules = (
            [await repo.get_rule(hub.engine, args.name)] if args.name else await repo.all_rules(hub.engine)
        )
        reports = [await run_rule(hub, r) for r in rules if r.enabled or args.name]
    if args.json:
        print_json([r.as_dict() for r in reports])
    else:
        for r in reports:
            print(
                f"{r.rule} v{r.version}: acted on {len(r.acted)} cases"
                + (f"; stopped: {r.stopped}" if r.stopped else "")
            )
            for a in r.acted:
                print(
                    f"  case {a['case_id']} ({a['shop']}): {a['outcome']}  "
                    f"{fen_to_yuan(a['amount_fen'])} yuan"
                )
    failed = any(a["outcome"] == "failed" for r in reports for a in r.acted)
    return 1 if failed else 0


async def cmd_auto_list(args: argparse.Namespace) -> int:
    from . import repo
    from .service import rule_dict

    async with open_hub(args) as hub:
        rules = await repo.all_rules(hub.engine)
        paused = await repo.is_paused(hub.engine)
    if args.json:
        print_json({"paused": paused, "rules": [rule_dict(r) for r in rules]})
        return 0
    if paused:
        print("ALL AUTO-RULES PAUSED (hub auto resume)")
    if not rules:
        print("no auto-rules (hub auto add NAME --shops ... --when ... --do ...)")
    for r in rules:
        state = "enabled" if r.enabled else "disabled"
        print(
            f"{r.name} v{r.version} [{state}] shops {','.join(r.shops)}: {r.action} when {r.condition}"
            f"  cap {_yuan(r.daily_cap_fen)} yuan/day"
        )
    return 0


async def cmd_auto_show(args: argparse.Namespace) -> int:
    from . import repo
    from .service import rule_dict, run_dict, version_dict

    async with open_hub(args) as hub:
        rule = await repo.get_rule(hub.engine, args.name)
        vs = await repo.versions(hub.engine, rule.id)
        rs = await repo.runs(hub.engine, rule.id)
    out = {**rule_dict(rule), "versions": [version_dict(v) for v in vs], "runs": [run_dict(r) for r in rs]}
    if args.json:
        print_json(out)
        return 0
    print(f"{rule.name} v{rule.version} [{'enabled' if rule.enabled else 'disabled'}]")
    print("Versions:")
    for v in vs:
        print(
            f"  v{v.version} {v.created_at.astimezone(CST):%Y-%m-%d %H:%M} by {v.created_by}: "
            f"{v.action} when {v.condition} (shops {','.join(v.shops)}, cap {_yuan(v.daily_cap_fen)})"
        )
    print("History:" if rs else "History: none yet")
    for r in rs:
        case = f"case {r.after_sale_id}" if r.after_sale_id else "-"
        print(
            f"  {r.at.astimezone(CST):%Y-%m-%d %H:%M} v{r.version} {case} {r.action}: {r.outcome}"
            f"  {fen_to_yuan(r.amount_fen)} yuan" + (f"  {r.message}" if r.message else "")
        )
    return 0
