"""Shop policy values in the store: set (with an effective time), read (in force, scheduled,
history), and put in force: the values drive the shop's rule settings, and the shop's open cases
and order work items are re-evaluated at once.

The value in force at a moment is the latest row whose ``effective_at`` has passed; with none the
key's default applies (or, for a key that drives a rule setting, a value the shop set on that
setting by hand). Due times are computed with the values in force when they are computed: a change
re-evaluates every open case and live order of the shop, whenever its clock started.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConfigError
from ..platform import PlatformInfo
from ..runtime import Hub
from ..store.base import tbl
from ..store.models import AfterSaleRecord, OrderRecord, ShopRecord
from ..store.nextaction import LIVE_ORDER_STATUSES, recompute_shop, rules_digest
from ..store.policy_models import ShopPolicyRecord
from ..store.shops import shop_from_row, validate_settings
from .keys import BY_KEY, KEYS, parse_value, same_value

log = structlog.get_logger("hub.policy")

P = tbl(ShopPolicyRecord)
SHOPS = tbl(ShopRecord)
CASES = tbl(AfterSaleRecord)
ORDERS = tbl(OrderRecord)


@dataclass
class Current:
    """One key's value in force for a shop, where it comes from, and what is scheduled."""

    key: str
    value: str
    source: str  #: default, set, shop_setting
    since: datetime | None = None  #: effective time of the row in force (source ``set``)
    set_by: str | None = None
    drives: list[str] = field(default_factory=list)  #: the rule settings this shop's platform has
    scheduled: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source,
            "since": self.since.isoformat() if self.since else None,
            "set_by": self.set_by,
            "label_zh": BY_KEY[self.key].label_zh,
            "kind": BY_KEY[self.key].kind,
            "default": BY_KEY[self.key].default,
            "help": BY_KEY[self.key].help,
            "help_zh": BY_KEY[self.key].help_zh,
            "drives": self.drives,
            "scheduled": self.scheduled,
        }


@dataclass
class Applied:
    """What putting a shop's policy in force did."""

    shop: str
    settings_changed: dict[str, str]
    cases: int = 0  #: open cases re-evaluated
    orders: int = 0  #: live orders re-evaluated
    changed: int = 0  #: stored next actions that changed

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "settings_changed": self.settings_changed,
            "reevaluated_cases": self.cases,
            "reevaluated_orders": self.orders,
            "changed": self.changed,
        }


async def shop_row_named(conn: AsyncConnection, name: str) -> Any:
    row = (await conn.execute(select(SHOPS).where(SHOPS.c.name == name))).first()
    if row is None:
        raise ConfigError(f"no shop named {name!r} (see `hub shop list`)")
    return row


def _declared(info: PlatformInfo | None) -> set[str]:
    return {s.name for s in info.settings} if info else set()


async def policy_state(
    conn: AsyncConnection, shop: Any, info: PlatformInfo | None, now: datetime
) -> dict[str, Current]:
    """Every key's value in force for the shop row ``shop`` at ``now``, with what is scheduled."""
    rows = (
        await conn.execute(select(P).where(P.c.shop_id == shop.id).order_by(P.c.effective_at, P.c.id))
    ).all()
    declared = _declared(info)
    out: dict[str, Current] = {}
    for spec in KEYS:
        drives = [s for s in spec.drives if s in declared]
        cur = Current(key=spec.key, value=spec.default, source="default", drives=drives)
        for s in drives:  # a value set on the platform setting by hand, before policies existed
            own = (shop.settings or {}).get(s)
            if own and not same_value(spec.key, str(own), spec.default):
                try:
                    cur.value, cur.source = parse_value(spec.key, str(own)), "shop_setting"
                except ConfigError:
                    pass
                break
        for r in rows:
            if r.key != spec.key:
                continue
            if r.effective_at <= now:
                cur.value, cur.source, cur.since, cur.set_by = r.value, "set", r.effective_at, r.set_by
            else:
                cur.scheduled.append(
                    {"value": r.value, "from": r.effective_at.isoformat(), "set_by": r.set_by}
                )
        out[spec.key] = cur
    return out


async def history(conn: AsyncConnection, shop_id: int) -> list[dict[str, Any]]:
    """Every value ever set for the shop, newest first."""
    rows = (
        await conn.execute(select(P).where(P.c.shop_id == shop_id).order_by(P.c.set_at.desc(), P.c.id.desc()))
    ).all()
    return [
        {
            "key": r.key,
            "value": r.value,
            "from": r.effective_at.isoformat(),
            "set_at": r.set_at.isoformat(),
            "set_by": r.set_by,
        }
        for r in rows
    ]


def parse_assignments(pairs: Mapping[str, str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs checked and made canonical (the first bad one raises, naming it)."""
    if not pairs:
        raise ConfigError("give at least one KEY=VALUE (keys: " + ", ".join(BY_KEY) + ")")
    return {key: parse_value(key, value) for key, value in pairs.items()}


async def set_policy(
    hub: Hub,
    shop_name: str,
    values: Mapping[str, str],
    *,
    effective_at: datetime | None,
    actor: str,
) -> Applied:
    """Record ``values`` (checked) for the shop from ``effective_at`` (default now), then put what is
    in force now into effect (re-evaluating the shop's open cases and order work items)."""
    canonical = parse_assignments(values)
    now = hub.now()
    async with hub.engine.begin() as conn:
        shop = await shop_row_named(conn, shop_name)
        for key, value in canonical.items():
            await conn.execute(
                insert(P).values(
                    shop_id=shop.id,
                    key=key,
                    value=value,
                    effective_at=effective_at or now,
                    set_at=now,
                    set_by=actor[:120],
                )
            )
    log.info("policy_set", shop=shop_name, values=canonical, effective_at=(effective_at or now).isoformat())
    return await apply_policy(hub, shop_name, force=True)


async def apply_policy(hub: Hub, shop_name: str, *, force: bool = False) -> Applied:
    """Write the values in force into the shop's rule settings; when they change (or ``force``),
    re-evaluate the shop's open cases and live orders in the same transaction."""
    now = hub.now()
    async with hub.engine.begin() as conn:
        shop = await shop_row_named(conn, shop_name)
        info = hub.registry.platforms.get(shop.platform)
        state = await policy_state(conn, shop, info, now)
        want: dict[str, str] = {}
        for cur in state.values():
            if cur.source == "set":
                for setting in cur.drives:
                    want[setting] = cur.value
        settings = dict(shop.settings or {})
        changed = {k: v for k, v in want.items() if settings.get(k) != v}
        await conn.execute(
            update(P)
            .where(P.c.shop_id == shop.id, P.c.effective_at <= now, P.c.applied_at.is_(None))
            .values(applied_at=now)
        )
        result = Applied(shop=shop_name, settings_changed=changed)
        if not changed and not force:
            return result
        if changed and info is not None:
            settings.update(validate_settings(info, changed, partial=True))
            await conn.execute(update(SHOPS).where(SHOPS.c.id == shop.id).values(settings=settings))
        if info is None:  # the shop's plugin is not installed: nothing can be evaluated
            return result
        adapter = hub.adapter(replace(shop_from_row(shop, resolve=False), settings=settings))
        try:
            table = adapter.rule_table()
        finally:
            await adapter.close()
        result.cases = int(
            (
                await conn.execute(
                    select(func.count()).where(CASES.c.shop_id == shop.id, CASES.c.is_open.is_(True))
                )
            ).scalar_one()
        )
        result.orders = int(
            (
                await conn.execute(
                    select(func.count()).where(
                        ORDERS.c.shop_id == shop.id, ORDERS.c.status.in_(LIVE_ORDER_STATUSES)
                    )
                )
            ).scalar_one()
        )
        side = info.merchant_side
        result.changed = await recompute_shop(conn, shop.id, table, settings, side)
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop.id)
            .values(rules_digest=rules_digest(table, settings, side))
        )
    log.info("policy_applied", **result.as_dict())
    return result


async def due_policy_shops(hub: Hub) -> list[str]:
    """Shops with a value whose effective time has passed but that is not in force yet."""
    now = hub.now()
    async with hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(SHOPS.c.name)
                .join(P, P.c.shop_id == SHOPS.c.id)
                .where(P.c.effective_at <= now, P.c.applied_at.is_(None))
                .distinct()
            )
        ).all()
    return sorted(r.name for r in rows)


async def apply_due(hub: Hub, shop_name: str) -> Applied | None:
    """Before a shop's sync: put scheduled values whose time has come in force (None: nothing due)."""
    if shop_name not in await due_policy_shops(hub):
        return None
    return await apply_policy(hub, shop_name, force=True)


async def setting_policy(hub: Hub, shop: Any, setting: str) -> dict[str, Any] | None:
    """The policy key behind one rule setting of a shop, with its value in force, or None."""
    info = hub.registry.platforms.get(shop.platform)
    async with hub.engine.connect() as conn:
        state = await policy_state(conn, shop, info, hub.now())
    for cur in state.values():
        if setting in cur.drives:
            return {**cur.as_dict(), "setting": setting}
    return None


__all__ = [
    "Applied",
    "Current",
    "apply_due",
    "apply_policy",
    "due_policy_shops",
    "history",
    "parse_assignments",
    "policy_state",
    "set_policy",
    "setting_policy",
    "shop_row_named",
]
