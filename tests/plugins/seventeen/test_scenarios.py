"""17网 scenarios: export files (and recorded steps) in, the next action out.

Each row writes a 17网 order export and, when it has one, an after-sales export (CSV, Beijing
times, as the merchant downloads them) into the import folder, records the merchant's reported
steps in the ledger, reads everything through the adapter (importer, snapshot, mapper) and asks
the core for the next action with 17网's rule table. Expected: who acts (from the merchant's
side), what, by when (Beijing time, or ``None`` for an explicit no-clock state) and what happens
on expiry. Rows cross weekends and Beijing midnight: 17网's clocks run on calendar time, elapsed
clocks keep the start's time of day, natural-day clocks end at 00:00 Beijing time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.clock import CST
from hub.domain import AfterSale, OnExpiry, Order, Party
from hub.rules import next_action
from plugins.seventeen.info import INFO
from plugins.seventeen.ledger import LEDGER_NAME, Ledger
from plugins.seventeen.rules import TABLE
from plugins.seventeen.snapshot import PURCHASE, PURCHASE_RETURN

from .conftest import fetch_all, make_adapter

ORDER_ID = "1726110100001"
ORDER_HEADERS = {
    "order_id": "订单号",
    "created_at": "下单时间",
    "paid_at": "付款时间",
    "shipped_at": "发货时间",
    "completed_at": "完成时间",
    "status": "订单状态",
    "style_no": "货号",
    "title": "商品名称",
    "category": "类目",
    "color": "颜色",
    "size": "尺码",
    "quantity": "数量",
    "unit_price": "单价",
    "ship_option": "发货方式",
    "waybill": "快递单号",
    "remark": "备注",
}
RETURN_HEADERS = {
    "return_id": "退货单号",
    "order_id": "订单号",
    "applied_at": "申请时间",
    "status": "退货状态",
    "type": "售后类型",
    "style_no": "货号",
    "color": "颜色",
    "size": "尺码",
    "quantity": "退货数量",
    "return_waybill": "退货运单号",
    "daifa_signed_at": "代发签收时间",
    "completed_at": "完成时间",
    "updated_at": "更新时间",
}
ORDER = {
    "order_id": ORDER_ID,
    "created_at": "2026-11-01 10:00:00",
    "paid_at": "2026-11-01 10:05:00",
    "shipped_at": "2026-11-02 10:00:00",  # a Monday
    "completed_at": "",
    "status": "已发货",
    "style_no": "A8821",
    "title": "法式碎花连衣裙",
    "category": "连衣裙",
    "color": "黑色",
    "size": "M",
    "quantity": "1",
    "unit_price": "58.00",
    "ship_option": "",
    "waybill": "ZT100200300400",
    "remark": "淘宝 4000000000000001",
}
RETURN = {
    "return_id": "TH1",
    "order_id": ORDER_ID,
    "applied_at": "2026-11-05 09:00:00",
    "status": "待审核",
    "type": "退货退款",
    "style_no": "A8821",
    "color": "黑色",
    "size": "M",
    "quantity": "1",
    "return_waybill": "",
    "daifa_signed_at": "",
    "completed_at": "",
    "updated_at": "",
}
IN_RETURN = {"status": "退货中"}  # 17网 shows the order 退货中 once a return is under way
LATER = "2026-11-10 16:00:00"  # a later export's 更新时间


def bj(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)


@dataclass(frozen=True)
class Row:
    id: str
    order: dict[str, str] = field(default_factory=dict)
    ret: dict[str, str] | None = None
    #: recorded steps: (action, Beijing time, external id, params)
    steps: tuple[tuple[str, str, str, dict[str, Any]], ...] = ()
    settings: dict[str, str] = field(default_factory=dict)
    seen: str | None = None  #: when hub first saw the case's status (the store's history)
    subject: str = "case"  #: "case" (the return TH1, or the one the steps name) or "order"
    case_id: str = "TH1"
    #: expected (party, action, due in Beijing time or None, on_expiry); None: no next action
    expect: tuple[Party, str, str | None, OnExpiry] | None = None
    source: str | None = None  #: expected deadline source, when it matters


M, S = Party.MERCHANT, Party.SUPPLIER

ROWS = [
    # -- purchase orders -------------------------------------------------------------------------
    Row(
        "shipped: extend before the 12-day auto-confirm",
        subject="order",
        expect=(M, "extend_receipt", "2026-11-14 10:00:00", OnExpiry.AUTO_CONFIRM),
        source="rule",
    ),
    Row(
        "shipped Saturday 23:59:59: elapsed, the time of day is kept",
        order={"shipped_at": "2026-11-07 23:59:59"},
        subject="order",
        expect=(M, "extend_receipt", "2026-11-19 23:59:59", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "shipped Sunday 00:00:00: one second later, the same 12 days",
        order={"shipped_at": "2026-11-08 00:00:00"},
        subject="order",
        expect=(M, "extend_receipt", "2026-11-20 00:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "extended by 5 days: the extended time replaces the 12 days",
        steps=(("extend_receipt", "2026-11-12 18:00:00", ORDER_ID, {"days": 5}),),
        subject="order",
        expect=(M, "apply_return", "2026-11-19 10:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "an extension is at most 7 days",
        steps=(("extend_receipt", "2026-11-12 18:00:00", ORDER_ID, {"days": 30}),),
        subject="order",
        expect=(M, "apply_return", "2026-11-21 10:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "trade success: nothing pending",
        order={"status": "交易成功", "completed_at": "2026-11-14 10:00:00"},
        subject="order",
        expect=None,
    ),
    Row(
        "out of stock with 下单三天有货先发, ordered Friday 22:00: across the weekend",
        order={
            "status": "缺货",
            "created_at": "2026-11-06 22:00:00",
            "paid_at": "2026-11-06 22:01:00",
            "shipped_at": "",
            "waybill": "",
            "ship_option": "下单三天有货先发",
        },
        subject="order",
        expect=(S, "ship_available", "2026-11-09 22:00:00", OnExpiry.NOTHING),
    ),
    Row(
        "out of stock, waiting for restock: the stall's, no clock",
        order={"status": "缺货", "shipped_at": "", "waybill": "", "ship_option": "等齐再发"},
        subject="order",
        expect=(S, "restock_pick", None, OnExpiry.NOTHING),
    ),
    Row(
        "paid, being picked: no next action on the order",
        order={"status": "待拿货", "shipped_at": "", "waybill": ""},
        subject="order",
        expect=None,
    ),
    # -- returns ---------------------------------------------------------------------------------
    Row(
        "applied while 17网 still shows the order shipped: extend before auto-confirm",
        ret={},
        expect=(M, "extend_receipt", "2026-11-14 10:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "applied, order 退货中: 代发 reviews, no clock",
        order=IN_RETURN,
        ret={},
        expect=(S, "review_return", None, OnExpiry.NOTHING),
    ),
    Row(
        "an exchange request is a return on 17网: 代发 reviews",
        order=IN_RETURN,
        ret={"type": "换货"},
        expect=(S, "review_return", None, OnExpiry.NOTHING),
    ),
    Row(
        "an unknown status reads as applied: 代发 reviews",
        order=IN_RETURN,
        ret={"status": "神秘状态"},
        expect=(S, "review_return", None, OnExpiry.NOTHING),
    ),
    Row(
        "refund only, applied, order shipped: extend before auto-confirm",
        ret={"type": "仅退款"},
        expect=(M, "extend_receipt", "2026-11-14 10:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "代发 agreed Friday 23:59:59 BJ: 7 natural days end Saturday week 00:00 (shop policy)",
        order=IN_RETURN,
        ret={},
        steps=(("daifa_agreed", "2026-11-06 23:59:59", "TH1", {"return_address": "广州沙河 代发仓"}),),
        expect=(M, "enter_return_waybill", "2026-11-14 00:00:00", OnExpiry.OVERDUE),
        source="policy",
    ),
    Row(
        "代发 agreed Saturday 00:00:00 BJ: one second later, a day more",
        order=IN_RETURN,
        ret={},
        steps=(("daifa_agreed", "2026-11-07 00:00:00", "TH1", {"return_address": "广州沙河 代发仓"}),),
        expect=(M, "enter_return_waybill", "2026-11-15 00:00:00", OnExpiry.OVERDUE),
    ),
    Row(
        "agreed, order still shipped: the sooner auto-confirm wins over the shop's 7 days",
        ret={},
        steps=(("daifa_agreed", "2026-11-10 12:00:00", "TH1", {"return_address": "广州沙河 代发仓"}),),
        expect=(M, "extend_receipt", "2026-11-14 10:00:00", OnExpiry.AUTO_CONFIRM),
    ),
    Row(
        "agreed in the export only: the clock starts when hub first saw the status",
        order=IN_RETURN,
        ret={"status": "代发已同意", "updated_at": "2026-11-06 09:00:00"},
        seen="2026-11-04 15:00:00",
        expect=(M, "enter_return_waybill", "2026-11-12 00:00:00", OnExpiry.OVERDUE),
    ),
    Row(
        "the shop's own 3 days for shipping a return",
        order=IN_RETURN,
        ret={},
        steps=(("daifa_agreed", "2026-11-06 08:00:00", "TH1", {"return_address": "广州沙河 代发仓"}),),
        settings={"return_ship_days": "3d"},
        expect=(M, "enter_return_waybill", "2026-11-10 00:00:00", OnExpiry.OVERDUE),
        source="policy",
    ),
    Row(
        "waybill entered: on its way, 代发 signs, no clock",
        order=IN_RETURN,
        ret={"status": "代发已同意"},
        steps=(("enter_return_waybill", "2026-11-06 11:00:00", "TH1", {"waybill": "SF123456789"}),),
        expect=(S, "sign_return", None, OnExpiry.NOTHING),
    ),
    Row(
        "代发 signed Sunday 10:00: 3-5 days at the stall, flagged Friday 10:00",
        order=IN_RETURN,
        ret={"status": "代发已签收", "return_waybill": "SF1", "daifa_signed_at": "2026-11-08 10:00:00"},
        expect=(S, "stall_result", "2026-11-13 10:00:00", OnExpiry.OVERDUE),
        source="rule",
    ),
    Row(
        "代发 signed, the shop allows 9 days in a promotion: its own figure",
        order=IN_RETURN,
        ret={"status": "代发已签收", "return_waybill": "SF1", "daifa_signed_at": "2026-11-08 10:00:00"},
        settings={"return_processing": "9d"},
        expect=(S, "stall_result", "2026-11-17 10:00:00", OnExpiry.OVERDUE),
        source="policy",
    ),
    Row(
        "a parcel at 代发 with no application: claim within 15 days or it is scrapped",
        steps=(("daifa_signed", "2026-11-08 23:30:00", "X1", {}),),
        case_id="X1",
        expect=(M, "claim_return", "2026-11-23 23:30:00", OnExpiry.SCRAPPED),
    ),
    Row(
        "applied, signed, but no waybill entered: still unclaimed, 15 days",
        order=IN_RETURN,
        ret={"status": "代发已签收", "daifa_signed_at": "2026-11-08 10:00:00"},
        expect=(M, "claim_return", "2026-11-23 10:00:00", OnExpiry.SCRAPPED),
    ),
    Row(
        "the stall accepted, refund under way: 代发 refunds, no clock",
        order=IN_RETURN,
        ret={"status": "退款中"},
        expect=(S, "refund", None, OnExpiry.NOTHING),
    ),
    Row(
        "the stall refused Saturday 23:30 BJ: 3 natural days to arrange the way back",
        order=IN_RETURN,
        ret={"status": "档口拒退", "completed_at": "2026-11-07 23:30:00", "updated_at": ""},
        expect=(M, "arrange_send_back", "2026-11-11 00:00:00", OnExpiry.OVERDUE),
        source="policy",
    ),
    Row(
        "a later export of the refused return does not move its clock",
        order=IN_RETURN,
        ret={"status": "档口拒退", "completed_at": "2026-11-07 23:30:00", "updated_at": LATER},
        seen="2026-11-10 16:05:00",
        expect=(M, "arrange_send_back", "2026-11-11 00:00:00", OnExpiry.OVERDUE),
    ),
    Row(
        "refused by a recorded step Sunday 00:00:01 BJ",
        order=IN_RETURN,
        ret={"status": "代发已签收", "return_waybill": "SF1", "daifa_signed_at": "2026-11-06 10:00:00"},
        steps=(("stall_result", "2026-11-08 00:00:01", "TH1", {"accepted": False, "reason": "特价"}),),
        expect=(M, "arrange_send_back", "2026-11-12 00:00:00", OnExpiry.OVERDUE),
    ),
    Row(
        "returned and refunded: closed, nothing next",
        order=IN_RETURN,
        ret={"status": "退货成功", "completed_at": "2026-11-12 10:00:00"},
        expect=None,
    ),
    Row(
        "application withdrawn: closed",
        ret={"status": "撤销申请"},
        expect=None,
    ),
]


def _csv(headers: dict[str, str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers.values())
    for row in rows:
        writer.writerow(row.get(k, "") for k in headers)
    return buf.getvalue()


async def run(row: Row, tmp_path: Path) -> Order | AfterSale:
    folder, data = tmp_path / "imports", tmp_path / "data"
    folder.mkdir()
    (folder / "17网订单导出.csv").write_text(_csv(ORDER_HEADERS, [{**ORDER, **row.order}]), encoding="utf-8")
    if row.ret is not None:
        text = _csv(RETURN_HEADERS, [{**RETURN, **row.ret}])
        (folder / "17网退货导出.csv").write_text(text, encoding="utf-8-sig")
    ledger = Ledger(data / LEDGER_NAME)
    for n, (action, at, external_id, params) in enumerate(row.steps):
        ledger.append(
            {
                "at": bj(at).isoformat(),
                "action": action,
                "resource": PURCHASE if external_id == ORDER_ID else PURCHASE_RETURN,
                "external_id": external_id,
                "order_id": ORDER_ID,
                "params": params,
                "actor": "客服小王",
                "key": f"scenario-{n}",
            }
        )
    now = bj("2026-11-20 12:00:00")
    adapter = make_adapter({"import_dir": str(folder), **row.settings}, data, lambda: now)
    resource = PURCHASE if row.subject == "order" else PURCHASE_RETURN
    records, problems = await fetch_all(adapter, resource)
    assert problems == []
    wanted = ORDER_ID if row.subject == "order" else row.case_id
    [raw] = [r for r in records if r.external_id == wanted]
    mapped = adapter.map_record(raw)
    assert isinstance(mapped, Order | AfterSale)
    return mapped


def test_the_table_has_enough_rows() -> None:
    assert len(ROWS) >= 25
    assert len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_scenario(row: Row, tmp_path: Path) -> None:
    subject = await run(row, tmp_path)
    action = next_action(
        subject,
        TABLE,
        status_since=bj(row.seen) if row.seen else None,
        settings={"import_dir": "", **row.settings},
        merchant_side=INFO.merchant_side,
    )
    if row.expect is None:
        assert action is None, action
        return
    assert action is not None
    party, verb, due, on_expiry = row.expect
    got_due = action.due_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") if action.due_at else None
    assert (action.party, action.action, got_due, action.on_expiry) == (party, verb, due, on_expiry)
    assert action.rule_id and action.rule_id.startswith("seventeen.")
    assert action.consequence_zh and action.consequence_en
    if due is None:
        assert action.no_clock_reason and action.no_clock_reason_zh
    if row.source is not None:
        assert action.source is not None and action.source.value == row.source
