"""A realistic, deterministic Pinduoduo shop for the sandbox: orders and after-sales cases.

Generated relative to a given "now" with a fixed random seed, so a demo looks live and a test run
is reproducible. Every documented ``after_sales_status`` appears at least once (plus 3 and 14 with
a return waybill), with every after-sales type and reasons that select every handling guide.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.clock import CST
from hub.domain import AfterSaleKind

K = AfterSaleKind

#: The sandbox's own reply window for cases waiting for the seller (what its expire_time gives).
SELLER_HOURS = 48
#: 退款中 → 退款成功 in the sandbox (the payment channel's time).
REFUND_PROCESSING = timedelta(hours=24)
#: The sandbox's buyer timeouts: 7 → 12 (no return shipped), 6 → 13 (no answer to a refusal).
BUYER_TIMEOUT = timedelta(days=7)
#: How long ago a generated case may have entered a status the platform later moves on by itself.
_RECENT = {4: REFUND_PROCESSING, 5: REFUND_PROCESSING, 6: BUYER_TIMEOUT, 7: BUYER_TIMEOUT}


@dataclass
class SimOrder:
    order_sn: str
    created: datetime
    paid: datetime
    updated: datetime
    goods_id: int
    sku_id: int
    goods_name: str
    goods_spec: str
    price_fen: int
    count: int
    postage_fen: int = 0
    order_status: int = 1  # 1 待发货, 2 已发货待签收, 3 已签收
    confirm_status: int = 1
    group_status: int = 1
    refund_status: int = 1
    after_sales_status: int = 0
    shipping_time: datetime | None = None
    receive_time: datetime | None = None
    last_ship_time: datetime | None = None
    tracking_number: str = ""
    receiver_name: str = ""
    receiver_phone: str = ""

    @property
    def pay_fen(self) -> int:
        return self.price_fen * self.count + self.postage_fen


@dataclass
class SimCase:
    id: int
    order_sn: str
    kind: AfterSaleKind
    status: int
    reason: str
    remark: str
    refund_fen: int
    created: datetime
    status_since: datetime
    updated: datetime
    expire: datetime | None = None
    waybill: str | None = None
    shipping_name: str | None = None
    join: bool = False
    images: list[str] = field(default_factory=list)
    operator_role: int = 0
    corrupt: bool = False


PRODUCTS = (
    (2542137428, 52494558847, "夏季纯棉短袖T恤 男女同款", "白色 XL", 3990),
    (2525296157, 51972265894, "加厚珊瑚绒毛毯 150x200", "灰色", 5900),
    (2601839921, 53378120034, "不锈钢保温杯 500ml", "墨绿", 2990),
    (2619002345, 53601223310, "儿童卡通雨靴", "粉色 28码", 4500),
    (2633310045, 53788819921, "手机壳 防摔全包", "iPhone 15 透明", 990),
    (2640011873, 53891200457, "家用收纳箱 三件套", "大号", 6880),
)

#: Reasons as buyers pick them on PDD, chosen to exercise every handling guide.
REASONS = {
    "missing": ("少件/漏发", "收到只有一件，少发了一件"),
    "wrong": ("发错货", "颜色发错了，我买的是白色"),
    "not_ours": ("商品与描述不符", "图片里的商品不是本店的款，疑似别家商品"),
    "no_update": ("物流不更新", "物流信息三天没更新了"),
    "out_of_area": ("快递超区", "快递说超区不派送，要自己去网点自提"),
    "signed": ("显示签收但未收到货", "物流显示签收但没收到"),
    "damaged": ("包裹破损", "外包装破损，杯子压坏了"),
    "address": ("需要修改地址", "地址写错了，想改地址"),
    "quality": ("质量问题", "穿了一次就开线"),
    "no_reason": ("七天无理由退货", "不喜欢"),
    "dont_want": ("不想要了", "拍错了"),
}

#: (status, kind, reason key, has return waybill): one case each, so every code is covered.
COVERAGE: tuple[tuple[int, AfterSaleKind, str, bool], ...] = (
    (2, K.REFUND_ONLY, "no_update", False),
    (2, K.REFUND_ONLY, "address", False),
    (3, K.RETURN_REFUND, "no_reason", False),
    (3, K.RETURN_REFUND, "quality", True),
    (4, K.REFUND_ONLY, "dont_want", False),
    (5, K.REFUND_ONLY, "not_ours", False),
    (6, K.REFUND_ONLY, "signed", False),
    (7, K.RETURN_REFUND, "wrong", False),
    (8, K.REFUND_ONLY, "missing", False),
    (9, K.REFUND_ONLY, "not_ours", False),
    (10, K.RETURN_REFUND, "quality", True),
    (11, K.REFUND_ONLY, "dont_want", False),
    (12, K.RETURN_REFUND, "no_reason", False),
    (13, K.REFUND_ONLY, "out_of_area", False),
    (14, K.EXCHANGE, "wrong", False),
    (14, K.EXCHANGE, "wrong", True),
    (15, K.EXCHANGE, "quality", False),
    (16, K.EXCHANGE, "wrong", True),
    (17, K.EXCHANGE, "quality", False),
    (18, K.EXCHANGE, "wrong", True),
    (21, K.REPAIR, "quality", False),
    (22, K.REPAIR, "quality", False),
    (24, K.REPAIR, "quality", False),
    (25, K.REPAIR, "quality", True),
    (27, K.REPAIR, "quality", True),
    (31, K.REFUND_ONLY, "dont_want", False),
    (32, K.RESHIP, "missing", False),
    (33, K.REFUND_ONLY, "address", False),
    (2, K.REFUND_ONLY, "damaged", False),
    (3, K.RETURN_REFUND, "damaged", False),
    (14, K.RESHIP, "missing", False),
)

SELLER_PENDING = frozenset({2, 3, 14, 21, 32, 33})
OPEN = frozenset({2, 3, 4, 5, 6, 7, 8, 14, 15, 18, 21, 22, 27, 31, 32, 33})
COURIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递")
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇")


def order_sn(day: datetime, n: int) -> str:
    return f"{day:%y%m%d}-{481803633911509 + n * 7919:015d}"


#: order_sn suffixes of the demo sales that the 17网 demo's purchases name in their remarks
#: (plugins/seventeen/sandbox.py DEMO_PDD_SUFFIXES): ``<Beijing date of the order>-<suffix>``.
LINKED_SUFFIXES = ("900000000000001", "900000000000002")


def generate(
    now: datetime,
    *,
    seed: int = 20261101,
    extra_orders: int = 40,
    span: timedelta = timedelta(days=11),
    linked_ages: tuple[float, ...] = (),
) -> tuple[list[SimOrder], list[SimCase]]:
    """The shop's orders and cases; everything last modified at least 10 minutes before ``now``.

    ``span`` is how far back the shop's history reaches (11 days for a demo); a shorter one
    squeezes every age proportionally, so tests sync few windows with the same variety of cases.
    ``linked_ages`` adds, for the demo, sales of that many days ago with the order numbers the 17网
    demo's purchases name, each with a buyer's return waiting for the seller.
    """
    rng = random.Random(seed)
    f = span / timedelta(days=11)

    def hours(a: float, b: float | None = None) -> timedelta:
        return timedelta(hours=rng.uniform(a, b) if b is not None else a) * f

    orders: list[SimOrder] = []
    cases: list[SimCase] = []
    settle = now - timedelta(minutes=10)

    def new_order(age: timedelta, shipped: bool, signed: bool) -> SimOrder:
        n = len(orders)
        created = now - age
        goods_id, sku_id, name, spec, price = rng.choice(PRODUCTS)
        paid = created + timedelta(minutes=rng.randint(1, 8))
        o = SimOrder(
            order_sn=order_sn(created, n),
            created=created,
            paid=paid,
            updated=paid,
            goods_id=goods_id,
            sku_id=sku_id,
            goods_name=name,
            goods_spec=spec,
            price_fen=price,
            count=rng.choice((1, 1, 1, 2)),
            postage_fen=rng.choice((0, 0, 500)),
            last_ship_time=paid + timedelta(hours=48),
            receiver_name=rng.choice(NAMES),
            receiver_phone=f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}",
        )
        if shipped:
            o.shipping_time = min(paid + hours(2, 20), settle)
            o.order_status = 2
            o.tracking_number = f"YT{rng.randint(10**11, 10**12 - 1)}"
            o.updated = o.shipping_time
        if shipped and signed:
            assert o.shipping_time is not None
            o.receive_time = min(o.shipping_time + hours(30, 70), settle)
            o.order_status = 3
            o.updated = o.receive_time
        orders.append(o)
        return o

    for i, (status, kind, reason_key, waybill) in enumerate(COVERAGE):
        before_ship = kind is K.REFUND_ONLY and reason_key in ("dont_want",) and status in (4, 11)
        o = new_order(
            timedelta(days=rng.uniform(4.5, 11)) * f,
            shipped=not before_ship,
            signed=not before_ship and reason_key not in ("no_update", "out_of_area", "address"),
        )
        base = o.receive_time or o.shipping_time or o.paid
        created = min(base + hours(1, 30), settle - hours(2))
        if status in SELLER_PENDING:
            # Waiting for the seller: entered the status within the last 46 h, so PDD's expire_time
            # (48 h on) is still ahead, some of them only just.
            # Not squeezed by ``span`` beyond its length: the 48-hour reply window is PDD's.
            ago = min(rng.choice((2, 9, 20, 31, 46.5)) - rng.uniform(0, 1.5), span / timedelta(hours=1))
            since = min(now - timedelta(hours=ago), settle)
            created = min(created, since)
        elif status in _RECENT:
            # Still in a status PDD moves on by itself: entered it recently enough.
            since = min(now - _RECENT[status] * rng.uniform(0.1, 0.9) * f, settle)
            created = min(created, since)
        else:
            since = min(created + hours(2, 60), settle)
        reason, remark = REASONS[reason_key]
        refund = o.pay_fen if kind in (K.REFUND_ONLY, K.RETURN_REFUND) else 0
        case = SimCase(
            id=301851299 + i * 17,
            order_sn=o.order_sn,
            kind=kind,
            status=status,
            reason=reason,
            remark=remark,
            refund_fen=refund,
            created=created,
            status_since=since,
            updated=since,
            join=status in (5, 8, 9),
            images=[f"https://img.pddpic.com/sandbox/{i}-{j}.jpeg" for j in range(rng.randint(0, 3))],
            operator_role={4: 2, 5: 3, 10: 2}.get(status, 0),
        )
        if waybill:
            case.waybill = f"SF{rng.randint(10**11, 10**12 - 1)}"
            case.shipping_name = rng.choice(COURIERS)
        if status in SELLER_PENDING:
            case.expire = since + timedelta(hours=SELLER_HOURS)
        cases.append(case)

    for _ in range(extra_orders):
        age = hours(0.5, 24 * 10) + timedelta(minutes=15)
        shipped = age > hours(20) and rng.random() < 0.85
        new_order(age, shipped=shipped, signed=shipped and age > hours(72))
    # A group that failed, a cancelled order and one still forming a group.
    orders[-1].group_status = 2
    orders[-2].confirm_status = 2
    orders[-3].group_status, orders[-3].confirm_status = 0, 0
    for n, age_days in enumerate(linked_ages):
        o = new_order(timedelta(days=age_days), shipped=True, signed=True)
        o.order_sn = f"{o.created.astimezone(CST):%y%m%d}-{LINKED_SUFFIXES[n]}"
        since = min((o.receive_time or o.paid) + hours(1, 5), settle - hours(1))
        reason, remark = REASONS["no_reason"]
        case = SimCase(
            id=309000001 + n,
            order_sn=o.order_sn,
            kind=K.RETURN_REFUND,
            status=3,
            reason=reason,
            remark=remark,
            refund_fen=o.pay_fen,
            created=since,
            status_since=since,
            updated=since,
        )
        case.expire = since + timedelta(hours=SELLER_HOURS)
        cases.append(case)
    # PDD's times have whole seconds (expire_time: milliseconds of a whole second).
    for item in (*orders, *cases):
        for name, value in vars(item).items():
            if isinstance(value, datetime):
                setattr(item, name, value.replace(microsecond=0))
    for o in orders:
        settle_order(o, [c for c in cases if c.order_sn == o.order_sn])
    return orders, cases


def settle_order(o: SimOrder, cases: list[SimCase]) -> None:
    """The order-level refund_status / after_sales_status / updated_at its cases imply."""
    if not cases:
        return
    latest = max(cases, key=lambda c: c.updated)
    o.after_sales_status = latest.status
    if latest.status in (4, 5):
        o.refund_status = 3
    elif latest.status == 10:
        o.refund_status = 4
    elif latest.status in OPEN:
        o.refund_status = 2
    else:
        o.refund_status = 1
    o.updated = max(o.updated, latest.updated)
