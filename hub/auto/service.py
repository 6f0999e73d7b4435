"""Adding an auto-rule with every check (the CLI and the page share it), and its listing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..money import yuan_to_fen
from ..runtime import Hub
from ..store.shops import list_shop_rows
from . import repo
from .expr import parse
from .runner import check_action, money_moves


def cap_fen(text: str | None) -> int | None:
    """``--daily-cap-yuan``: yuan with at most two decimals, more than zero."""
    if text in (None, ""):
        return None
    try:
        fen = yuan_to_fen(str(text))
    except ValueError:
        raise ConfigError(
            f"--daily-cap-yuan {text!r}: give yuan with at most two decimals, e.g. 50 or 49.90"
        ) from None
    if fen <= 0:
        raise ConfigError(f"--daily-cap-yuan {text!r}: the cap must be more than 0")
    return fen


async def add_rule(
    hub: Hub,
    *,
    name: str,
    shops: Sequence[str],
    condition: str,
    action: str,
    params: Mapping[str, Any],
    daily_cap_yuan: str | None,
    actor: str,
) -> Any:
    """Check and save a rule (a new version when the name exists; it starts disabled)."""
    repo.check_name(name)
    if not shops:
        raise ConfigError("--shops: name at least one shop")
    rows = {r.name: r for r in await list_shop_rows(hub.engine)}
    missing = [s for s in shops if s not in rows]
    if missing:
        raise ConfigError(f"--shops: no shop named {', '.join(missing)} (see `hub shop list`)")
    parse(condition)  # a ConditionError names the column
    platforms = {rows[s].platform for s in shops}
    check_action(hub, action, platforms, params)
    cap = cap_fen(daily_cap_yuan)
    if money_moves(hub, action, platforms) and cap is None:
        raise ConfigError(
            f"--do {action} moves money: give --daily-cap-yuan N (the most it may pay out per Beijing day)"
        )
    return await repo.save_rule(
        hub.engine,
        name=name,
        shops=list(shops),
        condition=condition,
        action=action,
        params=params,
        daily_cap_fen=cap,
        actor=actor,
        now=hub.now(),
    )


def rule_dict(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "enabled": row.enabled,
        "shops": list(row.shops or []),
        "condition": row.condition,
        "action": row.action,
        "params": dict(row.params or {}),
        "daily_cap_fen": row.daily_cap_fen,
        "updated_at": row.updated_at.isoformat(),
    }


def run_dict(row: Any) -> dict[str, Any]:
    return {
        "rule": row.name,
        "version": row.version,
        "at": row.at.isoformat(),
        "day": row.day,
        "case_id": row.after_sale_id,
        "action": row.action,
        "amount_fen": row.amount_fen,
        "outcome": row.outcome,
        "message": row.message,
    }


def version_dict(row: Any) -> dict[str, Any]:
    return {
        "version": row.version,
        "shops": list(row.shops or []),
        "condition": row.condition,
        "action": row.action,
        "params": dict(row.params or {}),
        "daily_cap_fen": row.daily_cap_fen,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }
