"""Benchmark: the work list at 200,000 cases, on SQLite or PostgreSQL.

Builds a migrated database, inserts synthetic shops and after-sales rows, ANALYZEs, then times
(median of several runs, after a warm-up):

- the list's first page and a deep page (page 100, by keyset cursor) through
  ``hub.store.cases.list_cases`` beside a hand-written query of the same rows on the same driver
  (aiosqlite / asyncpg) **plus building the same JSON** (the ratio is the target: <= 2x);
- an agent's scoped first page, filtered pages, the counts;
- the JSON API and the HTML page end to end (aiohttp test server, an admin's token).

Usage: ``python bench/worklist.py [--database-url URL] [--cases 200000] [--runs 15] [--write-docs]``.
The report ends with one line per target: ``target NAME=VALUE goal=GOAL PASS|FAIL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from hub.store.base import tbl  # noqa: E402
from hub.store.bulk import insert_rows  # noqa: E402
from hub.store.cases import CaseFilter, decode_cursor, facet_counts, list_cases, urgency_counts  # noqa: E402
from hub.store.engine import create_engine  # noqa: E402
from hub.store.migrate import upgrade  # noqa: E402
from hub.store.models import NO_DEADLINE, AfterSaleRecord, ShopRecord  # noqa: E402
from hub.testing.fixtures import create_pg_database, drop_pg_database  # noqa: E402

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
PLATFORMS = ("taobao", "pinduoduo", "seventeen")
KINDS = ("refund_only", "return_refund", "exchange", "reship")
STATUSES = {  # status: (the next action's party, open, weight)
    "requested": ("merchant", True, 30),
    "seller_refused": ("buyer", True, 5),
    "awaiting_return": ("buyer", True, 10),
    "return_shipped": ("merchant", True, 10),
    "refunding": ("platform", True, 5),
    "platform_review": ("platform", True, 5),
    "succeeded": ("none", False, 25),
    "closed": ("none", False, 10),
}
N_SHOPS = 20


def backend(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def engine_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


#: the no-clock reason of an open case whose next action has no clock (English, and Chinese)
NO_CLOCK = ("waiting for the platform's decision; no published time limit", "等待平台处理，平台未公布时限")


def synthetic_cases(n_cases: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Rows as the upsert stores them: every open case has a next action (a party; a clock on 85 %,
    else a no-clock reason), 1 in 50 shows a linked order's merchant deadline (``deadline_via``)."""
    rng = random.Random(seed)
    names = list(STATUSES)
    weights = [STATUSES[s][2] for s in names]
    for i in range(n_cases):
        status = rng.choices(names, weights)[0]
        party, is_open, _w = STATUSES[status]
        created = NOW - timedelta(minutes=rng.randrange(30 * 24 * 60))
        since = created + timedelta(minutes=rng.randrange(24 * 60))
        due = (
            created + timedelta(hours=rng.choice((48, 72, 240))) if is_open and rng.random() < 0.85 else None
        )
        dispute = status == "platform_review" or rng.random() < 0.02
        via = (
            {
                "subject": "order",
                "platform": "seventeen",
                "shop": "shop-03",
                "external_id": f"P{i:09d}",
                "label": "purchase",
                "case_id": None,
            }
            if is_open and due and i % 50 == 0
            else None
        )
        action = (
            {
                "party": party,
                "action": "reply" if due else "wait",
                "due_at": due.isoformat() if due else None,
                "no_clock_reason": None if due else NO_CLOCK[0],
                "no_clock_reason_zh": None if due else NO_CLOCK[1],
                "on_expiry": "auto_agree" if due else "nothing",
                "consequence_zh": "超时将自动同意退款" if due else "",
                "consequence_en": "auto-agreed when the time runs out" if due else "",
                "source": "rule" if due else None,
                "rule_id": "bench.rule" if due else None,
                "rule_source": "bench (synthetic rule)" if due else None,
                "summary": "72 小时未处理将自动同意退款" if due else None,
                "summary_en": "Auto-agreed after 72 h" if due else None,
                "start_event": None,
                "penalty_fen": None,
                "via": None,
            }
            if is_open
            else None
        )
        yield {
            "shop_id": rng.randrange(N_SHOPS) + 1,
            "external_id": f"R{i:09d}",
            "order_external_id": f"O{i:09d}",
            "kind": rng.choice(KINDS),
            "status": status,
            "is_open": is_open,
            "platform_status": status.upper(),
            "reason": "size",
            "refund_fen": rng.randrange(100, 500_000),
            "buyer": f"buyer{rng.randrange(50_000)}",
            "created_at": created,
            "platform_updated_at": since,
            "status_since": since,
            "deadline_due_at": due,
            "deadline_party": action["party"] if action else None,
            "deadline_action": action["action"] if action else None,
            "deadline_on_expiry": action["on_expiry"] if action else None,
            "deadline_source": action["source"] if action else None,
            "deadline_rule_id": action["rule_id"] if action else None,
            "deadline_rule_source": action["rule_source"] if action else None,
            "deadline_summary": action["summary"] if action else None,
            "deadline_no_clock_reason": action["no_clock_reason"] if action else None,
            "deadline_consequence_zh": action["consequence_zh"] if action else None,
            "deadline_consequence_en": action["consequence_en"] if action else None,
            "deadline_via": via,
            "own_action": action,
            "dispute_kind": "intervention" if dispute else None,
            "dispute_status": "under_review" if dispute else None,
            "work_due_at": due or NO_DEADLINE,
            "data": {"warnings": ["unknown status mapped"]} if i % 97 == 0 else {},
            "content_hash": "x",
        }


