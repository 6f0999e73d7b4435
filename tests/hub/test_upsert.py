"""Upserts: newer wins, out-of-order and duplicate pages change nothing, events only on real change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hub.domain import RawRecord
from hub.store.base import tbl
from hub.store.models import AfterSaleRecord, EventRecord, RawRecordRow
from hub.store.upsert import upsert_batch
from tests.testplatform.adapter import RULES, map_case

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def raw(status: str, minutes: int, amount: str = "10.00", ext: str = "C1") -> RawRecord:
    at = T0 + timedelta(minutes=minutes)
    return RawRecord(
        resource="case",
        external_id=ext,
        updated_at=at,
        payload={
            "id": ext,
            "order_id": "O1",
            "status": status,
            "amount": amount,
            "reason": "size",
            "created": T0.isoformat(),
            "modified": at.isoformat(),
        },
    )


async def shop_id(engine) -> int:
    from hub.store.models import ShopRecord

    async with engine.begin() as conn:
        res = await conn.execute(
            tbl(ShopRecord)
            .insert()
            .values(platform="acme", name="s", settings={}, needs_reauth=False, created_at=T0, updated_at=T0)
        )
        return int(res.inserted_primary_key[0])


async def put(engine, sid, records):
    async with engine.begin() as conn:
        return await upsert_batch(
            conn, shop_id=sid, records=records, mapper=map_case, rules=RULES, settings={}, now=T0
        )


async def state(engine):
    async with engine.connect() as conn:
        case = (await conn.execute(select(tbl(AfterSaleRecord)))).all()
        events = (await conn.execute(select(func.count()).select_from(EventRecord))).scalar_one()
        raws = (await conn.execute(select(tbl(RawRecordRow).c.payload))).scalars().all()
    return case, events, raws


async def test_in_order_pages_and_events(engine):
    sid = await shop_id(engine)
    s = await put(engine, sid, [raw("NEW", 0)])
    assert s.new == 1
    s = await put(engine, sid, [raw("AGREED", 10)])
    assert s.changed == 1
    case, events, _ = await state(engine)
    assert case[0].status == "refunding" and events == 3  # created, status, deadline cleared


async def test_out_of_order_and_duplicate_pages_change_nothing(engine):
    sid = await shop_id(engine)
    await put(engine, sid, [raw("NEW", 0)])
    await put(engine, sid, [raw("AGREED", 10)])
    before = await state(engine)
    s = await put(engine, sid, [raw("NEW", 0)])  # an old page arrives late
    assert s.stale == 1 and s.changed == 0
    s = await put(engine, sid, [raw("AGREED", 10), raw("AGREED", 10)])  # a duplicate page
    assert s.changed == 0 and s.new == 0
    assert await state(engine) == before


async def test_batch_with_two_versions_keeps_the_newer(engine):
    sid = await shop_id(engine)
    await put(engine, sid, [raw("AGREED", 10), raw("NEW", 0)])
    case, _, raws = await state(engine)
    assert case[0].status == "refunding" and raws[0]["status"] == "AGREED"


async def test_same_time_new_content_updates(engine):
    sid = await shop_id(engine)
    await put(engine, sid, [raw("NEW", 0)])
    s = await put(engine, sid, [raw("NEW", 0, amount="12.00")])
    assert s.changed == 1
    case, _, _ = await state(engine)
    assert case[0].refund_fen == 1200


async def test_quarantine_then_fixed_version_resolves(engine):
    from hub.store.models import QuarantineRecord

    sid = await shop_id(engine)
    s = await put(engine, sid, [raw("NEW", 0, amount="x")])
    assert s.quarantined == 1
    s = await put(engine, sid, [raw("NEW", 0, amount="x")])
    assert s.quarantined == 1  # reported again, written once
    s = await put(engine, sid, [raw("NEW", 5)])
    assert s.new == 1
    async with engine.connect() as conn:
        q = (await conn.execute(select(tbl(QuarantineRecord)))).all()
    assert len(q) == 1 and q[0].resolved_at is not None
