"""The demo's shop-policy and auto-rule part: a policy value that moves a deadline on the work
list, and an auto-rule with its dry-run and one automatic action (``hub demo`` prints the lines)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..clock import CST
from ..money import fen_to_yuan
from ..runtime import Hub
from ..store.base import tbl
from ..store.models import AfterSaleRecord, ShopRecord
from .explain import deadline_policy
from .keys import BY_KEY
from .store import set_policy

C = tbl(AfterSaleRecord)
S = tbl(ShopRecord)

POLICY_KEY = "unshipped_refund_within"
POLICY_VALUE = "12h"
RULE = "small-unshipped-refunds"
CONDITION = 'kind == "refund_only" and status == "requested" and not order.shipped and small_refund'
CAP_YUAN = "100"
#: the demo shops' small refunds: up to 50 yuan agreed at once (the default is 10 yuan)
SMALL_REFUND_FEN = "5000"


def _bj(at: Any) -> str:
    return at.astimezone(CST).strftime("%m-%d %H:%M") if at else "-"


async def _policy_case(hub: Hub) -> tuple[Any, Any] | None:
    """A shop whose rules read the key's setting, and its soonest open case on such a clock."""
    drives = set(BY_KEY[POLICY_KEY].drives)
    async with hub.engine.connect() as conn:
        shops = (await conn.execute(select(S).order_by(S.c.name))).all()
        for shop in shops:
            info = hub.registry.platforms.get(shop.platform)
            if info is None or not drives & {s.name for s in info.settings}:
                continue
            rows = (
                await conn.execute(
                    select(C)
                    .where(C.c.shop_id == shop.id, C.c.is_open.is_(True), C.c.deadline_source == "policy")
                    .order_by(C.c.work_due_at, C.c.id)
                )
            ).all()
            for row in rows:
                note = await deadline_policy(
                    hub, shop.name, {"source": "policy", "rule_id": row.deadline_rule_id}
                )
                if note and note["key"] == POLICY_KEY:
                    return shop, row
    return None


async def demo_policy_and_auto(hub: Hub) -> list[str]:
    """Set the policy, run the auto-rule; the lines to print."""
    from ..auto import repo
    from ..auto.runner import dry_run, run_rule
    from ..auto.service import add_rule

    out: list[str] = ["", "Shop policy:"]
    found = await _policy_case(hub)
    if found is None:
        out.append(f"  (no shop has an open case on a clock {POLICY_KEY} drives)")
    else:
        shop, before = found
        applied = await set_policy(
            hub, shop.name, {POLICY_KEY: POLICY_VALUE}, effective_at=None, actor="demo"
        )
        async with hub.engine.connect() as conn:
            after = (await conn.execute(select(C).where(C.c.id == before.id))).one()
        out.append(
            f"  hub policy set {shop.name} {POLICY_KEY}={POLICY_VALUE}: re-evaluated {applied.cases} open "
            f"cases and {applied.orders} orders ({applied.changed} next actions changed)"
        )
        out.append(
            f"  case {after.id} ({after.external_id}, {after.deadline_rule_id}): "
            f"due {_bj(before.deadline_due_at)} "
            f"→ {_bj(after.deadline_due_at)} Beijing time, source policy ({POLICY_KEY} = {POLICY_VALUE})"
        )
    # the auto-rule: every shop whose platform can agree a refund
    async with hub.engine.connect() as conn:
        shops = (await conn.execute(select(S.c.name, S.c.platform).order_by(S.c.name))).all()
    names = []
    for name, pid in shops:
        info = hub.registry.platforms.get(pid)
        cap = info.capability("agree_refund") if info else None
        if cap is not None and cap.supported:
            names.append(name)
    out += ["", f"Auto-rule {RULE}: agree_refund when {CONDITION} (daily cap {CAP_YUAN} yuan)"]
    if not names:
        out.append("  (no shop can agree a refund)")
        return out
    for name in names:  # the condition's small_refund reads each shop's policy
        await set_policy(hub, name, {"small_refund_fen": SMALL_REFUND_FEN}, effective_at=None, actor="demo")
    out.append(f"  hub policy set {{{','.join(names)}}} small_refund_fen={SMALL_REFUND_FEN}")
    rule = await add_rule(
        hub,
        name=RULE,
        shops=names,
        condition=CONDITION,
        action="agree_refund",
        params={},
        daily_cap_yuan=CAP_YUAN,
        actor="demo",
    )
    result = await dry_run(hub, rule, timedelta(days=30))
    out.append(
        f"  dry-run: {len(result.now)} open cases now ({fen_to_yuan(result.money_now_fen)} yuan), "
        f"{len(result.history)} over 30 days ({fen_to_yuan(result.money_history_fen)} yuan)"
    )
    for h in (result.now + result.history)[:6]:
        capped = " (over the daily cap)" if h.capped else ""
        out.append(
            f"    {h.when:<7} case {h.case_id} {h.platform}/{h.shop} {h.external_id} "
            f"{fen_to_yuan(h.refund_fen)} yuan{capped}"
        )
    rule = await repo.set_enabled(hub.engine, RULE, True, hub.now())
    report = await run_rule(hub, rule)
    for a in report.acted:
        out.append(
            f"  acted: case {a['case_id']} ({a['shop']}) agree_refund → {a['outcome']}, "
            f"{fen_to_yuan(a['amount_fen'])} yuan, as 自动规则 {RULE} v{rule.version}"
        )
    if not report.acted:
        out.append("  acted on no case" + (f" ({report.stopped})" if report.stopped else ""))
    return out
