"""The logistics watch: find the parcels the hub knows, poll them, read what the merchant must do.

Parcels come from the store: the outbound waybill of every order that has a case, every case's
return waybill, a reship's waybill (case fact ``reship_waybill``), and waybills added by hand
(``hub parcels add``). Each is polled every ``HUB_PARCEL_POLL_MINUTES`` through the configured
tracker, paced by an aiolimiter rate (``HUB_TRACKER_RATE`` queries/s), until it reaches a final
state. What a parcel's state asks of the merchant becomes a logistics-driven next action on its
case, due ``HUB_PARCEL_ACTION_HOURS`` after it was seen (see :data:`ACTIONS`).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiolimiter import AsyncLimiter
from sqlalchemy import and_, insert, or_, select, true, update

from ..domain import DeadlineSource, NextAction, OnExpiry, Party
from ..errors import ConfigError
from ..store.base import tbl
from ..store.models import AfterSaleRecord, OrderRecord, ShopRecord
from ..store.nextaction import apply_side_action, refresh_chain
from .kuaidi100 import company_code
from .records import ParcelRecord
from .tracker import Tracker, TrackerContext, TrackingError, tracker_factories

log = structlog.get_logger("hub.logistics")

PARCELS, CASES, ORDERS = tbl(ParcelRecord), tbl(AfterSaleRecord), tbl(OrderRecord)
SHOPS = tbl(ShopRecord)
LOOKBACK = timedelta(days=30)
#: refusals of the account itself (bad sign, key expired or out of quota): stop the pass
ACCOUNT_ERRORS = frozenset({"503", "601"})
#: parcels polled per pass at most (the rest wait for the next pass): a pass runs after each
#: shop's sync, so it stays short (``HUB_PARCEL_PER_PASS``)

#: what each parcel state asks of the merchant: action, Chinese and English consequence
ACTIONS: Mapping[str, tuple[str, str, str]] = {
    "signed_return": (
        "confirm_return_receipt",
        "退货已签收，请核对并确认收货",
        "the return was signed for: check it and confirm receipt",
    ),
    "signed_outbound": (
        "verify_signed_with_courier",
        "快递显示已签收，买家仍在售后：核实签收",
        "the courier says signed while the buyer's request is open: verify the signature",
    ),
    "returned": (
        "handle_returned_parcel",
        "包裹退回：联系买家，补发或退款",
        "the parcel went back to the sender: contact the buyer, reship or refund",
    ),
    "out_of_area": (
        "arrange_other_courier",
        "超区无法派送：改发其他快递或协商退款",
        "out of the courier's area: ship with another courier or agree a refund",
    ),
    "stalled": (
        "follow_up_courier",
        "物流长时间无更新：联系快递核实",
        "no movement for too long: follow up with the courier",
    ),
    "problem": (
        "follow_up_courier",
        "疑难件：联系快递处理",
        "the courier reports a problem: follow up with it",
    ),
}


@dataclass(frozen=True)
class WatchSettings:
    """The watch's settings, from the environment (``HUB_*``)."""

    tracker: str = "kuaidi100"
    default_company: str | None = None
    stall: timedelta = timedelta(hours=72)
    action_within: timedelta = timedelta(hours=24)
    poll_every: timedelta = timedelta(minutes=120)
    rate: float = 5.0
    per_pass: int = 25
    env: Mapping[str, str] = field(default_factory=dict)
    #: platforms on which the merchant is the buyer (sourcing): their returns go to the supplier,
    #: so a signed return asks nothing of the merchant
    sourcing: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WatchSettings:
        env = dict(os.environ if env is None else env)

        def number(name: str, default: float) -> float:
            text = env.get(name)
            if not text:
                return default
            try:
                value = float(text)
            except ValueError:
                raise ConfigError(f"{name} must be a number, not {text!r}") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, not {text!r}")
            return value

        return cls(
            tracker=env.get("HUB_TRACKER") or "kuaidi100",
            default_company=env.get("HUB_PARCEL_COMPANY") or None,
            stall=timedelta(hours=number("HUB_PARCEL_STALL_HOURS", 72)),
            action_within=timedelta(hours=number("HUB_PARCEL_ACTION_HOURS", 24)),
            poll_every=timedelta(minutes=number("HUB_PARCEL_POLL_MINUTES", 120)),
            rate=number("HUB_TRACKER_RATE", 5),
            per_pass=int(number("HUB_PARCEL_PER_PASS", 25)),
            env=env,
        )


def watch_settings(hub: Any) -> WatchSettings:
    """The settings from the environment, with the hub's sourcing platforms."""
    sourcing = frozenset(
        pid for pid, info in hub.registry.platforms.items() if info.merchant_side is Party.BUYER
    )
    return replace(WatchSettings.from_env(), sourcing=sourcing)


