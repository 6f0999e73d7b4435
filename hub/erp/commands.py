"""``hub sink`` (where ERP documents go) and ``hub erp`` (run a pass now, close a dispute record)."""

from __future__ import annotations

import argparse
from typing import Any

from ..clicommon import csv_arg, open_hub, parse_kv, print_json, shop_ids_named
from ..clock import utcnow
from ..errors import ConfigError
from ..money import fen_to_yuan, yuan_to_fen
from .documents import KINDS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sink = sub.add_parser("sink", help="where ERP documents go: add, list, remove, replay sinks")
    sinks = sink.add_subparsers(dest="sink_command", metavar="ACTION")
    sinks.required = True
    p = sinks.add_parser("add", help="add a sink: --kind file --dir DIR, or --kind webhook --url URL")
    p.add_argument("name", help="the sink's name, e.g. erp-files")
    p.add_argument("--kind", required=True, help="file, webhook, or a plugin's sink kind, e.g. file")
    p.add_argument("--dir", help="file sink: the folder its files go to, e.g. /srv/erp-inbox")
    p.add_argument(
        "--format", choices=("csv", "xlsx"), help="file sink: csv (UTF-8 with BOM, default) or xlsx"
    )
    p.add_argument(
        "--url", help="webhook sink: the URL documents are POSTed to, e.g. https://erp.example.com/hub"
    )
    p.add_argument(
        "--secret", help="webhook sink: HMAC-SHA256 key, e.g. env:ERP_SECRET (read from the environment)"
    )
    p.add_argument(
        "--warehouse", help="the warehouse written on every document, e.g. 杭州仓 (default 默认仓)"
    )
    p.add_argument(
        "--shops", type=csv_arg, default=[], help="only these shops (default: all), e.g. tb-main,pdd-main"
    )
    p.add_argument(
        "--kinds",
        type=csv_arg,
        default=[],
        help=f"only these document kinds, e.g. return,exchange; kinds: {', '.join(KINDS)}",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="another setting (plugin sinks), e.g. --set format=xlsx",
    )
    p.set_defaults(func=cmd_sink_add)
    p = sinks.add_parser("list", help="sinks with their delivered and failed counts")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_sink_list)
    p = sinks.add_parser("remove", help="remove a sink (its delivery records go with it)")
    p.add_argument("name", help="the sink's name, e.g. erp-files")
    p.set_defaults(func=cmd_sink_remove)
    p = sinks.add_parser(
        "replay", help="retry the sink's failed deliveries now and send what is pending (never re-sends)"
    )
    p.add_argument("name", help="the sink's name, e.g. erp-files")
    p.set_defaults(func=cmd_sink_replay)

    erp = sub.add_parser("erp", help="ERP documents: run a pass now, close a dispute record")
    erps = erp.add_subparsers(dest="erp_command", metavar="ACTION")
    erps.required = True
    p = erps.add_parser("run", help="make the documents the cases call for and deliver them now")
    p.add_argument("--shop", type=csv_arg, default=[], help="only these shops, e.g. tb-main,pdd-main")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_erp_run)
    p = erps.add_parser("close-dispute", help="close a case's dispute record (维权单): who was responsible")
    p.add_argument("case", type=int, help="the case id, e.g. 42")
    p.add_argument("--department", required=True, help="responsible department (责任部门), e.g. 仓储部")
    p.add_argument("--person", required=True, help="responsible person (责任人), e.g. 张三")
    p.add_argument("--penalty-yuan", default="0", help="penalty in yuan, e.g. 30.00 (罚款)")
    p.add_argument("--decision", help="the final explanation and decision, e.g. 仓库错发，补发并赔付运费")
    p.add_argument("--actor", default="cli", help="who did it, for the audit log, e.g. zhang.san")
    p.set_defaults(func=cmd_erp_close_dispute)


