"""The case page's "ERP 单据" and logistics blocks, and the unmatched-parcels page."""

from __future__ import annotations

from sqlalchemy import select

from hub.erp.deliver import run_erp_pass
from hub.erp.repo import add_sink, case_documents
from hub.logistics.repo import add_parcel
from hub.store.models import AfterSaleRecord
from tests.hub.web.conftest import World, login


async def test_case_page_shows_erp_documents_and_parcels(
    sqlite_only: None, world: World, client, tmp_path
) -> None:
    hub = world.hub
    C = AfterSaleRecord.__table__
    async with hub.engine.connect() as conn:
        done = (
            await conn.execute(
                select(C.c.id)
                .where(C.c.shop_id == world.shop_ids["shop-a"], C.c.status == "succeeded")
                .order_by(C.c.id)
            )
        ).scalar()
    assert done is not None
    # the world's sync already made the documents (the pass after each shop's sync); a sink added
    # now receives them on the next pass
    docs = await case_documents(hub.engine, done)
    made = [(d["kind"], d["step"], d["deliveries"]) for d in docs]
    assert made == [("compensation_refund", "refunded", [])]
    await add_sink(hub.engine, "files", "file", {"dir": str(tmp_path / "erp")}, [], [], hub.now(), ["file"])
    result = await run_erp_pass(hub)
    assert result.made == 0 and result.delivered >= 1 and result.failed == 0

    csrf = await login(client, "alice")
    page = await (await client.get(f"/cases/{done}")).text()
    assert "ERP 单据" in page and f"BC-{done:06d}-TK" in page
    assert "补偿退款单" in page and "files: 已送达" in page

    # a returned parcel with no case: listed, then matched to a case by waybill
    await add_parcel(hub.engine, "YD777", "yunda", "return", None, hub.now())
    listing = await (await client.get("/parcels")).text()
    assert "YD777" in listing and "未匹配的退回包裹" in listing
    resp = await client.post(
        "/parcels/match",
        data={"_csrf": csrf, "waybill": "YD777", "case_id": str(done)},
        allow_redirects=False,
    )
    assert resp.status == 303 and "matched=" in resp.headers["Location"]
    assert "YD777" not in await (await client.get("/parcels")).text()
    page = await (await client.get(f"/cases/{done}")).text()
    assert "物流跟踪" in page and "YD777" in page and "待查询" in page

    # a case of another shop cannot be matched by alice
    other = await world.case_id("shop-b", "C50050")
    await add_parcel(hub.engine, "YD778", "yunda", "return", None, hub.now())
    resp = await client.post(
        "/parcels/match",
        data={"_csrf": csrf, "waybill": "YD778", "case_id": str(other)},
        allow_redirects=False,
    )
    assert resp.status in (303, 404)
    assert "YD778" in await (await client.get("/parcels")).text()


    # viewers read cases but do not match parcels
    client.session.cookie_jar.clear()
    await login(client, "vera")
    assert (await client.get("/parcels")).status == 403
