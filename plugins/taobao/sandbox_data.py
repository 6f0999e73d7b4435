"""A realistic, deterministic Taobao or Tmall shop for the sandbox: trades, refunds, exchanges
and TMC messages generated relative to a given "now" with a fixed seed, so a demo looks live and a
test run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.clock import format_cst
from hub.money import fen_to_yuan

from .sandbox_shop import TMC_KEEP, Exchange, Plan, Refund, SimShop, SubOrder, Trade, _second

# --- a realistic demo shop ----------------------------------------------------------------------

PRODUCTS = (
    ("纯棉短袖T恤 男款", 5900),
    ("高腰阔腿牛仔裤", 12900),
    ("真丝印花连衣裙", 39900),
    ("加绒连帽卫衣", 15900),
    ("羊毛针织开衫", 26900),
    ("防晒冰丝外套", 8900),
    ("运动速干短裤", 4900),
    ("法式碎花半身裙", 11900),
    ("羽绒马甲 轻薄款", 29900),
    ("帆布双肩包", 9900),
    ("真皮小白鞋", 45900),
    ("儿童纯棉睡衣套装", 6900),
)
SKU_NAMES = ("颜色分类:白色;尺码:M", "颜色分类:黑色;尺码:L", "颜色分类:杏色;尺码:S", "颜色分类:藏青;尺码:XL")
BUYERS = (
    "tb_小鹿",
    "星河漫步",
    "tbtest561",
    "夏天的风",
    "柠檬不酸",
    "阿狸爱买",
    "木子李",
    "一只小胖橘",
    "晚风轻拂",
    "暖暖的光",
    "开心果",
    "云朵朵",
)
REASONS_RETURN = ("七天无理由退换货", "尺码不合适", "质量问题", "颜色/款式与描述不符", "收到商品破损")
REASONS_REFUND = ("不想要了", "拍错/多拍", "未按约定时间发货", "协商一致退款", "缺货")


@dataclass
class _Builder:
    """Builds one shop's history deterministically relative to ``now``."""

    shop: SimShop
    now: datetime
    rng: random.Random
    tid_base: int
    refund_base: int
    _refunds: int = 0

    def _t(self, ago: timedelta) -> datetime:
        return _second(self.now - ago)

    def trade(
        self, created_ago: timedelta, status: str, *, trade_type: str = "fixed", step: str | None = None
    ) -> Trade:
        tid = self.tid_base + len(self.shop.trades) * 7919
        created = self._t(created_ago)
        orders = []
        for i in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            title, price = self.rng.choice(PRODUCTS)
            orders.append(
                SubOrder(
                    oid=tid + i + 1 if i else tid,
                    title=title,
                    price_fen=price,
                    num=self.rng.choice((1, 1, 2)),
                    sku_id=str(5938000 + self.rng.randrange(999)),
                    outer_sku_id=f"SKU-{self.rng.randrange(100, 999)}",
                    status=status,
                )
            )
        trade = Trade(
            tid=tid,
            type=trade_type,
            status=status,
            created=created,
            modified=created,
            buyer_nick=self.rng.choice(BUYERS),
            seller_nick=self.shop.nick,
            orders=orders,
            post_fen=self.rng.choice((0, 0, 0, 600, 1000)),
            step_trade_status=step,
        )
        if status not in ("WAIT_BUYER_PAY", "TRADE_NO_CREATE_PAY", "TRADE_CLOSED_BY_TAOBAO"):
            trade.pay_time = created + timedelta(minutes=self.rng.randrange(1, 30))
            trade.modified = trade.pay_time
        if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_CLOSED"):
            assert trade.pay_time is not None
            trade.consign_time = trade.pay_time + timedelta(hours=self.rng.randrange(2, 40))
            trade.modified = trade.consign_time
            for o in orders:
                o.invoice_no, o.logistics_company = f"YT{self.rng.randrange(10**11, 10**12)}", "圆通速递"
        if status == "TRADE_FINISHED":
            assert trade.consign_time is not None
            trade.end_time = trade.consign_time + timedelta(days=self.rng.randrange(2, 6))
            trade.modified = trade.end_time
        if status == "TRADE_CLOSED_BY_TAOBAO":
            trade.end_time = created + timedelta(hours=self.rng.randrange(1, 48))
            trade.modified = trade.end_time
        trade.modified = min(trade.modified, _second(self.now))
        self.shop.trades[tid] = trade
        return trade

    def refund(
        self,
        trade: Trade,
        status: str,
        created_ago: timedelta,
        *,
        has_return: bool,
        reason: str,
        **extra: Any,
    ) -> Refund:
        self._refunds += 1
        order = trade.orders[0]
        created = self._t(created_ago)
        refund = Refund(
            refund_id=self.refund_base + self._refunds * 131,
            tid=trade.tid,
            oid=order.oid,
            status=status,
            created=created,
            modified=created,
            reason=reason,
            refund_fen=order.payment_fen,
            total_fen=order.payment_fen,
            has_good_return=has_return,
            title=order.title,
            buyer_nick=trade.buyer_nick,
            seller_nick=self.shop.nick,
            order_status=trade.status,
            refund_phase="aftersale" if trade.status == "TRADE_FINISHED" else "onsale",
            trade_type=trade.type,
            dispute_type="REFUND_AND_RETURN" if has_return else "REFUND",
            good_status="BUYER_NOT_RECEIVED"
            if trade.status == "WAIT_SELLER_SEND_GOODS"
            else "BUYER_RECEIVED",
            desc=self.rng.choice(("", "麻烦尽快处理", "图片已上传", "")),
        )
        for key, value in extra.items():
            setattr(refund, key, value)
        last = max(
            [refund.created]
            + [
                v
                for v in (refund.agreed_at, refund.good_return_time, refund.refused_at, refund.cs_since)
                if v is not None
            ]
        )
        refund.modified = _second(min(last, self.now))
        refund.version = int(refund.modified.timestamp() * 1000)
        self.shop.refunds[refund.refund_id] = refund
        order.refund_status, order.refund_id = status, refund.refund_id
        trade.modified = max(trade.modified, refund.modified)
        if status == "SUCCESS" and all(o.refund_status == "SUCCESS" for o in trade.orders):
            trade.status = "TRADE_CLOSED"
            for o in trade.orders:
                o.status = "TRADE_CLOSED"
            trade.end_time = refund.modified
        if self.now - refund.modified < TMC_KEEP:
            self.shop.publish(
                "refund_RefundCreated",
                {
                    "refund_id": refund.refund_id,
                    "tid": trade.tid,
                    "oid": order.oid,
                    "refund_fee": fen_to_yuan(refund.refund_fen),
                    "bill_type": "return_bill" if has_return else "refund_bill",
                    "modified": format_cst(refund.modified),
                },
                refund.modified,
            )
        return refund


