"""A small store for the report and ledger tests: three shops (Taobao, Pinduoduo, 17网), six cases,
four orders, one 17网 link and a few agent actions, written straight to the tables so every figure
is known. Times are in March 2025 (well before any clock a test runs on) and chosen around Beijing
midnight so the day rule is tested too (Beijing = UTC+8).

Expected figures over 2025-03-10 .. 2025-03-11 are in ``EXPECTED_*`` below; the comments on each
row say which column it feeds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.models import (
    NO_DEADLINE,
    ActionRecord,
    AfterSaleRecord,
    EventRecord,
    OrderLinkRecord,
    OrderRecord,
    ShopRecord,
)

S, C, O, E, A, L = (  # noqa: E741
    m.__table__
    for m in (ShopRecord, AfterSaleRecord, OrderRecord, EventRecord, ActionRecord, OrderLinkRecord)
)
FAR = datetime(2099, 1, 1, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC time on March ``day``, 2025."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def _deadline(due: datetime, *, action: str, on_expiry: str, penalty: int | None = None) -> dict[str, Any]:
    return {
        "due_at": due.isoformat(),
        "party": "merchant",
        "action": action,
        "on_expiry": on_expiry,
        "penalty_fen": penalty,
    }


async def seed(engine: AsyncEngine) -> dict[str, int]:
    """Write the store; returns the shop ids by name."""
    async with engine.begin() as conn:
        ids: dict[str, int] = {}
        for name, platform in (("tb", "taobao"), ("pdd", "pinduoduo"), ("s17", "seventeen")):
            result = await conn.execute(
                insert(S).values(
                    name=name, platform=platform, settings={}, created_at=t(1, 0), updated_at=t(1, 0)
                )
            )
            ids[name] = int(result.inserted_primary_key[0])

        def order(shop: str, ext: str, **kw: Any) -> dict[str, Any]:
            row: dict[str, Any] = {
                "shop_id": ids[shop],
                "external_id": ext,
                "role": "sale",
                "status": "paid",
                "platform_status": "x",
                "total_fen": 0,
                "paid_fen": 0,
                "created_at": t(9, 0),
                "platform_updated_at": t(9, 0),
                "in_work": False,
                "work_due_at": NO_DEADLINE,
                "data": {},
                "content_hash": "h",
            }
            row.update(kw)
            return row

        # one statement per row: an executemany takes its columns from the first row only
        for row in (
            # tb's sale of C3, fulfilled by the 17网 purchase P3: goods cost 30.00 × 80/100 = 24.00
            order("tb", "O3", paid_fen=10000, status="completed", data={"facts": {"has_yfx": False}}),
            order("s17", "P3", role="purchase", paid_fen=3000, status="completed"),
            # shipped after its ship-by clock: a 5.00 penalty incurred on 03-10 (Beijing)
            order("pdd", "OLATE", status="shipped", shipped_at=t(10, 10)),
            # unshipped, clocks running: 3.00 overdue, 2.00 not yet; 5.00 at risk
            order(
                "pdd",
                "ORISK1",
                in_work=True,
                deadline_due_at=t(9, 0),
                deadline_party="merchant",
                deadline_action="ship",
                deadline_penalty_fen=300,
                work_due_at=t(9, 0),
            ),
            order(
                "pdd",
                "ORISK2",
                in_work=True,
                deadline_due_at=FAR,
                deadline_party="merchant",
                deadline_action="ship",
                deadline_penalty_fen=200,
                work_due_at=FAR,
            ),
        ):
            await conn.execute(insert(O).values(**row))
        oid = {r.external_id: r.id for r in (await conn.execute(select(O.c.id, O.c.external_id))).all()}
        await conn.execute(
            insert(L).values(
                purchase_order_id=oid["P3"], sale_order_id=oid["O3"], method="remark", created_at=t(9, 0)
            )
        )

        def case(shop: str, ext: str, kind: str, refund: int, created: datetime, **kw: Any) -> dict[str, Any]:
            row: dict[str, Any] = {
                "shop_id": ids[shop],
                "external_id": ext,
                "order_external_id": kw.pop("order", f"O-{ext}"),
                "kind": kind,
                "status": "succeeded",
                "is_open": False,
                "platform_status": "x",
                "refund_fen": refund,
                "created_at": created,
                "platform_updated_at": created,
                "work_due_at": NO_DEADLINE,
                "data": {},
                "content_hash": "h",
            }
            row.update(kw)
            return row

        for row in (
            # refunded 03-10 (Beijing 11:00); answered by alice after 30 minutes
            case("tb", "C1", "refund_only", 10000, t(10, 2), reason="不想要了"),
            # the merchant's 72h clock ran out: Taobao agreed by itself (50.00 lost), paid 03-11
            case("tb", "C2", "refund_only", 5000, t(10, 1), reason="质量问题"),
            # a return for a broken item: the merchant pays the return postage (12.00); answered
            # by bob after an hour; its order is linked to the 17网 purchase P3
            case(
                "tb",
                "C3",
                "return_refund",
                8000,
                t(10, 4),
                reason="破损",
                order="O3",
                data={"description": "外包装破损", "facts": {"return_postage_fen": 1200}},
            ),
            # compensation paid at 17:00 UTC on 03-10 = 01:00 on 03-11 in Beijing: counts on 03-11
            case("pdd", "C4", "compensation", 500, t(10, 3), reason="补差价"),
            # the 17网 purchase's refund received (30.00), answered in the backend after an hour
            case("s17", "C5", "refund_only", 3000, t(10, 8), reason="档口退款", order="P3"),
            # open, its merchant clock already passed; a lost parcel
            case(
                "pdd",
                "C6",
                "refund_only",
                2000,
                t(10, 6),
                reason="快递丢件",
                status="requested",
                is_open=True,
                deadline_party="merchant",
                deadline_due_at=t(10, 7),
                work_due_at=t(10, 7),
            ),
            # closed unpaid; the logistics state (not the words) says the parcel was lost
            case(
                "pdd",
                "C7",
                "refund_only",
                700,
                t(11, 2),
                reason="其他",
                status="closed",
                data={"facts": {"logistics_state": "lost"}},
            ),
        ):
            await conn.execute(insert(C).values(**row))
        cid = {r.external_id: r.id for r in (await conn.execute(select(C.c.id, C.c.external_id))).all()}

        def ev(
            shop: str, ext: str, at: datetime, data: dict[str, Any], subject: str = "after_sale"
        ) -> dict[str, Any]:
            return {
                "shop_id": ids[shop],
                "subject": subject,
                "external_id": ext,
                "at": at,
                "kind": "status_changed",
                "actor": "platform",
                "summary": "status",
                "data": data,
            }

        far = {
            "due_at": FAR.isoformat(),
            "party": "merchant",
            "action": "reply",
            "on_expiry": "auto_agree",
            "penalty_fen": None,
        }
        await conn.execute(
            insert(E),
            [
                ev("tb", "C1", t(10, 3), {"from": "requested", "to": "succeeded", "deadline": far}),
                ev(
                    "tb",
                    "C2",
                    t(11, 1, 30),
                    {
                        "from": "requested",
                        "to": "refunding",
                        "deadline": _deadline(t(11, 1), action="reply", on_expiry="auto_agree"),
                    },
                ),
                ev("tb", "C2", t(11, 2), {"from": "refunding", "to": "succeeded", "deadline": None}),
                ev("tb", "C3", t(10, 8), {"from": "return_shipped", "to": "succeeded", "deadline": None}),
                ev("pdd", "C4", t(10, 17), {"from": "requested", "to": "succeeded", "deadline": None}),
                ev("s17", "C5", t(10, 9), {"from": "requested", "to": "succeeded", "deadline": None}),
                ev(
                    "pdd",
                    "OLATE",
                    t(10, 10, 5),
                    {
                        "from": "paid",
                        "to": "shipped",
                        "deadline": _deadline(t(10, 8), action="ship", on_expiry="penalty", penalty=500),
                    },
                    subject="order",
                ),
                # before the range: not counted anywhere
                ev("tb", "C1", t(8, 3), {"from": None, "to": "requested"}),
            ],
        )

        def act(
            shop: str, case_ext: str, action: str, actor: str, at: datetime, status: str = "done"
        ) -> dict[str, Any]:
            return {
                "idempotency_key": f"{case_ext}-{action}-{actor}",
                "shop_id": ids[shop],
                "after_sale_id": cid[case_ext],
                "action": action,
                "params": {},
                "status": status,
                "response": {},
                "actor": actor,
                "attempts": 1,
                "created_at": at,
                "updated_at": at,
            }

        await conn.execute(
            insert(A),
            [
                act("tb", "C1", "agree_refund", "alice", t(10, 2, 30)),
                act("pdd", "C4", "note", "alice", t(10, 3, 10)),  # a note is not a reply
                act("tb", "C3", "agree_return", "bob", t(10, 5)),
                act("pdd", "C6", "agree_refund", "bob", t(10, 6, 30), status="failed"),
            ],
        )
    return ids


EXPECTED_REPORT_CASES = {"opened": 7, "requested_fen": 29200, "refunded": 5, "refunded_fen": 26500}
EXPECTED_LEDGER = [
    # (day, shop, {column: (count, fen)})
    ("2025-03-10", "pdd", {"late_shipment": (1, 500)}),
    ("2025-03-10", "s17", {"upstream_refunds": (1, 3000)}),
    ("2025-03-10", "tb", {"refunds": (2, 18000), "postage": (1, 1200), "goods_cost": (1, 2400)}),
    ("2025-03-11", "pdd", {"compensation": (1, 500)}),
    ("2025-03-11", "tb", {"refunds": (1, 5000)}),
]
