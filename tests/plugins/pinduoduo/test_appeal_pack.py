"""An appeal on a Pinduoduo case, through the core: recorded (PDD has no appeal API), its evidence
pack produced with the case, the order, the evidence and the handling guide's evidence list, and
its outcome recorded."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

import plugins.pinduoduo as plugin
from hub.actions import add_evidence, available_actions, evidence_pack, perform_action
from hub.store.cases import case_detail
from hub.store.models import AfterSaleRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops
from plugins.pinduoduo.sandbox import FakePddServer

from .conftest import settings_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def small_shop() -> AsyncIterator[FakePddServer]:
    # A shop whose history is squeezed into 8 hours, so PDD's 30-minute windows at PDD's
    # published list quota (100 calls / 10 s) sync in seconds.
    s = FakePddServer()
    s.generate(span=timedelta(hours=8))
    await s.start()
    yield s
    await s.stop()


async def test_appeal_evidence_pack_and_outcome(make_hub, small_shop: FakePddServer):
    server = small_shop
    hub = make_hub(plugin)
    await add_shop(hub.engine, hub.registry.info("pinduoduo"), "pdd", settings_for(server))
    [summary] = await sync_shops(hub, since=server.clock.now() - timedelta(hours=9))
    assert summary.status == "ok", summary.errors
    async with hub.engine.connect() as conn:
        # a case the platform ruled on for the buyer (平台同意退款): the merchant appeals
        row = (
            await conn.execute(
                select(AfterSaleRecord.__table__).where(AfterSaleRecord.platform_status == "5")
            )
        ).first()
    assert row is not None and row.dispute_status == "ruled_for_buyer"
    states = {a["action"]: a for a in await available_actions(hub, row.id)}
    assert not states["appeal"]["enabled"] and "维权申诉" in states["appeal"]["reason"]
    reply = await perform_action(
        hub, row.id, "record_appeal", {"note": "货品非本店商品，附面单照片"}, actor="alice"
    )
    assert reply.status == "recorded"
    await add_evidence(hub, row.id, name="面单.png", content=PNG, content_type="image/png", actor="alice")
    pack = zipfile.ZipFile(io.BytesIO(await evidence_pack(hub, row.id)))
    names = pack.namelist()
    assert "README.txt" in names and "case.json" in names and any(n.startswith("evidence/") for n in names)
    readme = pack.read("README.txt").decode()
    assert row.external_id in readme and "Timeline" in readme and "Evidence to gather" in readme
    assert json.loads(pack.read("case.json"))["order"]["external_id"] == row.order_external_id
    done = await perform_action(
        hub, row.id, "record_appeal_outcome", {"outcome": "ruled_for_seller"}, actor="alice"
    )
    assert done.status == "recorded"
    detail = await case_detail(hub.engine, row.id)
    [appeal] = [d for d in detail["disputes"] if d["kind"] == "appeal"]
    assert appeal["status"] == "ruled_for_seller"
    assert [e["kind"] for e in detail["timeline"]].count("action") == 2
