"""The two calls a shop's sync makes: scheduled shop-policy values come in force before it, and
the shop's auto-rules run after it. Neither can fail the sync: a problem is logged and kept in the
sync's warnings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog

from ..domain import Shop
from ..runtime import Hub

log = structlog.get_logger("hub.auto")


async def before_shop_sync(hub: Hub, shop: Shop) -> Shop:
    """Put the shop's policy values whose time has come in force (re-evaluating its cases); the
    shop with the settings the sync must use."""
    from ..policy.store import apply_due

    try:
        applied = await apply_due(hub, shop.name)
    except Exception as err:  # never stops the sync
        log.error("policy_apply_failed", shop=shop.name, error=f"{type(err).__name__}: {err}")
        return shop
    if applied is None or not applied.settings_changed:
        return shop
    return replace(shop, settings={**shop.settings, **applied.settings_changed})


async def after_shop_sync(hub: Hub, shop: Shop, summary: Any) -> None:
    """Run the auto-rules covering the shop once its sync finished (ok or partial)."""
    from .runner import run_after_sync

    if summary.status not in ("ok", "partial"):
        return
    try:
        reports = await run_after_sync(hub, shop.name)
    except Exception as err:  # an auto-rule's problem is not the sync's
        log.error("auto_rules_failed", shop=shop.name, error=f"{type(err).__name__}: {err}", exc_info=True)
        summary.warnings.append(f"auto-rules: {type(err).__name__}: {err}")
        return
    for r in reports:
        if r.acted or r.stopped:
            log.info("auto_rule_ran", shop=shop.name, rule=r.rule, acted=len(r.acted), stopped=r.stopped)
