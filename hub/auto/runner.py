"""Running auto-rules: what a case looks like to a condition, the dry-run, and the real run.

Every automatic action goes through :func:`hub.actions.perform_action` like an agent's: recorded
before it is sent, on the case's timeline, with the idempotency key ``auto:<rule>:<version>:<case>``
(a rerun never acts twice; a failed one is retried under the same key). The actor is
``自动规则 <rule> v<version>``; each action also gets an audit-log entry (kind ``auto_action``).

Money-moving rules (an action the platform marks ``money_moves``) carry a daily cap in fen: before
acting, the case's refund is reserved against what the rule moved that Beijing day (across runs
and processes: the reservation is a run row written under a lock on the rule); a case that would
exceed the cap stops the batch, and the rest wait for the next day.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select, update

from ..domain import DisputeStatus
from ..errors import ActionError, ConfigError, HubError
from ..policy.keys import typed
from ..policy.store import policy_state
from ..runtime import Hub
from ..store.auth_repo import insert_audit
from ..store.base import tbl
from ..store.models import AfterSaleRecord, EventRecord, OrderRecord, ShopRecord
from . import repo
from .expr import Condition, parse

log = structlog.get_logger("hub.auto")

C = tbl(AfterSaleRecord)
O = tbl(OrderRecord)  # noqa: E741
S = tbl(ShopRecord)
E = tbl(EventRecord)

#: hub statuses of an order whose goods have left
SHIPPED_STATUSES = frozenset({"shipped", "completed"})
#: one lock per rule and event loop: a process's concurrent shop syncs reserve against the cap in turn
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def actor_of(rule: Any) -> str:
    return f"自动规则 {rule.name} v{rule.version}"


def key_of(rule: Any, case_id: int) -> str:
    return f"auto:{rule.name}:{rule.version}:{case_id}"


def money_moves(hub: Hub, action: str, platforms: Iterable[str]) -> bool:
    """Whether ``action`` moves money on any of these platforms (the capability says so)."""
    for pid in platforms:
        info = hub.registry.platforms.get(pid)
        cap = info.capability(action) if info else None
        if cap is not None and cap.money_moves:
            return True
    return False


def check_action(
    hub: Hub, action: str, platforms: Iterable[str], params: Mapping[str, Any] | None = None
) -> None:
    """The action must be one the shops' platforms support (or one of hub's own), with the
    parameters it requires and no others."""
    from ..actions import HUB_ACTIONS

    if action in HUB_ACTIONS:
        return
    given = set(params or {})
    pids = sorted(set(platforms))
    for pid in pids:
        info = hub.registry.platforms.get(pid)
        cap = info.capability(action) if info else None
        if cap is not None and cap.supported:
            known = {p.name for p in cap.params}
            missing = sorted(p.name for p in cap.params if p.required and p.name not in given)
            unknown = sorted(given - known)
            if missing or unknown:
                what = (
                    f"needs --param {', '.join(missing)}"
                    if missing
                    else f"has no parameter {', '.join(unknown)}"
                )
                raise ConfigError(
                    f"--do {action} on {pid} {what} (parameters: {', '.join(sorted(known)) or 'none'})"
                )
        if cap is None or not cap.supported:
            names = (
                sorted({c.action for c in info.capabilities if c.supported} | set(HUB_ACTIONS))
                if info
                else []
            )
            raise ConfigError(f"--do {action}: {pid} does not support it (actions: {', '.join(names)})")


@dataclass
class Hit:
    """A case a rule acts (or would act) on."""

    case_id: int
    shop: str
    platform: str
    external_id: str
    kind: str
    status: str
    refund_fen: int
    at: datetime  #: when: now, or when the case was first seen (history)
    when: str  #: now, history
    capped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "shop": self.shop,
            "platform": self.platform,
            "external_id": self.external_id,
            "kind": self.kind,
            "status": self.status,
            "refund_fen": self.refund_fen,
            "at": self.at.isoformat(),
            "when": self.when,
            "capped": self.capped,
        }


@dataclass
class DryRun:
    rule: str
    version: int
    money: bool
    daily_cap_fen: int | None
    now: list[Hit] = field(default_factory=list)
    history: list[Hit] = field(default_factory=list)

    @property
    def money_now_fen(self) -> int:
        return sum(h.refund_fen for h in self.now if not h.capped) if self.money else 0

    @property
    def money_history_fen(self) -> int:
        return sum(h.refund_fen for h in self.history if not h.capped) if self.money else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "version": self.version,
            "money_moves": self.money,
            "daily_cap_fen": self.daily_cap_fen,
            "now": [h.as_dict() for h in self.now],
            "history": [h.as_dict() for h in self.history],
            "money_now_fen": self.money_now_fen,
            "money_history_fen": self.money_history_fen,
            "capped": sum(h.capped for h in self.now + self.history),
        }


async def _shops(hub: Hub, names: Sequence[str]) -> list[Any]:
    async with hub.engine.connect() as conn:
        rows = list((await conn.execute(select(S).where(S.c.name.in_(list(names))))).all())
    return [r for r in rows if r.platform in hub.registry.platforms]


async def _policy_vars(hub: Hub, shop: Any) -> dict[str, Any]:
    async with hub.engine.connect() as conn:
        state = await policy_state(conn, shop, hub.registry.platforms.get(shop.platform), hub.now())

    def hours(key: str) -> Decimal:
        return Decimal(typed(key, state[key].value).total_seconds()) / 3600  # type: ignore[union-attr]

    def days(key: str) -> int:
        return typed(key, state[key].value).days  # type: ignore[union-attr]

    return {
        "policy.small_refund_fen": int(state["small_refund_fen"].value),
        "policy.unshipped_refund_hours": hours("unshipped_refund_within"),
        "policy.order_change_hours": hours("order_change_within"),
        "policy.quality_claim_days": days("quality_claim_days"),
        "policy.watch_after_success_days": days("watch_after_success_days"),
        "policy.ship_warning_hours": hours("ship_warning_before"),
        "policy.dispatch_cutoff": state["dispatch_cutoff"].value,
    }


async def _orders(hub: Hub, cases: Sequence[Any]) -> dict[tuple[int, str], Any]:
    keys: dict[int, set[str]] = {}
    for c in cases:
        keys.setdefault(c.shop_id, set()).add(c.order_external_id)
    out: dict[tuple[int, str], Any] = {}
    async with hub.engine.connect() as conn:
        for shop_id, exts in keys.items():
            ext = sorted(exts)
            for i in range(0, len(ext), 500):
                stmt = select(O.c.shop_id, O.c.external_id, O.c.status, O.c.shipped_at, O.c.paid_fen).where(
                    O.c.shop_id == shop_id, O.c.external_id.in_(ext[i : i + 500])
                )
                for o in (await conn.execute(stmt)).all():
                    out[(o.shop_id, o.external_id)] = o
    return out


async def _eligibility(hub: Hub, case_id: int) -> dict[str, bool]:
    from ..actions import case_insights

    verdicts = [i for i in await case_insights(hub, case_id) if i.kind == "eligibility"]
    return {
        "eligibility.known": bool(verdicts),
        "eligibility.ok": bool(verdicts) and all(i.level == "info" for i in verdicts),
        "eligibility.refused": any(i.level == "danger" for i in verdicts),
    }


def case_vars(
    c: Any,
    *,
    shop: Any,
    order: Any,
    policy: dict[str, Any],
    now: datetime,
    kind: str | None = None,
    status: str | None = None,
    refund_fen: int | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """What a condition sees of a case (``kind``/``status``/``refund_fen``/``as_of`` override the
    stored state: the history evaluates a case as it was first seen)."""
    fen = int(c.refund_fen if refund_fen is None else refund_fen)
    at = as_of or now
    age = max(timedelta(0), at - c.created_at)
    shipped = False
    if order is not None:
        shipped = (
            order.shipped_at is not None and order.shipped_at <= at
            if as_of
            else (order.shipped_at is not None or order.status in SHIPPED_STATUSES)
        )
    dispute = False
    if c.dispute_status:
        try:
            dispute = DisputeStatus(c.dispute_status).is_open
        except ValueError:
            dispute = True
    due = c.deadline_due_at
    return {
        "kind": kind or c.kind,
        "status": status or c.status,
        "platform_status": c.platform_status,
        "platform": shop.platform,
        "shop": shop.name,
        "reason": c.reason or "",
        "refund_fen": fen,
        "refund_yuan": Decimal(fen) / 100,
        "amount": Decimal(fen) / 100,
        "age_hours": Decimal(int(age.total_seconds())) / 3600,
        "age_days": Decimal(int(age.total_seconds())) / 86400,
        "dispute": dispute,
        "small_refund": fen <= int(policy["policy.small_refund_fen"]),
        "order.known": order is not None,
        "order.shipped": shipped,
        "order.status": order.status if order is not None else "",
        "order.paid_yuan": Decimal(int(order.paid_fen or 0)) / 100 if order is not None else Decimal(0),
        "next.party": c.deadline_party or "",
        "next.action": c.deadline_action or "",
        "next.source": c.deadline_source or "",
        "next.due_hours": Decimal(int((due - now).total_seconds())) / 3600 if due else Decimal(-(10**9)),
        **policy,
    }


async def _candidates(
    hub: Hub, rule: Any, cond: Condition, shop_names: Sequence[str], *, since: datetime | None
) -> list[tuple[Any, Any, dict[str, Any], str]]:
    """(case row, shop row, variables, when) of the cases the condition holds for: open cases now,
    and with ``since`` every case opened since then as it was first seen."""
    now = hub.now()
    out: list[tuple[Any, Any, dict[str, Any], str]] = []
    for shop in await _shops(hub, shop_names):
        policy = await _policy_vars(hub, shop)
        async with hub.engine.connect() as conn:
            open_rows = list(
                (
                    await conn.execute(
                        select(C).where(C.c.shop_id == shop.id, C.c.is_open.is_(True)).order_by(C.c.id)
                    )
                ).all()
            )
            past_rows: list[Any] = []
            first_seen: dict[str, Any] = {}
            if since is not None:
                past_rows = list(
                    (
                        await conn.execute(
                            select(C).where(C.c.shop_id == shop.id, C.c.created_at >= since).order_by(C.c.id)
                        )
                    ).all()
                )
                ev = await conn.execute(
                    select(E.c.external_id, E.c.data).where(
                        E.c.shop_id == shop.id,
                        E.c.subject == "after_sale",
                        E.c.kind == "created",
                        E.c.at >= since,
                    )
                )
                first_seen = {r.external_id: r.data for r in ev.all()}
        orders = await _orders(hub, open_rows + past_rows)
        for c in open_rows:
            order = orders.get((c.shop_id, c.order_external_id))
            ctx = case_vars(c, shop=shop, order=order, policy=policy, now=now)
            if cond.uses("eligibility"):
                ctx.update(await _eligibility(hub, c.id))
            if cond(ctx):
                out.append((c, shop, ctx, "now"))
        for c in past_rows:
            seen = first_seen.get(c.external_id) or {}
            order = orders.get((c.shop_id, c.order_external_id))
            ctx = case_vars(
                c,
                shop=shop,
                order=order,
                policy=policy,
                now=now,
                kind=seen.get("kind"),
                status=seen.get("status"),
                refund_fen=seen.get("refund_fen"),
                as_of=c.created_at,
            )
            if cond.uses("eligibility"):
                ctx.update(await _eligibility(hub, c.id))
            if cond(ctx):
                out.append((c, shop, ctx, "history"))
    return out


async def dry_run(hub: Hub, rule: Any, since: timedelta) -> DryRun:
    """What the rule would act on now (open cases) and over the last ``since`` (every case opened
    in the period, as first seen), with the money it would move and where the cap would stop it."""
    cond = parse(rule.condition)
    shops = await _shops(hub, rule.shops)
    money = money_moves(hub, rule.action, {s.platform for s in shops})
    result = DryRun(rule=rule.name, version=rule.version, money=money, daily_cap_fen=rule.daily_cap_fen)
    now = hub.now()
    spent_by_day: dict[str, int] = {}
    async with hub.engine.connect() as conn:
        today = repo.beijing_day(now)
        spent_by_day[today] = await repo.spent_today(conn, rule.id, today)
    hits = await _candidates(hub, rule, cond, rule.shops, since=now - since)
    hits.sort(
        key=lambda h: (0 if h[3] == "history" else 1, h[0].created_at if h[3] == "history" else now, h[0].id)
    )
    for c, shop, ctx, when in hits:
        at = c.created_at if when == "history" else now
        hit = Hit(
            case_id=c.id,
            shop=shop.name,
            platform=shop.platform,
            external_id=c.external_id,
            kind=ctx["kind"],
            status=ctx["status"],
            refund_fen=int(ctx["refund_fen"]),
            at=at,
            when=when,
        )
        if money and rule.daily_cap_fen is not None:
            day = repo.beijing_day(at)
            spent = spent_by_day.get(day, 0)
            if spent + hit.refund_fen > rule.daily_cap_fen:
                hit.capped = True
            else:
                spent_by_day[day] = spent + hit.refund_fen
        (result.history if when == "history" else result.now).append(hit)
    return result


@dataclass
class RunReport:
    rule: str
    version: int
    acted: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None  #: why the batch stopped early (the cap), or why it did not run

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "version": self.version, "acted": self.acted, "stopped": self.stopped}


async def run_rule(hub: Hub, rule: Any, shop_names: Sequence[str] | None = None) -> RunReport:
    """Act on the open cases the rule's condition holds for (in its shops, narrowed to
    ``shop_names``), through the normal action path, up to the daily cap."""
    report = RunReport(rule=rule.name, version=rule.version)
    if await repo.is_paused(hub.engine):
        report.stopped = "paused"
        return report
    if not rule.enabled:
        report.stopped = "disabled"
        return report
    scope = [s for s in rule.shops if shop_names is None or s in shop_names]
    if not scope:
        return report
    cond = parse(rule.condition)
    shops = await _shops(hub, rule.shops)
    money = money_moves(hub, rule.action, {s.platform for s in shops})
    if money and rule.daily_cap_fen is None:  # refused at add time; kept safe if the data says otherwise
        report.stopped = "no daily cap"
        return report
    async with hub.engine.connect() as conn:
        done = await repo.handled_cases(conn, rule.id, rule.version)
    hits = [h for h in await _candidates(hub, rule, cond, scope, since=None) if h[0].id not in done]
    lock = _locks.setdefault(asyncio.get_running_loop(), {}).setdefault(rule.id, asyncio.Lock())
    for c, shop, _ctx, _when in hits:
        amount = int(c.refund_fen) if money else 0
        now = hub.now()
        day = repo.beijing_day(now)
        async with lock, hub.engine.begin() as conn:
            # the rule's row locked (PostgreSQL) while the reservation is checked and written
            await conn.execute(select(repo.R.c.id).where(repo.R.c.id == rule.id).with_for_update())
            if money:
                spent = await repo.spent_today(conn, rule.id, day)
                if spent + amount > int(rule.daily_cap_fen):
                    report.stopped = (
                        f"daily cap: {spent} fen moved today of {rule.daily_cap_fen}; "
                        f"case {c.id} needs {amount} more"
                    )
                    await _note_capped(conn, rule, c, shop, amount, day, now, report.stopped)
                    break
            run_id = await _reserve(conn, rule, c, shop, amount, day, now)
        outcome, message, action_id = await _act(hub, rule, c)
        async with hub.engine.begin() as conn:
            await conn.execute(
                update(repo.RUN)
                .where(repo.RUN.c.id == run_id)
                .values(
                    outcome=outcome,
                    message=message[:2000] if message else None,
                    action_id=action_id,
                    amount_fen=amount if outcome in repo.SPENT else 0,
                )
            )
        await insert_audit(
            hub.engine,
            {
                "at": hub.now(),
                "actor": actor_of(rule)[:120],
                "kind": "auto_action",
                "case_id": c.id,
                "remote": None,
                "request_id": None,
                "detail": {
                    "rule": rule.name,
                    "version": rule.version,
                    "action": rule.action,
                    "outcome": outcome,
                    "amount_fen": amount,
                    "idempotency_key": key_of(rule, c.id),
                },
            },
        )
        report.acted.append({"case_id": c.id, "shop": shop.name, "outcome": outcome, "amount_fen": amount})
        log.info("auto_action", rule=rule.name, version=rule.version, case=c.id, outcome=outcome)
    return report


async def _reserve(conn: Any, rule: Any, c: Any, shop: Any, amount: int, day: str, now: datetime) -> int:
    result = await conn.execute(
        repo.RUN.insert().values(
            rule_id=rule.id,
            version=rule.version,
            at=now,
            day=day,
            shop_id=shop.id,
            after_sale_id=c.id,
            action=rule.action,
            amount_fen=amount,
            outcome="pending",
        )
    )
    return int(result.inserted_primary_key[0])


async def _note_capped(
    conn: Any, rule: Any, c: Any, shop: Any, amount: int, day: str, now: datetime, why: str
) -> None:
    """One ``capped`` history line per rule and day (later runs that day stop silently)."""
    seen = (
        await conn.execute(
            select(repo.RUN.c.id).where(
                repo.RUN.c.rule_id == rule.id, repo.RUN.c.day == day, repo.RUN.c.outcome == "capped"
            )
        )
    ).first()
    if seen is None:
        await repo.add_run(
            conn,
            rule_id=rule.id,
            version=rule.version,
            at=now,
            day=day,
            shop_id=shop.id,
            after_sale_id=c.id,
            action=rule.action,
            amount_fen=0,
            outcome="capped",
            message=why,
        )


async def _act(hub: Hub, rule: Any, c: Any) -> tuple[str, str, int | None]:
    from ..actions import perform_action

    try:
        reply = await perform_action(
            hub,
            c.id,
            rule.action,
            dict(rule.params or {}),
            actor=actor_of(rule),
            idempotency_key=key_of(rule, c.id),
        )
    except (ActionError, ConfigError) as err:  # the case does not allow it now
        return "refused", str(err), None
    except HubError as err:
        return "failed", str(err), None
    return reply.status, reply.message, reply.id


async def run_after_sync(hub: Hub, shop_name: str) -> list[RunReport]:
    """Run every enabled rule that covers ``shop_name`` (after that shop's sync)."""
    if await repo.is_paused(hub.engine):
        return []
    reports = []
    for rule in await repo.all_rules(hub.engine):
        if rule.enabled and shop_name in (rule.shops or []):
            reports.append(await run_rule(hub, rule, [shop_name]))
    return reports


__all__ = [
    "DryRun",
    "Hit",
    "RunReport",
    "actor_of",
    "check_action",
    "dry_run",
    "key_of",
    "money_moves",
    "run_after_sync",
    "run_rule",
]
