"""``/metrics`` in the Prometheus text format (version 0.0.4), read from the store at scrape time.

Sync runs, records, errors and lag per shop, open cases by urgency, actions by result, and this
process's HTTP requests. Reading the store on each scrape keeps several hub processes consistent
(they share one database) and needs no client library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.cases import urgency_counts
from ..store.status_repo import metrics_rows
from .status import sync_status


class RequestCounters:
    """In-process HTTP request counts by method, route template and status."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, int]] = Counter()

    def observe(self, method: str, route: str, status: int) -> None:
        """Count one answered request (the route template, never the raw path: ids would explode it)."""
        self.counts[(method, route, status)] += 1


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: object) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, object], float | int]]
    ) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(**labels)} {value}")


async def render_metrics(engine: AsyncEngine, now: datetime, counters: RequestCounters) -> str:
    """The metrics page for every shop (only admins may scrape it)."""
    w = _Writer()
    rows = await metrics_rows(engine)
    shops, run_rows, err_rows, action_rows = rows.shops, rows.run_rows, rows.err_rows, rows.action_rows
    status = await sync_status(engine, None, now)
    urgency = await urgency_counts(engine, now)

    def shop_labels(shop_id: int) -> dict[str, object]:
        name, platform = shops.get(shop_id, (str(shop_id), "unknown"))
        return {"shop": name, "platform": platform}

    w.family(
        "hub_sync_runs_total",
        "counter",
        "Sync runs by shop and outcome.",
        ((shop_labels(r[0]) | {"status": r[1]}, r[2]) for r in run_rows),
    )
    records: Counter[tuple[int, str]] = Counter()
    for r in run_rows:
        for i, kind in enumerate(("fetched", "new", "changed", "unchanged", "quarantined")):
            records[(r[0], kind)] += int(r[3 + i])
    w.family(
        "hub_sync_records_total",
        "counter",
        "Records synced by shop and result.",
        ((shop_labels(sid) | {"result": kind}, n) for (sid, kind), n in sorted(records.items())),
    )
    errors: Counter[int] = Counter()
    for sid, errs in err_rows:
        errors[sid] += len(errs or [])
    w.family(
        "hub_sync_errors_total",
        "counter",
        "Errors reported by sync runs, by shop.",
        ((shop_labels(sid), errors.get(sid, 0)) for sid in sorted(shops)),
    )
    name_to_id = {v[0]: k for k, v in shops.items()}
    w.family(
        "hub_sync_lag_seconds",
        "gauge",
        "How far behind now each shop's resource checkpoint is.",
        (
            (shop_labels(name_to_id[s["shop"]]) | {"resource": c["resource"]}, c["lag_seconds"])
            for s in status
            for c in s["checkpoints"]
        ),
    )
    w.family(
        "hub_sync_last_success_timestamp_seconds",
        "gauge",
        "When each shop last synced without error.",
        (
            (shop_labels(name_to_id[s["shop"]]), datetime.fromisoformat(s["last_success_at"]).timestamp())
            for s in status
            if s["last_success_at"]
        ),
    )
    w.family(
        "hub_shop_needs_reauth",
        "gauge",
        "1 when the shop needs re-authorisation.",
        ((shop_labels(name_to_id[s["shop"]]), int(s["needs_reauth"])) for s in status),
    )
    w.family(
        "hub_quarantined_records",
        "gauge",
        "Unresolved records that could not be mapped, by shop.",
        ((shop_labels(name_to_id[s["shop"]]), s["quarantined"]) for s in status),
    )
    w.family(
        "hub_open_cases",
        "gauge",
        "Open after-sales cases by deadline urgency.",
        (({"urgency": k}, v) for k, v in urgency.items()),
    )
    w.family(
        "hub_actions_total",
        "counter",
        "Actions performed, by action and result.",
        (({"action": a, "result": s}, n) for a, s, n in sorted(action_rows)),
    )
    w.family(
        "hub_http_requests_total",
        "counter",
        "HTTP requests answered by this process.",
        (({"method": m, "route": r, "status": s}, n) for (m, r, s), n in sorted(counters.counts.items())),
    )
    from ..worker.metrics import worker_metric_lines

    w.lines.extend(await worker_metric_lines(engine))
    return "\n".join(w.lines) + "\n"
