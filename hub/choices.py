"""Choices for action parameters: the shop's own values a plugin offers for a ``dynamic_choices``
parameter (Taobao's return addresses for ``agree_return``'s ``address_id``), asked of the adapter's
optional ``param_choices`` and cached per shop.

Why a cache: the case page asks on every render, and a shop's return addresses change rarely. An
answer (even an empty one) is kept for :data:`CHOICES_TTL`; a failure is not cached for long
(:data:`FAILURE_TTL`), so a platform that was briefly unreachable is asked again soon. A parameter
without choices (no ``param_choices`` method, an empty answer, a platform error) stays a text field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from .errors import HubError, PlatformError
from .platform import Choice, ChoiceSource, PlatformInfo
from .runtime import Hub
from .store.shops import get_shop_row_by_id, shop_from_row

log = structlog.get_logger(__name__)

#: how long a shop's answer is reused
CHOICES_TTL = timedelta(minutes=10)
#: how long a failed ask is remembered (the form shows a text field meanwhile)
FAILURE_TTL = timedelta(minutes=1)


@dataclass(frozen=True)
class _Entry:
    choices: tuple[Choice, ...]
    until: datetime


def _cache(hub: Hub) -> dict[tuple[int, str, str], _Entry]:
    # kept on the Hub itself (a dataclass, so not hashable as a weak key): it lives and dies with it
    cache: dict[tuple[int, str, str], _Entry] | None = hub.__dict__.get("_param_choices")
    if cache is None:
        cache = hub.__dict__["_param_choices"] = {}
    return cache


def wanted(info: PlatformInfo) -> list[tuple[str, str]]:
    """(action, parameter) of every supported capability parameter that takes the shop's choices."""
    return [
        (cap.action, p.name)
        for cap in info.capabilities
        if cap.supported
        for p in cap.params
        if p.dynamic_choices
    ]


async def shop_choices(hub: Hub, shop_id: int) -> dict[str, dict[str, list[Choice]]]:
    """``{action: {param: [Choice, ...]}}`` for one shop, only where the adapter offers values."""
    row = await get_shop_row_by_id(hub.engine, shop_id)
    info = hub.registry.platforms.get(row.platform)
    if info is None:
        return {}
    pairs = wanted(info)
    if not pairs:
        return {}
    cache = _cache(hub)
    now = hub.now()
    out: dict[str, dict[str, list[Choice]]] = {}
    missing = [(a, p) for a, p in pairs if (e := cache.get((shop_id, a, p))) is None or e.until <= now]
    if missing:
        adapter: Any = hub.adapter(shop_from_row(row))
        try:
            for action, param in missing:
                cache[(shop_id, action, param)] = await _ask(adapter, row.name, action, param, now)
        finally:
            await adapter.close()
    for action, param in pairs:
        entry = cache.get((shop_id, action, param))
        if entry is not None and entry.choices:
            out.setdefault(action, {})[param] = list(entry.choices)
    return out


async def _ask(adapter: Any, shop: str, action: str, param: str, now: datetime) -> _Entry:
    if not isinstance(adapter, ChoiceSource):
        return _Entry((), now + CHOICES_TTL)
    try:
        got: Sequence[Choice] = await adapter.param_choices(action, param)
    except (PlatformError, HubError) as err:
        log.warning("param_choices_failed", shop=shop, action=action, param=param, error=str(err))
        return _Entry((), now + FAILURE_TTL)
    return _Entry(tuple(c for c in got if isinstance(c, Choice) and c.value), now + CHOICES_TTL)


def forget(hub: Hub, shop_id: int | None = None) -> None:
    """Drop the cached choices (of one shop, or all): the next page asks the platform again."""
    cache = _cache(hub)
    for key in [k for k in cache if shop_id is None or k[0] == shop_id]:
        del cache[key]