@dataclass
class WatchResult:
    found: int = 0
    polled: int = 0
    changed: int = 0
    actions: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "polled": self.polled,
            "changed": self.changed,
            "actions": self.actions,
            "errors": self.errors,
        }


async def discover(
    engine: Any, now: datetime, settings: WatchSettings, shop_ids: Collection[int] | None
) -> int:
    """Add the parcels of recent cases not watched yet, and tie an unmatched parcel to the case
    whose waybill it is. Returns how many parcels were added."""
    recent = or_(CASES.c.is_open.is_(True), CASES.c.platform_updated_at >= now - LOOKBACK)
    scope = CASES.c.shop_id.in_(list(shop_ids) or [-1]) if shop_ids is not None else true()
    found: dict[str, dict[str, Any]] = {}
    async with engine.connect() as conn:
        outbound = await conn.execute(
            select(ORDERS.c.waybill, ORDERS.c.data, CASES.c.id, CASES.c.shop_id, CASES.c.order_external_id)
            .join(
                CASES,
                and_(CASES.c.shop_id == ORDERS.c.shop_id, CASES.c.order_external_id == ORDERS.c.external_id),
            )
            .where(ORDERS.c.waybill.is_not(None), ORDERS.c.waybill != "", recent, scope)
        )
        for wb, data, case_id, shop_id, order_id in outbound:
            facts = (data or {}).get("facts") or {}
            com = (
                company_code(facts.get("company") or facts.get("logistics_company"))
                or settings.default_company
            )
            found.setdefault(wb, _row(wb, com, "outbound", shop_id, case_id, order_id, now))
        cases = await conn.execute(
            select(
                CASES.c.id, CASES.c.shop_id, CASES.c.order_external_id, CASES.c.return_waybill, CASES.c.data
            ).where(recent, scope)
        )
        for case_id, shop_id, order_id, rwb, data in cases:
            facts = (data or {}).get("facts") or {}
            if rwb:
                com = company_code(facts.get("return_company") or facts.get("return_courier"))
                found[rwb] = _row(
                    rwb, com or settings.default_company, "return", shop_id, case_id, order_id, now
                )
            if facts.get("reship_waybill"):
                wb = str(facts["reship_waybill"])
                com = company_code(facts.get("reship_company")) or settings.default_company
                found[wb] = _row(wb, com, "reship", shop_id, case_id, order_id, now)
        if not found:
            return 0
        existing = {
            r.waybill: r
            for part in _chunks(sorted(found))
            for r in await conn.execute(
                select(PARCELS.c.id, PARCELS.c.waybill, PARCELS.c.after_sale_id, PARCELS.c.company).where(
                    PARCELS.c.waybill.in_(part)
                )
            )
        }
    new_rows = [row for wb, row in found.items() if wb not in existing]
    async with engine.begin() as conn:
        if new_rows:  # one executemany: a sync's statements stay amortised per record
            await conn.execute(insert(PARCELS), new_rows)
        for wb, row in found.items():
            old = existing.get(wb)
            if old is None:
                continue
            elif old.after_sale_id is None or (old.company is None and row["company"]):
                # a parcel added by hand (a return that came back with no case) now has its case
                values: dict[str, Any] = {"updated_at": now}
                if old.after_sale_id is None:
                    values.update(
                        after_sale_id=row["after_sale_id"], shop_id=row["shop_id"], matched_by="auto"
                    )
                    values["order_external_id"] = row["order_external_id"]
                if old.company is None and row["company"]:
                    values.update(company=row["company"], state="pending")
                await conn.execute(update(PARCELS).where(PARCELS.c.id == old.id).values(**values))
    return len(new_rows)


