"""``hub doctor``: is this installation able to work? One line per check, in order:

database reachable, migrations at head, plugins loaded, then per shop: its credentials (the
adapter's ``check_credentials()`` when the plugin offers one, a cheap authenticated call; else
that every required setting is present and every ``env:`` secret resolves) and its platform's
clock against ours. A check that cannot run because an earlier one failed is not printed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from ..config import Settings, redact_url
from ..errors import HubError, PlatformAuthError, PlatformError
from ..plugins import get_plugin_manager
from ..runtime import Hub
from ..store.engine import create_engine
from ..store.migrate import current_revision, head_revision
from ..store.shops import list_shop_rows, shop_from_row, validate_settings

#: how long one shop's calls may take before the check fails as unreachable
CALL_TIMEOUT = 15.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _one_line(err: BaseException) -> str:
    return " ".join(str(getattr(err, "orig", None) or err).split()) or type(err).__name__


async def run_checks(settings: Settings, *, max_skew: timedelta) -> AsyncIterator[Check]:
    url = redact_url(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as err:
            yield Check("database", False, f"{url} cannot be reached: {_one_line(err)}")
            return
        yield Check("database", True, f"{url} reachable")
        current, head = await current_revision(engine), head_revision()
        if current != head:
            yield Check(
                "migrations", False, f"at {current or 'none'}, latest is {head}: run `hub db upgrade`"
            )
            return
        yield Check("migrations", True, f"at head ({head})")
        try:
            hub = Hub.open(settings, pm=get_plugin_manager(), engine=engine)
        except HubError as err:
            yield Check("plugins", False, _one_line(err))
            return
        platforms = sorted(hub.registry.platforms)
        yield Check(
            "plugins",
            bool(platforms),
            f"{len(platforms)} platform(s): {', '.join(platforms) or 'none installed'}",
        )
        try:
            for row in await list_shop_rows(engine):
                async for check in _shop_checks(hub, row, max_skew):
                    yield check
        finally:
            if hub._http is not None:
                await hub._http.close()
    finally:
        await engine.dispose()


async def _shop_checks(hub: Hub, row: Any, max_skew: timedelta) -> AsyncIterator[Check]:
    name = f"shop {row.name}"
    if row.platform not in hub.registry.platforms:
        yield Check(
            f"{name} credentials", False, f"platform {row.platform!r} is not installed or is disabled"
        )
        return
    info = hub.registry.info(row.platform)
    try:
        validate_settings(info, row.settings)
        shop = shop_from_row(row)
    except HubError as err:
        yield Check(f"{name} credentials", False, _one_line(err))
        return
    if row.needs_reauth:
        yield Check(
            f"{name} credentials", False, f"needs re-authorisation: {row.reauth_reason or 'rejected'}"
        )
        return
    adapter = hub.adapter(shop)
    try:
        probe = getattr(adapter, "check_credentials", None)
        if probe is None:
            yield Check(f"{name} credentials", True, "settings present (the platform offers no cheap check)")
        else:
            try:
                await asyncio.wait_for(probe(), CALL_TIMEOUT)
            except PlatformAuthError as err:
                yield Check(f"{name} credentials", False, f"rejected by {row.platform}: {_one_line(err)}")
                return
            except (PlatformError, TimeoutError) as err:
                yield Check(f"{name} credentials", False, f"{row.platform} unreachable: {_one_line(err)}")
                return
            yield Check(f"{name} credentials", True, f"accepted by {row.platform}")
        try:
            theirs = await asyncio.wait_for(adapter.platform_now(), CALL_TIMEOUT)
        except (PlatformError, TimeoutError) as err:
            yield Check(f"{name} clock", False, f"cannot read {row.platform}'s clock: {_one_line(err)}")
            return
        skew = (theirs - hub.now()).total_seconds()
        within = abs(skew) <= max_skew.total_seconds()
        yield Check(
            f"{name} clock",
            within,
            f"{row.platform} is {abs(skew):.1f}s {'ahead' if skew >= 0 else 'behind'}"
            + ("" if within else f" (more than {max_skew.total_seconds():.0f}s: check the clocks (NTP))"),
        )
    finally:
        await adapter.close()
