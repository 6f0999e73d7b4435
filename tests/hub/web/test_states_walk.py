"""Every (kind, status) each installed plugin's rule table declares (``RuleTable.states``) has one
next action, with the same party in ``hub cases --json``, ``GET /api/cases`` and the case page
(header and next-action card); a state waiting on the merchant has a clock or says why none applies.

The plugins are found through their entry points (and the test platform): nothing here names one.
Each plugin's table comes from its own adapter, built with the settings of its sandbox's demo shop.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import tests.testplatform as acme
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, RawRecord
from hub.runtime import Hub
from hub.store.models import ShopRecord
from hub.store.shops import add_shop, shop_from_row
from hub.store.upsert import upsert_batch
from hub.web import create_app
from hub.web.auth import create_token, ensure_user
from tests.hub.web.conftest import PASSWORD, login
from tests.testplatform.server import TOKEN

ROOT = Path(__file__).resolve().parents[3]
ALL_STATUSES = ",".join(s.value for s in AfterSaleStatus)
PARTIES = {"merchant", "buyer", "platform", "supplier"}


def installed_plugins() -> list[Any]:
    return [ep.load() for ep in entry_points(group="hub")]


async def _tables(hub: Hub, tmp: Path) -> list[tuple[str, int, Any]]:
    """(platform, shop id, rule table) of every installed platform, a shop each."""
    out: list[tuple[str, int, Any]] = []
    sandboxes = []
    try:
        for pid in sorted(hub.registry.platforms):
            info = hub.registry.info(pid)
            if pid == "acme":
                settings = {"api_url": "http://127.0.0.1:9/api", "token": TOKEN}
            else:
                assert pid in hub.registry.sandboxes, f"{pid} has no sandbox to take its settings from"
                sandbox = hub.registry.sandboxes[pid]()
                sandboxes.append(sandbox)
                demo = (await sandbox.start(str(tmp / pid)))[0]
                settings = dict(demo.settings)
            shop_id = await add_shop(hub.engine, info, f"walk-{pid}", settings)
            async with hub.engine.connect() as conn:
                row = (await conn.execute(select(ShopRecord.__table__).where(ShopRecord.id == shop_id))).one()
            adapter = hub.adapter(shop_from_row(row))
            try:
                out.append((pid, shop_id, adapter.rule_table()))
            finally:
                await adapter.close()
    finally:
        for sandbox in sandboxes:
            await sandbox.stop()
    return out


async def test_every_declared_state_has_one_next_action_everywhere(
    make_hub: Callable[..., Hub], engine: Any, aiohttp_client: Any, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip(
            "the CLI half reads the test's SQLite file; the store is covered on both backends elsewhere"
        )
    hub = make_hub(acme, *installed_plugins())
    now = hub.now()
    tables = await _tables(hub, tmp_path)
    walked: dict[
        tuple[str, str], tuple[str, str, str]
    ] = {}  # (shop, external id) -> (platform, kind, status)
    for pid, shop_id, table in tables:
        assert table.states, f"{pid}: the rule table declares no states"
        info = hub.registry.info(pid)
        made: dict[str, AfterSale] = {}
        for kind, status in sorted(table.states):
            ext = f"walk-{kind}-{status}"
            made[ext] = AfterSale(
                external_id=ext,
                order_external_id=f"walk-order-{kind}-{status}",
                kind=AfterSaleKind(kind),
                status=AfterSaleStatus(status),
                platform_status="walk",
                created_at=now - timedelta(hours=2),
                updated_at=now - timedelta(hours=1),
                refund_fen=1000,
                paid_fen=1000,
            )
            walked[(f"walk-{pid}", ext)] = (pid, kind, status)
        records = [
            RawRecord(
                resource="walk", external_id=ext, payload={"id": ext}, updated_at=now - timedelta(hours=1)
            )
            for ext in made
        ]
        async with hub.engine.begin() as conn:
            stats = await upsert_batch(
                conn,
                shop_id=shop_id,
                records=records,
                mapper=lambda raw, made=made: made[raw.external_id],  # type: ignore[misc]
                rules=table,
                settings={},
                now=now,
                merchant_side=info.merchant_side,
            )
        assert stats.quarantined == 0, stats.problems
    assert len({pid for pid, _, _ in walked.values()}) == len(tables)

    # the CLI, as a user runs it
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PLUGINS", "HUB_DISABLED_PLUGINS")}
    env.update(HUB_DATABASE_URL=engine.url.render_as_string(hide_password=False), HUB_LOG_LEVEL="warning")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "cases",
        "--json",
        "--no-orders",
        "--status",
        ALL_STATUSES,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]
    walked_platforms = {pid for pid, _, _ in walked.values()}
    assert {"acme"} < walked_platforms, walked_platforms
    cli = {(c["shop"], c["external_id"]): c for c in json.loads(out)}

    # the API and the pages
    await ensure_user(hub, "walker", "admin", [], PASSWORD)
    token = await create_token(hub.engine, "walker", now=hub.now())
    client = await aiohttp_client(create_app(hub, owns_hub=False))
    api: dict[tuple[str, str], dict[str, Any]] = {}
    cursor = None
    while True:
        url = f"/api/cases?limit=200&orders=false&status={ALL_STATUSES}" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = await (await client.get(url, headers={"Authorization": f"Bearer {token}"})).json()
        api.update({(c["shop"], c["external_id"]): c for c in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            break
    await login(client, "walker")

    for key, (pid, kind, status) in walked.items():
        where = f"{pid} ({kind}, {status})"
        c, a = cli[key], api[key]
        assert c == a, f"{where}: the CLI and the API disagree"
        action = c["next_action"]
        if not AfterSaleStatus(status).is_open:
            assert action is None, f"{where}: a closed case has a next action"
            continue
        assert action is not None and action["party"] in PARTIES, f"{where}: no next action ({action})"
        if action["party"] == "merchant":
            assert action["due_at"] or action["no_clock_reason"], (
                f"{where}: merchant with no clock, no reason"
            )
            assert "no row of the" not in (action["no_clock_reason"] or ""), (
                f"{where}: {action['no_clock_reason']}"
            )
        html = await (await client.get(f"/cases/{c['id']}")).text()
        header = re.search(r'class="header-party" data-party="([a-z]+)"', html)
        card = re.search(r'class="card-party" data-party="([a-z]+)"', html)
        assert header and card, f"{where}: the page shows no party"
        assert header.group(1) == card.group(1) == action["party"], (
            f"{where}: header {header.group(1)}, card {card.group(1)}, CLI/API {action['party']}"
        )


async def test_every_action_and_effect_of_every_table_reads_in_chinese(
    make_hub: Callable[..., Hub], engine: Any, tmp_path: Path
) -> None:
    """The pages show actions and effects in the agent's language: each installed table's actions
    and on-expiry effects have a label in both languages (a missing one would show raw English)."""
    from hub.domain import OnExpiry
    from hub.web.i18n import LABELS

    hub = make_hub(acme, *installed_plugins())
    for pid, _shop_id, table in await _tables(hub, tmp_path):
        for r in table.rules:
            assert r.action in LABELS["deadline_action"], f"{pid}: {r.id}: no label for action {r.action!r}"
    assert set(LABELS["on_expiry"]) == {e.value for e in OnExpiry}