async def build(url: str, n_cases: int) -> float:
    """Migrate and fill the database (hub's own bulk insert path); returns the insert time in s."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        async with engine.begin() as conn:
            await insert_rows(
                conn,
                tbl(ShopRecord),
                [
                    {
                        "id": i + 1,
                        "platform": PLATFORMS[i % 3],
                        "name": f"shop-{i + 1:02d}",
                        "settings": {},
                        "needs_reauth": False,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(N_SHOPS)
                ],
            )
        batch: list[dict[str, Any]] = []
        for row in synthetic_cases(n_cases):
            batch.append(row)
            if len(batch) == 10_000:
                async with engine.begin() as conn:
                    await insert_rows(conn, tbl(AfterSaleRecord), batch)
                batch = []
        if batch:
            async with engine.begin() as conn:
                await insert_rows(conn, tbl(AfterSaleRecord), batch)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    """Median milliseconds of ``runs`` calls after one warm-up, and the last result."""
    result = await fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


async def paired(
    hub_fn: Callable[[], Awaitable[Any]], raw_fn: Callable[[], Awaitable[Any]], runs: int
) -> tuple[float, Any, float, Any]:
    """Median ms of the hub's call and of the hand-written one, alternated call by call (after a
    warm-up of each), so that a busy machine slows both alike; and each one's last result."""
    hub_result, raw_result = await hub_fn(), await raw_fn()
    hub_ms, raw_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        hub_result = await hub_fn()
        t1 = time.perf_counter()
        raw_result = await raw_fn()
        t2 = time.perf_counter()
        hub_ms.append((t1 - t0) * 1000)
        raw_ms.append((t2 - t1) * 1000)
    return statistics.median(hub_ms), hub_result, statistics.median(raw_ms), raw_result


#: the after_sales columns a work-list item shows (the hand-written query reads only these)
RAW_FIELDS = (
    "id",
    "external_id",
    "order_external_id",
    "kind",
    "status",
    "platform_status",
    "refund_fen",
    "reason",
    "buyer",
    "created_at",
    "platform_updated_at",
    "status_since",
    "deadline_due_at",
    "deadline_party",
    "deadline_action",
    "deadline_no_clock_reason",
    "deadline_on_expiry",
    "deadline_consequence_en",
    "deadline_consequence_zh",
    "deadline_source",
    "deadline_rule_id",
    "deadline_rule_source",
    "deadline_summary",
    "deadline_penalty_fen",
    "deadline_via",
    "own_action",
    "dispute_kind",
    "dispute_status",
    "assignee",
    "data",
)
RAW_COLUMNS = ", ".join(f"a.{c}" for c in RAW_FIELDS) + ", s.name, s.platform"
_F = {name: i for i, name in enumerate(RAW_FIELDS)}
_SHOP, _PLATFORM = len(RAW_FIELDS), len(RAW_FIELDS) + 1