async def cmd_sink_add(args: argparse.Namespace) -> int:
    from .repo import add_sink
    from .sinks import SinkContext, sink_factories

    config: dict[str, str] = parse_kv(args.set)
    for key in ("dir", "format", "url", "secret", "warehouse"):
        value = getattr(args, key)
        if value:
            config[key] = value
    if args.secret and not args.secret.startswith("env:"):
        from ..logging import register_secrets

        register_secrets([args.secret])
    async with open_hub(args) as hub:
        factories = sink_factories(hub.pm)
        if args.kind in factories:
            # the factory checks the settings now: a sink that cannot work is refused, named
            factories[args.kind](args.name, config, SinkContext(http=hub.http, home=hub.settings.home))
        names = [s.name for s in await _shop_names(hub)]
        bad = [s for s in args.shops if s not in names]
        if bad:
            raise ConfigError(f"--shops: no shop named {', '.join(bad)} (see `hub shop list`)")
        await add_sink(
            hub.engine, args.name, args.kind, config, args.shops, args.kinds, utcnow(), list(factories)
        )
    print(f"sink {args.name} added ({args.kind})")
    return 0


async def _shop_names(hub: Any) -> list[Any]:
    from ..store.shops import list_shop_rows

    return list(await list_shop_rows(hub.engine))


async def cmd_sink_list(args: argparse.Namespace) -> int:
    from .repo import list_sinks

    async with open_hub(args) as hub:
        items = await list_sinks(hub.engine)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no sinks yet: hub sink add NAME --kind file --dir DIR")
    for s in items:
        where = s["config"].get("dir") or s["config"].get("url") or ""
        scope = f"  shops {','.join(s['shops'])}" if s["shops"] else ""
        kinds = f"  kinds {','.join(s['kinds'])}" if s["kinds"] else ""
        print(
            f"{s['name']}  {s['kind']}  {where}{scope}{kinds}"
            f"  delivered {s['delivered']}  failed {s['failed']}"
        )
    return 0


async def cmd_sink_remove(args: argparse.Namespace) -> int:
    from .repo import remove_sink

    async with open_hub(args) as hub:
        await remove_sink(hub.engine, args.name)
    print(f"sink {args.name} removed")
    return 0


async def cmd_sink_replay(args: argparse.Namespace) -> int:
    from .deliver import deliver_pending
    from .repo import retry_now

    async with open_hub(args) as hub:
        due = await retry_now(hub.engine, args.name, hub.now())
        result = await deliver_pending(hub, hub.now(), sink_names=[args.name])
    print(f"sink {args.name}: {due} failed made due; delivered {result.delivered}, failed {result.failed}")
    for e in result.errors:
        print(f"  ! {e}")
    return 0 if not result.failed and not result.errors else 1


async def cmd_erp_run(args: argparse.Namespace) -> int:
    from .deliver import run_erp_pass

    async with open_hub(args) as hub:
        shop_ids = await shop_ids_named(hub, args.shop)
        result = await run_erp_pass(hub, shop_ids)
    if args.json:
        print_json(result.as_dict())
    else:
        print(f"documents made {result.made}, delivered {result.delivered}, failed {result.failed}")
        for e in result.errors:
            print(f"  ! {e}")
    return 0 if not result.failed and not result.errors else 1


async def cmd_erp_close_dispute(args: argparse.Namespace) -> int:
    from .repo import close_dispute

    try:
        penalty = yuan_to_fen(args.penalty_yuan)
    except (ValueError, ArithmeticError) as err:
        raise ConfigError(f"--penalty-yuan: {err}") from None
    async with open_hub(args) as hub:
        done = await close_dispute(
            hub.engine,
            args.case,
            department=args.department,
            person=args.person,
            penalty_fen=penalty,
            decision=args.decision,
            actor=args.actor,
            now=hub.now(),
        )
    if done:
        print(
            f"case {args.case}: dispute record closed ({args.department} / {args.person}, "
            f"penalty {fen_to_yuan(penalty)} yuan)"
        )
    else:
        print(f"case {args.case}: the dispute record was closed before; nothing changed")
    return 0


def print_documents(docs: list[dict[str, Any]]) -> None:
    """The "ERP documents" lines of ``hub case show``."""
    if not docs:
        return
    print("  ERP documents:")
    for d in docs:
        sent = ", ".join(
            f"{x['sink']} {x['status']}"
            + (f" ({x['error']})" if x["status"] == "failed" and x["error"] else "")
            for x in d["deliveries"]
        )
        print(
            f"    {d['number']}  {d['kind']} {d['step']}  {fen_to_yuan(d['amount_fen'])}"
            f"  {sent or 'not delivered yet'}"
        )
