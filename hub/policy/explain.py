"""Which shop policy a deadline comes from: the policy key and its value, for the case page and
``hub case show`` (a deadline with source ``policy`` names them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..runtime import Hub
from ..store.base import tbl
from ..store.models import ShopRecord
from ..store.shops import shop_from_row
from .store import setting_policy

SHOPS = tbl(ShopRecord)


async def deadline_policy(
    hub: Hub, shop_name: str, action: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """For a next action with source ``policy``: ``{"setting", "value", "key", "since", ...}`` (the
    rule setting its figure comes from, the value in force, and the policy key behind it when one
    drives it); None for other sources or when the rule names no setting."""
    if not action or action.get("source") != "policy" or not action.get("rule_id"):
        return None
    via = action.get("via") or {}
    shop_name = via.get("shop") or shop_name
    async with hub.engine.connect() as conn:
        row = (await conn.execute(select(SHOPS).where(SHOPS.c.name == shop_name))).first()
    if row is None or row.platform not in hub.registry.platforms:
        return None
    adapter = hub.adapter(shop_from_row(row, resolve=False))
    try:
        try:
            rule = adapter.rule_table().rule(str(action["rule_id"]))
        except KeyError:
            return None
    finally:
        await adapter.close()
    if not rule.setting:
        return None
    # the figure the due time was computed with: the shop's setting, else the rule's own default
    own = (row.settings or {}).get(rule.setting)
    value = str(own) if own else (_text(rule.duration) if rule.duration is not None else None)
    found = await setting_policy(hub, row, rule.setting)
    return {
        "setting": rule.setting,
        "value": value,
        "key": found["key"] if found else None,
        "label_zh": found["label_zh"] if found else None,
        "source": found["source"] if found else ("shop_setting" if own else "default"),
        "since": found["since"] if found else None,
    }


def _text(span: Any) -> str:
    secs = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"