def _iso(value: Any) -> str | None:
    """A stored time as case_json writes it: aware UTC, ISO (the driver gives text or datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    return value.astimezone(UTC).isoformat()


def _doc(value: Any) -> Any:
    """A JSON column as the driver gives it (text on both drivers without a codec)."""
    return json.loads(value) if isinstance(value, str) else value


def raw_case_json(r: Any) -> dict[str, Any]:
    """The work list's JSON of a case, built by hand from a driver row (the same dict as case_json)."""
    data = _doc(r[_F["data"]]) or {}
    dispute = data.get("dispute")
    party = r[_F["deadline_party"]]
    action: dict[str, Any] | None = None
    if party is not None:
        via = _doc(r[_F["deadline_via"]])
        own = _doc(r[_F["own_action"]]) or {}
        action = {
            "party": party,
            "action": r[_F["deadline_action"]],
            "due_at": _iso(r[_F["deadline_due_at"]]),
            "no_clock_reason": r[_F["deadline_no_clock_reason"]],
            "on_expiry": r[_F["deadline_on_expiry"]],
            "consequence": r[_F["deadline_consequence_en"]],
            "source": r[_F["deadline_source"]],
            "rule_id": r[_F["deadline_rule_id"]],
            "rule_source": r[_F["deadline_rule_source"]],
            "summary": r[_F["deadline_summary"]],
            "penalty_fen": r[_F["deadline_penalty_fen"]],
            "via": via,
            "consequence_zh": r[_F["deadline_consequence_zh"]],
            "no_clock_reason_zh": own.get("no_clock_reason_zh") if not via else None,
        }
    deadline = (
        {
            k: action[k]
            for k in (
                "due_at",
                "party",
                "action",
                "on_expiry",
                "source",
                "rule_id",
                "rule_source",
                "summary",
                "penalty_fen",
            )
        }
        if action is not None and action["due_at"] is not None
        else None
    )
    return {
        "item": "case",
        "id": r[_F["id"]],
        "platform": r[_PLATFORM],
        "shop": r[_SHOP],
        "external_id": r[_F["external_id"]],
        "order_external_id": r[_F["order_external_id"]],
        "kind": r[_F["kind"]],
        "status": r[_F["status"]],
        "awaiting": party if party is not None else "none",
        "platform_status": r[_F["platform_status"]],
        "refund_fen": r[_F["refund_fen"]],
        "reason": r[_F["reason"]],
        "buyer": r[_F["buyer"]],
        "created_at": _iso(r[_F["created_at"]]),
        "updated_at": _iso(r[_F["platform_updated_at"]]),
        "status_since": _iso(r[_F["status_since"]]),
        "next_action": action,
        "deadline": deadline,
        "dispute": {
            "kind": r[_F["dispute_kind"]],
            "status": r[_F["dispute_status"]],
            "appeal_open": bool(dispute and dispute.get("appeal_open")),
        }
        if r[_F["dispute_kind"]]
        else None,
        "assignee": r[_F["assignee"]],
        "warnings": data.get("warnings") or [],
    }


