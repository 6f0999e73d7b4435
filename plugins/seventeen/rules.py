"""17网's rule table: every row from seed 003 (售后代发有哪些常见的问题) as DOMAIN.md distils it.

The merchant is the **buyer** on 17网 (they buy from the stall through 代发), so the steps the
merchant must take carry ``Party.BUYER``; what 代发 or the stall must do carries ``Party.PLATFORM``.
"""

from __future__ import annotations

from datetime import timedelta

from hub.domain import OnExpiry, Party
from hub.rules import Constraint, Match, Rule, RuleTable

SEED = "seeds/003 售后代发有哪些常见的问题"
DOMAIN = "DOMAIN.md 17网"

#: the shop setting for the 3-5 day stall processing (raise it for 大促 and holidays)
PROCESSING_SETTING = "return_processing"
PROCESSING_DEFAULT = "5d"

AUTO_CONFIRM = Rule(
    id="seventeen.auto_confirm",
    match=Match(subject="order", statuses=frozenset({"shipped"}), facts={"receipt_extended": None}),
    anchor="shipped_at",
    duration=timedelta(days=12),
    party=Party.BUYER,
    action="extend_receipt",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    source=f"{SEED} 备注(1): 自发货起自动确认收货时间为12天 … 订单交易成功后不支持线上申请退货; {DOMAIN}",
    summary_zh="发货后12天自动确认收货；交易成功后不能线上退货。需要售后请先延长收货（一次，最多7天）",
    summary_en="17网 confirms receipt 12 days after shipment; after trade success no online return: "
    "extend receipt (once, at most 7 days) if a return may come",
)
AUTO_CONFIRM_EXTENDED = Rule(
    id="seventeen.auto_confirm_extended",
    match=Match(subject="order", statuses=frozenset({"shipped"}), facts={"receipt_extended": True}),
    anchor="fact:auto_confirm_at",
    duration=timedelta(0),
    party=Party.BUYER,
    action="apply_return",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    source=f"{SEED} 备注(1): 操作延长收货 最多可延长7天; {DOMAIN}",
    summary_zh="已延长收货：延长后的期限到期即交易成功，之后不能线上退货",
    summary_en="Receipt extended: at the extended time the trade succeeds and no online return is possible",
)
APPLY_BEFORE_AUTO_CONFIRM = Rule(
    id="seventeen.apply_before_auto_confirm",
    # only while 17网 still shows the order as shipped: an order in 退货中 is not auto-confirmed
    match=Match(statuses=frozenset({"requested", "awaiting_return"}), facts={"order_status": "shipped"}),
    anchor="fact:auto_confirm_at",
    duration=timedelta(0),
    party=Party.BUYER,
    action="extend_receipt",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    source=f"{SEED} 备注(1): 有售后问题需要处理的情况下 … 操作延长收货; {DOMAIN}",
    summary_zh="退货未寄出：订单将自动确认收货，需要时先延长收货",
    summary_en="Return not shipped yet: the order auto-confirms at this time; extend receipt if needed",
)
SCRAP_UNCLAIMED = Rule(
    id="seventeen.unclaimed_scrapped",
    match=Match(statuses=frozenset({"return_shipped"}), facts={"unclaimed_since": True}),
    anchor="fact:unclaimed_since",
    duration=timedelta(days=15),
    party=Party.BUYER,
    action="claim_return",
    on_expiry=OnExpiry.SCRAPPED,
    source=f"{SEED} 备注(3): 未在线上申请退货的包裹,代发不会将其拆包,"
    f"若超过 15 天无人认领,包裹将被集中报废处理; {DOMAIN}",
    summary_zh="代发已签收但没有线上申请/运单号：15天内不认领将被报废",
    summary_en="代发 holds a return parcel with no online application or waybill: "
    "claim it within 15 days or it is scrapped",
)
PROCESSING = Rule(
    id="seventeen.return_processing",
    match=Match(
        statuses=frozenset({"return_shipped"}), facts={"daifa_signed_at": True, "unclaimed_since": None}
    ),
    anchor="fact:daifa_signed_at",
    duration=timedelta(days=5),
    party=Party.PLATFORM,
    action="stall_result",
    on_expiry=OnExpiry.OVERDUE,
    source=f"{SEED} 退货流程(4) / 已经申请退货了,多久会处理好: 签收包裹后的 3-5 天内进行退货处理,"
    f"电商大促、特殊节假日可能有延迟; {DOMAIN}",
    summary_zh="代发签收后3-5天内拿到档口处理退货（大促、节假日可能延迟）",
    summary_en="代发 takes the return to the stall within 3-5 days of signing "
    "(slower in promotions and holidays)",
    setting=PROCESSING_SETTING,
)
OUT_OF_STOCK_3D = Rule(
    id="seventeen.out_of_stock_3d",
    match=Match(
        subject="order",
        statuses=frozenset({"paid"}),
        facts={"out_of_stock": True, "ship_available_after_3d": True},
    ),
    anchor="created_at",
    duration=timedelta(days=3),
    party=Party.PLATFORM,
    action="ship_available",
    on_expiry=OnExpiry.NOTHING,
    source=f"{SEED} 缺货常见问题: 下单三天有货先发 … "
    f"超出三天还未拿到货的话,代发会直接将您有货的商品先行发出; {DOMAIN}",
    summary_zh="缺货（下单三天有货先发）：三天内代发继续拿货，之后先发有货商品",
    summary_en="Out of stock with 下单三天有货先发: 代发 keeps trying for 3 days, then ships what is there",
)

