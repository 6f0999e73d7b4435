"""``hub worker``, ``hub schedule`` and ``hub doctor``."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``worker``, ``schedule`` and ``doctor`` to the ``hub`` command."""
    from ..cli import _duration

    p = sub.add_parser("worker", help="run queued tasks (syncs, push-hint re-fetches) and schedule syncs")
    p.add_argument(
        "--concurrency", type=int, default=4, help="tasks run at once by this process (default 4), e.g. 8"
    )
    p.add_argument(
        "--no-schedule",
        action="store_true",
        help="only run tasks; leave enqueueing to other workers or to `hub schedule`",
    )
    p.add_argument(
        "--tick", type=float, default=5.0, help="seconds between scheduling passes (default 5), e.g. 2.5"
    )
    p.add_argument(
        "--hints-every",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="also re-fetch each shop's push hints this often between syncs, e.g. 1m "
        "(default: with each sync only)",
    )
    p.add_argument("--burst", action="store_true", help="schedule once, run what is queued, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "schedule", help="enqueue the sync of every shop that is due (for cron, or --now: all)"
    )
    p.add_argument("--now", action="store_true", help="enqueue every shop's sync now, due or not")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("doctor", help="check database, migrations, plugins, shop credentials and clocks")
    p.add_argument(
        "--max-skew",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="clock skew allowed (default 2m), e.g. 30s",
    )
    p.set_defaults(func=cmd_doctor)


async def _at_head(hub: object) -> None:
    from ..store.migrate import current_revision, head_revision

    if await current_revision(hub.engine) != head_revision():  # type: ignore[attr-defined]
        raise ConfigError("the database is not at the latest schema: run `hub db upgrade` first")


async def cmd_worker(args: argparse.Namespace) -> int:
    """Run tasks until SIGTERM/SIGINT (running tasks finish first), or with --burst until idle."""
    from ..cli import open_hub
    from ..notify.task import use_worker_queue
    from .queue import check_concurrency, open_queue
    from .scheduler import Scheduler

    concurrency = check_concurrency(args.concurrency)
    if args.tick <= 0:
        raise ConfigError(f"--tick must be positive, not {args.tick}")
    async with open_hub(args) as hub:
        await _at_head(hub)
        queue = open_queue(hub)
        await queue.open()
        use_worker_queue(queue)  # alerts after a sync become `alerts` tasks on this queue
        try:
            scheduler = (
                None
                if args.no_schedule
                else Scheduler(hub, queue, interval=args.tick, hints_every=args.hints_every)
            )

            def ready() -> None:
                print(
                    f"hub worker ready: {concurrency} task slots on the {queue.backend} queue "
                    f"({'scheduling' if scheduler else 'not scheduling'})",
                    flush=True,
                )

            await queue.run(concurrency=concurrency, burst=args.burst, scheduler=scheduler, on_ready=ready)
        finally:
            await queue.close()
    print("hub worker stopped", flush=True)
    return 0


async def cmd_schedule(args: argparse.Namespace) -> int:
    """Enqueue due syncs once and exit."""
    from ..cli import open_hub
    from .queue import open_queue
    from .scheduler import schedule_due

    async with open_hub(args) as hub:
        await _at_head(hub)
        queue = open_queue(hub)
        await queue.open()
        try:
            names = await schedule_due(hub, queue, hub.now(), every_shop=args.now)
        finally:
            await queue.close()
    print(f"{len(names)} sync(s) enqueued{': ' + ', '.join(names) if names else ''}")
    return 0


async def cmd_doctor(args: argparse.Namespace) -> int:
    """One line per check; exit 1 when any fails."""
    from datetime import timedelta

    from ..cli import settings_from
    from .doctor import run_checks

    max_skew = args.max_skew or timedelta(minutes=2)
    failed = 0
    async for check in run_checks(settings_from(args), max_skew=max_skew):
        failed += not check.ok
        print(check.line(), flush=True)
    if failed:
        sys.stderr.write(f"hub: doctor: {failed} check(s) failed\n")
        return 1
    return 0