class RawPages:
    """The first page and a keyset page by hand on the hub's own driver (aiosqlite / asyncpg)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = backend(url)
        self.conn: Any = None

    async def open(self) -> None:
        u = make_url(self.url)
        if self.dialect == "sqlite":
            import aiosqlite

            self.conn = await aiosqlite.connect(u.database or "")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(
                host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
            )

    async def close(self) -> None:
        await self.conn.close()

    async def page(self, after: tuple[Any, int] | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if self.dialect == "sqlite":
            where = "a.is_open = 1"
            params: tuple[Any, ...] = ()
            if after is not None:
                where += " AND (a.work_due_at > ? OR (a.work_due_at = ? AND a.id > ?))"
                params = (after[0], after[0], after[1])
            sql = (
                f"SELECT {RAW_COLUMNS} FROM after_sales a JOIN shops s ON s.id = a.shop_id "
                f"WHERE {where} ORDER BY a.work_due_at, a.id LIMIT {limit + 1}"
            )
            async with self.conn.execute(sql, params) as cur:
                rows = await cur.fetchall()
        else:
            where = "a.is_open"
            params = ()
            if after is not None:
                where += " AND (a.work_due_at > $1 OR (a.work_due_at = $1 AND a.id > $2))"
                params = (after[0], after[1])
            sql = (
                f"SELECT {RAW_COLUMNS} FROM after_sales a JOIN shops s ON s.id = a.shop_id "
                f"WHERE {where} ORDER BY a.work_due_at, a.id LIMIT {limit + 1}"
            )
            rows = await self.conn.fetch(sql, *params)
        return [raw_case_json(r) for r in rows[:limit]]


async def measure(url: str, runs: int, *, web: bool = True) -> dict[str, float]:
    engine = create_engine(url)
    out: dict[str, float] = {}
    base = CaseFilter(now=NOW)
    raw = RawPages(url)
    await raw.open()
    try:
        out["first_page"], page, out["raw_first_page"], raw_page = await paired(
            lambda: list_cases(engine, base, limit=50), lambda: raw.page(), runs
        )
        assert page.items == raw_page, "the benchmark compares the same JSON"
        cursor = page.next_cursor
        for _ in range(98):  # walk to page 100, then time it: keyset pages cost the same at any depth
            cursor = (await list_cases(engine, base, limit=50, cursor=cursor)).next_cursor
        assert cursor is not None
        due, ident, _rank = decode_cursor(cursor)
        after = (
            due.replace(tzinfo=None).isoformat(" ", "microseconds") if raw.dialect == "sqlite" else due,
            ident,
        )
        out["page_100_by_cursor"], deep, out["raw_page_100"], raw_deep = await paired(
            lambda: list_cases(engine, base, limit=50, cursor=cursor), lambda: raw.page(after), runs
        )
        assert deep.items == raw_deep, "the deep pages compare the same JSON"
    finally:
        await raw.close()
    agent = CaseFilter(now=NOW, shop_ids=[1, 2, 3])
    out["agent_first_page"], _ = await timed(lambda: list_cases(engine, agent, limit=50), runs)
    filters = {
        "platform_pinduoduo": CaseFilter(now=NOW, platforms=["pinduoduo"]),
        "kind_return_refund_awaiting_merchant": CaseFilter(
            now=NOW, kinds=["return_refund"], awaiting=["merchant"]
        ),
        "due_within_24h": CaseFilter(now=NOW, due_within=timedelta(hours=24)),
        "dispute_only": CaseFilter(now=NOW, dispute_only=True),
        "search_order_id": CaseFilter(now=NOW, search="O000123456"),
        "search_buyer": CaseFilter(now=NOW, search="buyer4242"),
    }
    for name, f in filters.items():
        out[f"filter_{name}"], _ = await timed(lambda f=f: list_cases(engine, f, limit=50), runs)  # type: ignore[misc]
    out["count_total"], _ = await timed(lambda: list_cases(engine, base, limit=50, with_total=True), runs)
    out["facet_counts"], _ = await timed(lambda: facet_counts(engine, base), max(3, runs // 3))
    out["urgency_counts"], _ = await timed(lambda: urgency_counts(engine, NOW), runs)
    if web:
        out.update(await measure_web(engine, url, runs))
    await engine.dispose()
    return out


async def measure_web(engine: Any, url: str, runs: int) -> dict[str, float]:
    """The workbench's own counting (a join-free total, one grouped scan for the facets), then
    ``GET /api/cases`` and the HTML work list end to end, as an admin and as an agent of 3 shops:
    cold (facet counts recomputed on every request) and warm (within the facet cache's 30 s)."""
    from aiohttp.test_utils import TestClient, TestServer

    from hub.config import Settings
    from hub.plugins import get_plugin_manager
    from hub.runtime import Hub
    from hub.web import create_app, service
    from hub.web.auth import create_token, ensure_user

    home = Path(tempfile.mkdtemp(prefix="hub-bench-home-"))
    settings = Settings.from_env(database_url=url, home=home)
    hub = Hub.open(settings, pm=get_plugin_manager(load_entrypoints=False), engine=engine)
    hub.now = lambda: NOW
    out: dict[str, float] = {}
    base, agent = CaseFilter(now=NOW), CaseFilter(now=NOW, shop_ids=[1, 2, 3])
    out["web_count_total"], _ = await timed(lambda: service.count_total(hub, base), runs)
    out["web_count_total_agent"], _ = await timed(lambda: service.count_total(hub, agent), runs)
    out["web_count_total_platform"], _ = await timed(
        lambda: service.count_total(hub, CaseFilter(now=NOW, platforms=["pinduoduo"])), runs
    )
    out["web_summary"], _ = await timed(lambda: service.summary(hub, base, fresh=True), max(3, runs // 3))
    out["web_summary_agent"], _ = await timed(
        lambda: service.summary(hub, agent, fresh=True), max(3, runs // 3)
    )
    await ensure_user(hub, "bench-admin", "admin", [], "bench-password")
    await ensure_user(hub, "bench-agent", "agent", ["shop-01", "shop-02", "shop-03"], "bench-password")
    tokens = {u: await create_token(engine, u, now=NOW) for u in ("bench-admin", "bench-agent")}
    async with TestClient(TestServer(create_app(hub, owns_hub=False))) as client:
        for who, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            label = who.split("-")[1]

            async def api(headers: dict[str, str] = headers) -> None:
                resp = await client.get("/api/cases", headers=headers)
                assert resp.status == 200
                await resp.read()

            async def page(headers: dict[str, str] = headers) -> None:
                resp = await client.get("/", headers=headers)
                assert resp.status == 200
                await resp.read()

            out[f"http_api_cases_{label}"], _ = await timed(api, runs)

            async def cold_page(page: Callable[[], Awaitable[None]] = page) -> None:
                service._facets.clear()  # cold: this render recounts the facets
                await page()

            out[f"http_worklist_page_cold_{label}"], _ = await timed(cold_page, max(3, runs // 3))
            out[f"http_worklist_page_warm_{label}"], _ = await timed(page, runs)
    return out


LABELS = {
    "first_page": "First page (50), `list_cases`, every shop",
    "raw_first_page": "Same rows + same JSON by hand, same driver (`ORDER BY work_due_at, id`)",
    "page_100_by_cursor": "Page 100 by keyset cursor, `list_cases`",
    "raw_page_100": "Page 100 by hand on the same driver (keyset), same JSON",
    "agent_first_page": "First page, an agent scoped to 3 of 20 shops",
    "filter_platform_pinduoduo": "Filter: platform = pinduoduo",
    "filter_kind_return_refund_awaiting_merchant": "Filter: kind = return_refund, awaiting merchant",
    "filter_due_within_24h": "Filter: due within 24 h",
    "filter_dispute_only": "Filter: disputes only",
    "filter_search_order_id": "Search: an order id",
    "filter_search_buyer": "Search: a buyer",
    "count_total": "Core: first page + total (`list_cases(with_total=True)`, join-free)",
    "facet_counts": "Core: `facet_counts` (one grouped scan)",
    "urgency_counts": "Core: `urgency_counts`, every shop (index ranges)",
    "web_count_total": "Workbench: total, join-free (covering index)",
    "web_count_total_agent": "Workbench: total, agent scope",
    "web_count_total_platform": "Workbench: total, platform = pinduoduo",
    "web_summary": "Workbench: all five facets in one grouped scan",
    "web_summary_agent": "Workbench: facets in one scan, agent scope",
    "http_api_cases_admin": "HTTP `GET /api/cases` (page + total), admin",
    "http_api_cases_agent": "HTTP `GET /api/cases` (page + total), agent",
    "http_worklist_page_cold_admin": "HTTP `GET /` page, facets recounted, admin",
    "http_worklist_page_warm_admin": "HTTP `GET /` page, facets cached, admin",
    "http_worklist_page_cold_agent": "HTTP `GET /` page, facets recounted, agent",
    "http_worklist_page_warm_agent": "HTTP `GET /` page, facets cached, agent",
}


TARGET_RATIO = 2.0  #: list_cases at most 2x the hand-written query + JSON on the same driver


def target_lines(figures: dict[str, float], db: str) -> list[str]:
    lines = []
    for name, hub_key, raw_key in (
        ("worklist_first_page_vs_raw", "first_page", "raw_first_page"),
        ("worklist_deep_page_vs_raw", "page_100_by_cursor", "raw_page_100"),
    ):
        ratio = figures[hub_key] / figures[raw_key]
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        lines.append(f"target {name}[{db}]={ratio:.2f} goal<={TARGET_RATIO:g} {verdict}")
    return lines


def report(n_cases: int, insert_s: float, figures: dict[str, float], db: str) -> str:
    ratio = figures["first_page"] / figures["raw_first_page"]
    lines = [
        f"## Work list ({db})",
        "",
        f"Measured by `bench/worklist.py` on {n_cases:,} after-sales cases in {N_SHOPS} shops "
        f"({db}, migrated schema, ANALYZEd; ~{round(100 * 0.75)} % open), {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.machine()}; medians in milliseconds. "
        f"Inserting the rows (hub's bulk insert path) took {insert_s:.1f} s.",
        "",
        f"**The first page: {figures['first_page']:.2f} ms through `list_cases` against "
        f"{figures['raw_first_page']:.2f} ms for the hand-written query of the same 50 rows plus "
        f"building the same JSON on the same driver: {ratio:.1f}×.**",
        "",
        "| Query | ms |",
        "|---|---:|",
    ]
    lines += [f"| {LABELS[k]} | {v:.2f} |" for k, v in figures.items()]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (a fresh database is "
        "created on that server and dropped); default: a temporary SQLite file",
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-web", action="store_true", help="skip the HTTP measurements")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url and backend(args.database_url) == "postgresql":
            url = engine_url(asyncio.run(create_pg_database(engine_url(args.database_url))))
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = backend(url)
        try:
            print(f"building {args.cases:,} cases ({db}) ...", flush=True)
            insert_s = asyncio.run(build(url, args.cases))
            print(f"inserted in {insert_s:.1f} s; measuring ...", flush=True)
            figures = asyncio.run(measure(url, args.runs, web=not args.no_web))
        finally:
            if db == "postgresql":
                asyncio.run(drop_pg_database(url))
    print(report(args.cases, insert_s, figures, db))
    for line in target_lines(figures, db):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
