"""Shops: add, list, remove, update; settings validated against the platform's SettingSpecs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..clock import parse_duration, utcnow
from ..domain import Shop
from ..errors import ConfigError, NotFoundError
from ..platform import PlatformInfo, SettingSpec
from ..scrub import scrub_text
from ..settings import check_settings
from .base import tbl
from .models import ShopRecord

SHOPS = tbl(ShopRecord)
DEFAULT_SYNC_EVERY = "5m"


#: settings every shop has, whatever its platform
CORE_SETTINGS = (
    SettingSpec(
        name="rate_limit",
        help="calls per second for this shop (default: the platform's published limit)",
        kind="number",
    ),
    SettingSpec(
        name="max_wait",
        help="longest wait a sync sleeps when the platform throttles it (default 5m); a platform "
        "asking for longer marks the shop rate-limited until then and later syncs skip it",
    ),
    SettingSpec(
        name="push",
        help="read the platform's push channel (TMC, PMC) for hints (default on); off stops trying",
        choices=("on", "off"),
    ),
    SettingSpec(
        name="sync_every",
        help=f"how often `hub worker` syncs this shop, e.g. 90s, 5m, 1h (default {DEFAULT_SYNC_EVERY})",
    ),
)


def sync_every(settings: Mapping[str, Any]) -> timedelta:
    """The shop's sync period (``sync_every``, default 5 minutes)."""
    return parse_duration(str(settings.get("sync_every") or DEFAULT_SYNC_EVERY))


def validate_settings(
    info: PlatformInfo, given: Mapping[str, str], *, partial: bool = False
) -> dict[str, str]:
    """Check ``given`` against the platform's settings; fill defaults. Secrets may be ``env:VAR``."""
    own = {s.name for s in info.settings}
    specs = (*info.settings, *(c for c in CORE_SETTINGS if c.name not in own))
    known = {s.name: s for s in specs if not s.name.endswith(".*")}
    prefixes = tuple(s.name[:-1] for s in specs if s.name.endswith(".*"))
    unknown = sorted(k for k in set(given) - set(known) if not (prefixes and k.startswith(prefixes)))
    if unknown:
        raise ConfigError(
            f"{info.id} has no setting {', '.join(unknown)} (settings: {', '.join(sorted(known)) or 'none'})"
        )
    out = dict(given)
    for spec in specs:
        if spec.name.endswith(".*"):
            continue
        value = out.get(spec.name)
        if value is None and not partial:
            if spec.default is not None:
                out[spec.name] = spec.default
            elif spec.required:
                raise ConfigError(f"{info.id} needs --set {spec.name}=... ({spec.help})")
    check_settings(info, known, given)
    if out.get("sync_every") is not None and "sync_every" not in own:
        try:
            period = sync_every(out)
        except ValueError as err:
            raise ConfigError(f"sync_every: {err}") from None
        if period.total_seconds() < 1:
            raise ConfigError(f"sync_every must be at least 1s, not {out['sync_every']!r}")
    return out


def resolve_secrets(settings: Mapping[str, Any], shop_name: str) -> dict[str, str]:
    """Replace ``env:VAR`` values by the variable's value; a missing variable is a clear error."""
    out: dict[str, str] = {}
    for key, value in settings.items():
        text = str(value)
        if text.startswith("env:"):
            var = text[4:]
            if var not in os.environ:
                raise ConfigError(f"shop {shop_name}: setting {key} reads ${var}, which is not set")
            text = os.environ[var]
        out[key] = text
    return out


def shop_from_row(row: Any, *, resolve: bool = True) -> Shop:
    settings = resolve_secrets(row.settings, row.name) if resolve else dict(row.settings)
    return Shop(
        id=row.id, name=row.name, platform=row.platform, settings=settings, needs_reauth=row.needs_reauth
    )


async def add_shop(engine: AsyncEngine, info: PlatformInfo, name: str, settings: Mapping[str, str]) -> int:
    values = validate_settings(info, settings)
    now = utcnow()
    async with engine.begin() as conn:
        exists = (await conn.execute(select(SHOPS.c.id).where(SHOPS.c.name == name))).first()
        if exists:
            raise ConfigError(f"a shop named {name!r} already exists")
        res = await conn.execute(
            SHOPS.insert().values(
                platform=info.id,
                name=name,
                settings=values,
                needs_reauth=False,
                created_at=now,
                updated_at=now,
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


async def update_shop(
    engine: AsyncEngine, info: PlatformInfo, name: str, settings: Mapping[str, str]
) -> None:
    """Change settings; clears the re-authorisation flag (new credentials are the usual reason)."""
    row = await get_shop_row(engine, name)
    merged = {**row.settings, **validate_settings(info, settings, partial=True)}
    async with engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == row.id)
            .values(settings=merged, needs_reauth=False, reauth_reason=None, updated_at=utcnow())
        )


async def mark_reauth(engine: AsyncEngine, shop_id: int, reason: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id)
            .values(needs_reauth=True, reauth_reason=scrub_text(reason), updated_at=utcnow())
        )


async def get_shop_row(engine: AsyncEngine, name: str) -> Any:
    async with engine.connect() as conn:
        row = (await conn.execute(select(SHOPS).where(SHOPS.c.name == name))).first()
    if row is None:
        raise NotFoundError(f"no shop named {name!r} (see `hub shop list`)")
    return row


async def get_shop_row_by_id(engine: AsyncEngine, shop_id: int) -> Any:
    async with engine.connect() as conn:
        row = (await conn.execute(select(SHOPS).where(SHOPS.c.id == shop_id))).first()
    if row is None:
        raise NotFoundError(f"no shop {shop_id}")
    return row


async def list_shop_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(SHOPS).order_by(SHOPS.c.name))).all())


async def remove_shop(engine: AsyncEngine, name: str) -> None:
    row = await get_shop_row(engine, name)
    async with engine.begin() as conn:
        await conn.execute(delete(SHOPS).where(SHOPS.c.id == row.id))


def display_settings(info: PlatformInfo | None, settings: Mapping[str, Any]) -> dict[str, str]:
    """Settings for display: secrets masked unless they are ``env:`` references."""
    secret = info.secret_settings if info else frozenset()
    return {
        k: (str(v) if str(v).startswith("env:") or k not in secret else "***") for k, v in settings.items()
    }