NO_WAYBILL_BEFORE_APPLY = Constraint(
    id="seventeen.waybill_after_apply",
    action="enter_return_waybill",
    match=Match(facts={"applied": None}),
    reason_zh="尚未线上申请退货：先在17网申请，再填写退货运单号",
    reason_en="No online application yet: apply on 17网 first, then enter the return waybill",
    source=f"{SEED} 退货流程(2)(3)",
)
NO_RETURN_AFTER_SUCCESS = Constraint(
    id="seventeen.no_return_after_success",
    action="apply_return",
    match=Match(facts={"order_completed": True}),
    reason_zh="订单交易成功后不支持线上申请退货",
    reason_en="After trade success 17网 takes no online return",
    source=f"{SEED} 备注(1)",
)
NO_EXCHANGE = Constraint(
    id="seventeen.no_exchange",
    action="exchange",
    match=Match(),
    reason_zh="17网暂不支持换货：申请退货后再重新下单",
    reason_en="17网 has no exchange: return the goods, then order again",
    source=f"{SEED} 可以换货吗",
)
DISCONTINUED_NO_RETURN = Constraint(
    id="seventeen.discontinued",
    action="apply_return",
    match=Match(
        subject="order", facts={"discontinued": True}, statuses=frozenset({"paid", "refunding", "closed"})
    ),
    reason_zh="档口不做了：代发联系档口在17网下架并退款，无需退货",
    reason_en="Discontinued by the stall: 代发 delists it on 17网 and refunds; nothing to return",
    source=f"{SEED} 商品缺货了之后还会再拿吗: 若档口说商品不做了,我们会联系档口把商品在17网下架,并联系您退款",
)

#: Not a deadline but a rule all the same: what 17网 refunds [seed 003 退货都能按照买的原价退吗].
REFUND_BASIS_SOURCE = f"{SEED} 退货都能按照买的原价退吗: 档口通常都按商品的当前售价退货"

TABLE = RuleTable(
    platform="seventeen",
    rules=(
        AUTO_CONFIRM,
        AUTO_CONFIRM_EXTENDED,
        APPLY_BEFORE_AUTO_CONFIRM,
        SCRAP_UNCLAIMED,
        PROCESSING,
        OUT_OF_STOCK_3D,
    ),
    constraints=(NO_WAYBILL_BEFORE_APPLY, NO_RETURN_AFTER_SUCCESS, NO_EXCHANGE, DISCONTINUED_NO_RETURN),
)


def rule_table() -> RuleTable:
    return TABLE