def _chunks(items: list[str], n: int = 500) -> list[list[str]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def _row(
    wb: str, com: str | None, role: str, shop_id: int, case_id: int, order_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "waybill": wb,
        "company": com,
        "role": role,
        "shop_id": shop_id,
        "after_sale_id": case_id,
        "order_external_id": order_id,
        "state": "pending" if com else "unknown_company",
        "final": False,
        "traces": [],
        "created_at": now,
        "updated_at": now,
    }


def make_tracker(hub: Any, settings: WatchSettings) -> Tracker:
    factories = tracker_factories(hub.pm)
    factory = factories.get(settings.tracker)
    if factory is None:
        raise ConfigError(
            f"HUB_TRACKER: no tracker {settings.tracker!r} (installed: {', '.join(sorted(factories))})"
        )
    return factory(TrackerContext(http=hub.http, env=settings.env))


async def poll(
    hub: Any,
    tracker: Tracker,
    settings: WatchSettings,
    now: datetime,
    shop_ids: Collection[int] | None,
    result: WatchResult,
) -> None:
    """Query the due parcels (not final, courier known), paced by the rate limit; stop the pass
    when the service asks to slow down."""
    stmt = (
        select(
            PARCELS,
            CASES.c.status.label("case_status"),
            CASES.c.kind.label("case_kind"),
            CASES.c.is_open,
            SHOPS.c.platform.label("platform"),
        )
        .outerjoin(CASES, CASES.c.id == PARCELS.c.after_sale_id)
        .outerjoin(SHOPS, SHOPS.c.id == PARCELS.c.shop_id)
        .where(
            PARCELS.c.final.is_(False),
            PARCELS.c.company.is_not(None),
            or_(PARCELS.c.next_poll_at.is_(None), PARCELS.c.next_poll_at <= now),
        )
        .order_by(PARCELS.c.next_poll_at.is_not(None), PARCELS.c.next_poll_at, PARCELS.c.id)
        .limit(settings.per_pass)
    )
    if shop_ids is not None:
        stmt = stmt.where(or_(PARCELS.c.shop_id.in_(list(shop_ids) or [-1]), PARCELS.c.shop_id.is_(None)))
    async with hub.engine.connect() as conn:
        due = (await conn.execute(stmt)).all()
    limiter = AsyncLimiter(settings.rate, 1)
    for p in due:
        async with limiter:
            values: dict[str, Any] = {
                "polled_at": now,
                "updated_at": now,
                "next_poll_at": now + settings.poll_every,
            }
            try:
                t = await tracker.track(p.company, p.waybill, p.phone_tail)
            except TrackingError as err:
                values["last_error"] = str(err)[:500]
                if err.no_result:
                    values["state"] = _stalled_or(p, "no_trace", None, settings, now)
                else:
                    values["next_poll_at"] = p.next_poll_at  # not the parcel's fault: due again next pass
                await _write(hub.engine, p, values, settings, now, result)
                if err.retry_after is not None or err.code in ACCOUNT_ERRORS:
                    # the service asks to slow down, or refuses the account: every query would fail
                    result.errors.append(f"{p.waybill}: {err} (the pass stops; the rest wait)")
                    return
                if err.no_result:
                    result.polled += 1  # nothing known yet is an answer (no_trace), not an error
                else:
                    result.errors.append(f"{p.waybill}: {err}")
                continue
        result.polled += 1
        newest = t.traces[0] if t.traces else None
        last_at = newest.at if newest and newest.at else p.last_event_at
        state = t.state
        if p.state == "returned" and state == "signed":
            state = "returned"  # signed for by the sender: it came back
        if not t.final:
            state = _stalled_or(p, state, last_at, settings, now)
        values.update(
            tracker_state=t.code,
            state=state,
            final=t.final,
            last_event_at=last_at,
            last_context=newest.context if newest else p.last_context,
            last_error=None,
            traces=[
                {
                    "at": x.at.isoformat() if x.at else None,
                    "context": x.context,
                    "area": x.area,
                    "status": x.status,
                }
                for x in t.traces[:50]
            ],
        )
        if t.final:
            values["next_poll_at"] = None
        await _write(hub.engine, p, values, settings, now, result)


def _stalled_or(p: Any, state: str, last_at: datetime | None, settings: WatchSettings, now: datetime) -> str:
    """``stalled`` when a moving (or silent) parcel has not moved for longer than the threshold."""
    if state not in ("in_transit", "delivering", "no_trace", "pending"):
        return state
    since = last_at or p.created_at
    return "stalled" if since is not None and now - since > settings.stall else state


def action_for(
    state: str,
    role: str,
    case_status: str | None,
    case_kind: str | None,
    is_open: bool | None,
    sourcing: bool = False,
) -> str | None:
    """Which :data:`ACTIONS` entry a parcel's state calls for, given its case (None: nothing).
    On a sourcing platform the merchant's return goes to the supplier: its signature asks
    nothing of the merchant."""
    if state == "signed":
        if sourcing:
            return None
        if role == "return" and case_status == "return_shipped":
            return "signed_return"
        if role in ("outbound", "reship") and is_open and case_kind in ("refund_only", "reship"):
            return "signed_outbound"
        return None
    if state in ("returned", "out_of_area", "stalled", "problem"):
        return state
    return None


async def _write(
    engine: Any, p: Any, values: dict[str, Any], settings: WatchSettings, now: datetime, result: WatchResult
) -> None:
    state = values.get("state", p.state)
    key = action_for(state, p.role, p.case_status, p.case_kind, p.is_open, p.platform in settings.sourcing)
    action = ACTIONS[key][0] if key else None
    values["action"] = action
    # the due time counts from when the merchant was first asked: a re-poll does not move it
    values["action_due_at"] = (
        p.action_due_at
        if action and action == p.action and p.action_due_at
        else (now + settings.action_within if action else None)
    )
    if state != p.state or action != p.action:
        result.changed += 1
    async with engine.begin() as conn:
        await conn.execute(update(PARCELS).where(PARCELS.c.id == p.id).values(**values))


def side_action(parcel: Any) -> NextAction | None:
    """The logistics-driven next action of a parcel, or None."""
    key = next((k for k, v in ACTIONS.items() if v[0] == parcel.action), None)
    if key is None or parcel.action_due_at is None:
        return None
    action, zh, en = ACTIONS[key]
    return NextAction(
        party=Party.MERCHANT,
        action=action,
        due_at=parcel.action_due_at,
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh=zh,
        consequence_en=en,
        source=DeadlineSource.POLICY,
        rule_id=f"logistics.{parcel.state}",
        rule_source="shop policy: HUB_PARCEL_ACTION_HOURS after the logistics watch saw it",
        summary=f"{parcel.waybill}: {parcel.last_context or parcel.state}",
        summary_en=f"parcel {parcel.waybill} is {parcel.state}",
    )


async def apply_actions(engine: Any, shop_ids: Collection[int] | None) -> int:
    """Put each parcel's logistics action on its open case when it is due before the case's own
    merchant deadline. Re-applied after every sync (a case's recompute does not know parcels)."""
    stmt = (
        select(PARCELS)
        .join(CASES, CASES.c.id == PARCELS.c.after_sale_id)
        .where(PARCELS.c.action.is_not(None), CASES.c.is_open.is_(True))
    )
    if shop_ids is not None:
        stmt = stmt.where(PARCELS.c.shop_id.in_(list(shop_ids) or [-1]))
    n = 0
    async with engine.begin() as conn:
        wanted: set[tuple[int, str]] = set()
        for p in (await conn.execute(stmt)).all():
            a = side_action(p)
            if a is None:
                continue
            wanted.add((p.after_sale_id, f"logistics.{p.state}"))
            if await apply_side_action(conn, p.after_sale_id, a):
                n += 1
        # a case still showing a logistics action its parcel no longer asks for (the parcel moved
        # on) gets its rule-based next action back
        shown = select(
            CASES.c.id, CASES.c.shop_id, CASES.c.order_external_id, CASES.c.deadline_rule_id
        ).where(CASES.c.is_open.is_(True), CASES.c.deadline_rule_id.like("logistics.%"))
        if shop_ids is not None:
            shown = shown.where(CASES.c.shop_id.in_(list(shop_ids) or [-1]))
        stale = [r for r in (await conn.execute(shown)).all() if (r.id, r.deadline_rule_id) not in wanted]
        if stale:
            n += await refresh_chain(
                conn, [(r.shop_id, r.order_external_id) for r in stale], [r.id for r in stale]
            )
    return n


async def reevaluate(
    engine: Any, settings: WatchSettings, now: datetime, shop_ids: Collection[int] | None
) -> int:
    """Re-read each parcel's action against its case as it is now (a case moved on, a parcel
    was matched by hand): the action of a parcel that is not polled again still follows its case."""
    stmt = (
        select(
            PARCELS,
            CASES.c.status.label("case_status"),
            CASES.c.kind.label("case_kind"),
            CASES.c.is_open,
            SHOPS.c.platform.label("platform"),
        )
        .outerjoin(CASES, CASES.c.id == PARCELS.c.after_sale_id)
        .outerjoin(SHOPS, SHOPS.c.id == PARCELS.c.shop_id)
        .where(or_(PARCELS.c.action.is_not(None), PARCELS.c.after_sale_id.is_not(None)))
    )
    if shop_ids is not None:
        stmt = stmt.where(or_(PARCELS.c.shop_id.in_(list(shop_ids) or [-1]), PARCELS.c.shop_id.is_(None)))
    n = 0
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    for p in rows:
        key = action_for(
            p.state, p.role, p.case_status, p.case_kind, p.is_open, p.platform in settings.sourcing
        )
        action = ACTIONS[key][0] if key else None
        if action != p.action:
            result = WatchResult()
            await _write(engine, p, {"updated_at": now}, settings, now, result)
            n += 1
    return n


async def run_watch(
    hub: Any, shop_ids: Collection[int] | None = None, settings: WatchSettings | None = None
) -> WatchResult:
    """One pass: discover, poll what is due (when a tracker is configured), apply the actions."""
    settings = settings or watch_settings(hub)
    now = hub.now()
    result = WatchResult()
    result.found = await discover(hub.engine, now, settings, shop_ids)
    try:
        tracker = make_tracker(hub, settings)
    except ConfigError as err:
        result.errors.append(f"not polling: {err}")
    else:
        await poll(hub, tracker, settings, now, shop_ids, result)
    result.changed += await reevaluate(hub.engine, settings, now, shop_ids)
    result.actions = await apply_actions(hub.engine, shop_ids)
    if result.found or result.polled or result.changed:
        log.info("logistics_watch", **{k: v for k, v in result.as_dict().items() if k != "errors"})
    return result