def build_shop(
    shop: SimShop, now: datetime, *, seed: int, trades: int, tid_base: int, refund_base: int
) -> SimShop:
    """A realistic shop: ``trades`` trades over 20 days and after-sales cases in every status."""
    b = _Builder(
        shop=shop, now=_second(now), rng=random.Random(seed), tid_base=tid_base, refund_base=refund_base
    )
    rng = b.rng
    h, d = timedelta(hours=1), timedelta(days=1)
    for i in range(trades):
        age = timedelta(minutes=rng.randrange(5, 20 * 24 * 60))
        if age < 2 * h:
            status = rng.choice(("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"))
        elif age < 4 * d:
            status = rng.choice(
                (
                    "WAIT_SELLER_SEND_GOODS",
                    "WAIT_BUYER_CONFIRM_GOODS",
                    "WAIT_BUYER_CONFIRM_GOODS",
                    "TRADE_CLOSED_BY_TAOBAO",
                )
            )
        elif age < 9 * d:
            status = rng.choice(("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"))
        else:
            status = rng.choice(
                ("TRADE_FINISHED", "TRADE_FINISHED", "TRADE_FINISHED", "TRADE_CLOSED_BY_TAOBAO")
            )
        trade_type = rng.choice(("fixed", "fixed", "fixed", "guarantee_trade"))
        step = None
        if i % 40 == 0 and status == "WAIT_SELLER_SEND_GOODS":
            trade_type, step = "step", "FRONT_PAID_FINAL_PAID"
        b.trade(age, status, trade_type=trade_type, step=step)
    # Deterministic variety for the rules (no draw from rng, so the generated shop stays the same):
    # a listing promising 24 h, and a parcel marked shipped that no courier picked up.
    listed = [
        t for t in shop.trades.values() if t.status == "WAIT_SELLER_SEND_GOODS" and not t.step_trade_status
    ]
    if listed:
        listed[0].consign_interval = 24
    on_way = [t for t in shop.trades.values() if t.status == "WAIT_BUYER_CONFIRM_GOODS"]
    if on_way:
        on_way[0].pickup_after = None
    # after-sales cases across every status, each on a trade of a fitting state
    unshipped = lambda age: b.trade(age, "WAIT_SELLER_SEND_GOODS")  # noqa: E731
    shipped = lambda age: b.trade(age, "WAIT_BUYER_CONFIRM_GOODS")  # noqa: E731
    finished = lambda age: b.trade(age, "TRADE_FINISHED")  # noqa: E731
    refund_reasons = REASONS_REFUND
    for k in range(5):  # refund-only on unshipped orders: the seller cannot refuse
        b.refund(
            unshipped(d * (1 + k % 3)),
            "WAIT_SELLER_AGREE",
            h * (5 + 12 * k),
            has_return=False,
            reason=refund_reasons[k % len(refund_reasons)],
        )
    for k in range(4):  # return requests waiting for the seller, one 七天无理由, one cannot_refuse
        b.refund(
            shipped(d * (3 + k)),
            "WAIT_SELLER_AGREE",
            h * (8 + 15 * k),
            has_return=True,
            reason=REASONS_RETURN[k % len(REASONS_RETURN)],
            operation_contraint="cannot_refuse" if k == 3 else None,
        )
    big = shipped(d * 4)  # a large one (a 1,200-yuan coat): agreeing asks for an SMS code
    del big.orders[1:]
    big.orders[0].price_fen, big.orders[0].num, big.orders[0].title = 120_000, 1, "真丝刺绣大衣"
    b.refund(
        big,
        "WAIT_SELLER_AGREE",
        h * 60,
        has_return=False,
        reason="收到商品破损",
        refund_fen=120_000,
        total_fen=120_000,
    )
    for k in range(4):  # agreed returns the buyer must ship; two will ship
        agreed = b._t(d * (1 + k))
        b.refund(
            finished(d * 12),
            "WAIT_BUYER_RETURN_GOODS",
            d * (2 + k),
            has_return=True,
            reason="尺码不合适",
            agreed_at=agreed,
            address=shop.addresses["1001"],
            plan=Plan(ship_return_after=d * (2 + k) if k % 2 else None),
        )
    for k in range(4):  # returns on their way back to the seller
        shipped_at = b._t(d * (1 + 2 * k))
        b.refund(
            finished(d * 15),
            "WAIT_SELLER_CONFIRM_GOODS",
            d * (3 + 2 * k),
            has_return=True,
            reason="质量问题",
            agreed_at=shipped_at - d,
            good_return_time=shipped_at,
            good_status="BUYER_RETURNED_GOODS",
            company_name="中通快递",
            sid=f"75893{k}2210488",
        )
    for k in range(3):  # refused; two buyers will ask Taobao to step in
        b.refund(
            shipped(d * 6),
            "SELLER_REFUSE_BUYER",
            h * (30 + 20 * k),
            has_return=k == 0,
            reason="颜色/款式与描述不符",
            refused_at=b._t(h * (20 + 20 * k)),
            plan=Plan(escalate=k < 2, ruling_for_buyer=k == 0),
        )
    for cs, ago in ((3, d * 5), (10, d * 6), (11, d * 9)):  # under intervention / evidence / appeal open
        status = "SELLER_REFUSE_BUYER" if cs != 11 else "SUCCESS"
        b.refund(
            finished(d * 14),
            status,
            ago,
            has_return=True,
            reason="质量问题",
            cs_status=cs,
            cs_since=b._t(h * 12) if cs != 11 else None,
            refused_at=b._t(ago - d),
        )
    for k in range(6):  # history
        b.refund(
            finished(d * 18),
            "SUCCESS" if k % 2 else "CLOSED",
            d * (10 + k),
            has_return=bool(k % 3),
            reason=REASONS_RETURN[k % len(REASONS_RETURN)],
        )
    if shop.tmall:
        for k, status in enumerate(("1", "2", "3", "12", "13", "5", "4")):
            trade = finished(d * (8 + k))
            created = b._t(d * (1 + k))
            order = trade.orders[0]
            exchange = Exchange(
                refund_id=refund_base + 900_000 + k * 17,
                tid=trade.tid,
                oid=order.oid,
                status=status,
                created=created,
                modified=_second(created + h * 3),
                reason="尺码不合适（换货）",
                refund_fen=order.payment_fen,
                title=order.title,
                buyer_nick=trade.buyer_nick,
                buyer_logistic_no=f"ZT{k}88102233" if status in ("3", "12", "13", "5") else None,
                seller_logistic_no=f"SF{k}1022998" if status in ("13", "5") else None,
            )
            shop.exchanges[exchange.refund_id] = exchange
    shop.run_until(_second(now))
    return shop
