"""17网's rule table: who acts next on a 17网 purchase or return, what, by when, and why.

Parties are named from the merchant's side. On 17网 the merchant buys (from the stall, through
the dropship team 代发), so the merchant's own steps carry ``Party.MERCHANT`` and what 代发 or the
stall must do carries ``Party.SUPPLIER``. Every row cites, in words, the passage of 17网's
dropship after-sales FAQ (售后代发常见问题) it comes from, or says it is a shop-policy figure
because 17网 publishes none; ``docs/rules/seventeen.md`` has one section per rule id.

``STATES`` lists every (kind, status) the mapping (:mod:`.mapping`, :mod:`.state`) can produce;
each open one has an unconditional row: a clock, or an explicit no-clock reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from hub.clock import parse_duration
from hub.domain import AfterSaleKind, OnExpiry, Party
from hub.errors import ConfigError
from hub.rules import Constraint, Match, Rule, RuleTable

from .state import STAGE_STATUS

#: The published source every 17网 figure comes from, in words.
FAQ = "17网 dropship after-sales FAQ (售后代发常见问题)"
#: A figure 17网 does not publish: the shop's own policy, a setting with a default.
SHOP_POLICY = "shop policy (17网 publishes no figure)"

#: the shop setting for the 3-5 day stall processing (raise it for 大促 and holidays)
PROCESSING_SETTING = "return_processing"
PROCESSING_DEFAULT = "5d"
#: shop policy: days the merchant allows itself to get the return on its way once 代发 agreed
SHIP_RETURN_SETTING = "return_ship_days"
SHIP_RETURN_DEFAULT = "7d"
#: shop policy: days the merchant allows itself to arrange the refused goods' way back
REFUSED_SETTING = "refused_followup_days"
REFUSED_DEFAULT = "3d"

#: Every (kind, status) the mapping can produce: a return or a refund-only request, in every
#: status a 17网 return stage maps to (``state.STAGE_STATUS``).
STATES: frozenset[tuple[str, str]] = frozenset(
    (kind.value, status.value)
    for kind in (AfterSaleKind.RETURN_REFUND, AfterSaleKind.REFUND_ONLY)
    for status in set(STAGE_STATUS.values())
)

AUTO_CONFIRM = Rule(
    id="seventeen.auto_confirm",
    match=Match(subject="order", statuses=frozenset({"shipped"}), facts={"receipt_extended": None}),
    anchor="shipped_at",
    duration=timedelta(days=12),
    start_event="代发 ships the purchase (17网's ship time)",
    start_event_zh="代发发货（17网的发货时间）",
    party=Party.MERCHANT,
    action="extend_receipt",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    consequence_zh="自动确认收货，之后不能线上申请退货",
    consequence_en="receipt is confirmed automatically; no online return after it",
    source=f"{FAQ}, note (1): receipt is confirmed automatically 12 days after shipment; "
    "no online return after trade success",
    summary_zh="发货后12天自动确认收货；交易成功后不能线上退货。可能有售后时先延长收货（一次，最多7天）",
    summary_en="17网 confirms receipt 12 days after shipment; after trade success no online return: "
    "extend receipt (once, at most 7 days) if a return may come",
)
AUTO_CONFIRM_EXTENDED = Rule(
    id="seventeen.auto_confirm_extended",
    match=Match(subject="order", statuses=frozenset({"shipped"}), facts={"receipt_extended": True}),
    anchor="fact:auto_confirm_at",
    duration=timedelta(0),
    start_event="the extended auto-confirm time (shipment + 12 days + the extension, at most 7 days)",
    start_event_zh="延长后的自动确认收货时间（发货 + 12天 + 延长天数，最多7天）",
    party=Party.MERCHANT,
    action="apply_return",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    consequence_zh="自动确认收货，之后不能线上申请退货",
    consequence_en="receipt is confirmed automatically; no online return after it",
    source=f"{FAQ}, note (1): receipt can be extended once, by at most 7 days",
    summary_zh="已延长收货：延长后的期限到期即交易成功，之后不能线上退货",
    summary_en="Receipt extended: at the extended time the trade succeeds and no online return is possible",
)
APPLY_BEFORE_AUTO_CONFIRM = Rule(
    id="seventeen.apply_before_auto_confirm",
    # only while 17网 still shows the order as shipped: an order in 退货中 is not auto-confirmed
    match=Match(statuses=frozenset({"requested", "awaiting_return"}), facts={"order_status": "shipped"}),
    anchor="fact:auto_confirm_at",
    duration=timedelta(0),
    start_event="the purchase's auto-confirm time (shipment + 12 days, or the extended time)",
    start_event_zh="采购单的自动确认收货时间（发货 + 12天，或延长后的时间）",
    party=Party.MERCHANT,
    action="extend_receipt",
    on_expiry=OnExpiry.AUTO_CONFIRM,
    consequence_zh="自动确认收货，这笔退货不能再线上处理",
    consequence_en="receipt is confirmed automatically; this return can no longer go online",
    source=f"{FAQ}, note (1): with an after-sales problem pending, extend receipt from the order's details",
    summary_zh="退货未寄出：订单将自动确认收货，需要时先延长收货",
    summary_en="Return not shipped yet: the order auto-confirms at this time; extend receipt if needed",
)
DAIFA_REVIEW = Rule(
    id="seventeen.daifa_review",
    match=Match(statuses=frozenset({"requested"})),
    duration=None,
    no_clock_reason="17网 gives 代发 no time to review a return application",
    no_clock_reason_zh="17网没有规定代发审核退货申请的时限",
    start_event="the merchant applies for the return online",
    start_event_zh="线上提交退货申请",
    party=Party.SUPPLIER,
    action="review_return",
    on_expiry=OnExpiry.NOTHING,
    source=f"{FAQ}, return flow (2): apply online; once 代发 agrees, a return address is given",
    summary_zh="等代发审核退货申请，同意后会给退货地址",
    summary_en="代发 reviews the application; once agreed it gives the return address",
)
SHIP_RETURN = Rule(
    id="seventeen.ship_return",
    match=Match(statuses=frozenset({"awaiting_return"})),
    anchor=("fact:agreed_at", "status_since"),
    duration=timedelta(days=7),
    counting="natural_days",
    policy=True,
    setting=SHIP_RETURN_SETTING,
    start_event="代发 agrees to the return and gives its address",
    start_event_zh="代发同意退货并给出退货地址",
    party=Party.MERCHANT,
    action="enter_return_waybill",
    on_expiry=OnExpiry.OVERDUE,
    consequence_zh="无自动处理；拖久了档口可能下架（下架商品不退）",
    consequence_en="nothing automatic; the longer it waits, the likelier the stall delists the goods "
    "(delisted goods are not taken back)",
    source=f"{SHOP_POLICY}; {FAQ}, return flow (3): ship and enter the return's tracking number as soon "
    "as possible; how to return successfully (1): return early, before the goods are delisted",
    summary_zh="代发已同意：寄回退货并在17网填写退货运单号（店铺规定的天数内）",
    summary_en="代发 agreed: ship the return and enter its tracking number on 17网 (within the shop's days)",
)
SCRAP_UNCLAIMED = Rule(
    id="seventeen.unclaimed_scrapped",
    match=Match(statuses=frozenset({"return_shipped"}), facts={"unclaimed_since": True}),
    anchor="fact:unclaimed_since",
    duration=timedelta(days=15),
    start_event="代发 signs for a return parcel that has no online application or no tracking number",
    start_event_zh="代发签收了没有线上申请或没有填写运单号的退货包裹",
    party=Party.MERCHANT,
    action="claim_return",
    on_expiry=OnExpiry.SCRAPPED,
    consequence_zh="包裹被集中报废，无法找回",
    consequence_en="the parcel is scrapped with the others and cannot be recovered",
    source=f"{FAQ}, note (3): a parcel at 代发 with no online application is not opened and is "
    "scrapped after 15 days unclaimed",
    summary_zh="代发已签收但没有线上申请/运单号：15天内不认领将被报废",
    summary_en="代发 holds a return parcel with no online application or waybill: "
    "claim it within 15 days or it is scrapped",
)
IN_TRANSIT = Rule(
    id="seventeen.return_in_transit",
    match=Match(statuses=frozenset({"return_shipped"})),
    duration=None,
    no_clock_reason="the return parcel is with the courier; 17网 gives 代发 no time to sign for it",
    no_clock_reason_zh="退货包裹在快递途中；17网没有规定代发签收的时限",
    start_event="the merchant enters the return's tracking number",
    start_event_zh="在17网填写退货运单号",
    party=Party.SUPPLIER,
    action="sign_return",
    on_expiry=OnExpiry.NOTHING,
    source=f"{FAQ}, return flow (3)(4): after shipping, 代发 receives the parcel and takes it to the stall",
    summary_zh="退货在途：等代发签收",
    summary_en="Return on its way: 代发 signs for it on arrival",
)
PROCESSING = Rule(
    id="seventeen.return_processing",
    match=Match(
        statuses=frozenset({"return_shipped"}), facts={"daifa_signed_at": True, "unclaimed_since": None}
    ),
    anchor="fact:daifa_signed_at",
    duration=timedelta(days=5),
    setting=PROCESSING_SETTING,
    start_event="代发 signs for the matched return parcel",
    start_event_zh="代发签收已匹配的退货包裹",
    party=Party.SUPPLIER,
    action="stall_result",
    on_expiry=OnExpiry.OVERDUE,
    consequence_zh="无自动处理：超期仍无结果请催代发",
    consequence_en="nothing automatic: past the time without a result, chase 代发",
    source=f"{FAQ}, return flow (4) and 'how long does a return take': 代发 takes the return to the "
    "stall within 3-5 days of signing; later in big promotions and holidays",
    summary_zh="代发签收后3-5天内拿到档口处理退货（大促、节假日可能延迟）",
    summary_en="代发 takes the return to the stall within 3-5 days of signing "
    "(slower in promotions and holidays)",
)
REFUNDING = Rule(
    id="seventeen.refunding",
    match=Match(statuses=frozenset({"refunding"})),
    duration=None,
    no_clock_reason="the stall took the goods back; 17网 gives 代发 no time to pay the refund",
    no_clock_reason_zh="档口已收货；17网没有规定代发退款的时限",
    start_event="the stall accepts the return",
    start_event_zh="档口同意退货",
    party=Party.SUPPLIER,
    action="refund",
    on_expiry=OnExpiry.NOTHING,
    source=f"{FAQ}, return flow (4): when the stall accepts the return, 代发 refunds the merchant",
    summary_zh="档口已退货成功：等代发退款",
    summary_en="The stall accepted the return: 代发 refunds",
)
REFUSED_SEND_BACK = Rule(
    id="seventeen.refused_send_back",
    match=Match(statuses=frozenset({"seller_refused"})),
    anchor=("fact:result_at", "status_since"),
    duration=timedelta(days=3),
    counting="natural_days",
    policy=True,
    setting=REFUSED_SETTING,
    start_event="the stall refuses the return",
    start_event_zh="档口拒绝退货",
    party=Party.MERCHANT,
    action="arrange_send_back",
    on_expiry=OnExpiry.OVERDUE,
    consequence_zh="不退款，货留在代发处，货款由你承担",
    consequence_en="no refund; the goods stay with 代发 and their cost is yours until they come back",
    source=f"{SHOP_POLICY}; {FAQ}, return flow (4): a refused return is not refunded; contact 代发 to "
    "have the goods sent back",
    summary_zh="档口拒绝退货：联系代发把货寄回",
    summary_en="The stall refused the return: contact 代发 to have the goods sent back",
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
    start_event="the merchant places the 17网 order (with 下单三天有货先发)",
    start_event_zh="在17网下单（选择下单三天有货先发）",
    party=Party.SUPPLIER,
    action="ship_available",
    on_expiry=OnExpiry.NOTHING,
    consequence_zh="代发先发有货的商品，缺的不再等",
    consequence_en="代发 ships what is in stock and stops waiting for the rest",
    source=f"{FAQ}, out-of-stock questions: with 下单三天有货先发, 代发 keeps trying for 3 days after the "
    "order, then ships what is in stock",
    summary_zh="缺货（下单三天有货先发）：三天内代发继续拿货，之后先发有货商品",
    summary_en="Out of stock with 下单三天有货先发: 代发 keeps trying for 3 days, then ships what is there",
)

OUT_OF_STOCK_WAIT = Rule(
    id="seventeen.out_of_stock_wait",
    match=Match(
        subject="order",
        statuses=frozenset({"paid"}),
        facts={"out_of_stock": True, "ship_available_after_3d": None},
    ),
    duration=None,
    no_clock_reason="out of stock without 下单三天有货先发: 代发 re-picks when the stall restocks, "
    "with no date",
    no_clock_reason_zh="缺货且未选下单三天有货先发：代发等档口补货再拿，没有确定时间",
    start_event="代发 reports the order out of stock",
    start_event_zh="代发反馈缺货",
    party=Party.SUPPLIER,
    action="restock_pick",
    on_expiry=OnExpiry.NOTHING,
    source=f"{FAQ}, out-of-stock questions: 代发 re-picks on the day the stall says it has stock again; "
    "a discontinued item is delisted and refunded",
    summary_zh="缺货：等档口补货后代发再拿货；档口不做了则下架退款",
    summary_en="Out of stock: 代发 picks again when the stall restocks; discontinued goods are refunded",
)

NO_WAYBILL_BEFORE_APPLY = Constraint(
    id="seventeen.waybill_after_apply",
    action="enter_return_waybill",
    match=Match(facts={"applied": None}),
    reason_zh="尚未线上申请退货：先在17网申请，再填写退货运单号",
    reason_en="No online application yet: apply on 17网 first, then enter the return waybill",
    source=f"{FAQ}, return flow (2)(3): apply online, then enter the return's tracking number",
)
NO_RETURN_AFTER_SUCCESS = Constraint(
    id="seventeen.no_return_after_success",
    action="apply_return",
    match=Match(facts={"order_completed": True}),
    reason_zh="订单交易成功后不支持线上申请退货",
    reason_en="After trade success 17网 takes no online return",
    source=f"{FAQ}, note (1): no online return after trade success",
)
NO_EXCHANGE = Constraint(
    id="seventeen.no_exchange",
    action="exchange",
    match=Match(),
    reason_zh="17网暂不支持换货：申请退货后再重新下单",
    reason_en="17网 has no exchange: return the goods, then order again",
    source=f"{FAQ}, 'can I exchange': no exchange; return, then order again",
)
DISCONTINUED_NO_RETURN = Constraint(
    id="seventeen.discontinued",
    action="apply_return",
    match=Match(
        subject="order", facts={"discontinued": True}, statuses=frozenset({"paid", "refunding", "closed"})
    ),
    reason_zh="档口不做了：代发联系档口在17网下架并退款，无需退货",
    reason_en="Discontinued by the stall: 代发 delists it on 17网 and refunds; nothing to return",
    source=f"{FAQ}, out-of-stock questions: when the stall stops making an item, 代发 delists it and refunds",
)

#: Not a deadline but a rule all the same: what 17网 refunds. The stall refunds its current price;
#: hub expects the lower of that and the price paid (a stall never refunds more than was paid).
REFUND_BASIS_SOURCE = f"{FAQ}, 'is a return refunded at the price paid': the stall refunds its current price"

TABLE = RuleTable(
    platform="seventeen",
    rules=(
        AUTO_CONFIRM,
        AUTO_CONFIRM_EXTENDED,
        APPLY_BEFORE_AUTO_CONFIRM,
        DAIFA_REVIEW,
        SHIP_RETURN,
        SCRAP_UNCLAIMED,
        IN_TRANSIT,
        PROCESSING,
        REFUNDING,
        REFUSED_SEND_BACK,
        OUT_OF_STOCK_3D,
        OUT_OF_STOCK_WAIT,
    ),
    constraints=(NO_WAYBILL_BEFORE_APPLY, NO_RETURN_AFTER_SUCCESS, NO_EXCHANGE, DISCONTINUED_NO_RETURN),
    states=STATES,
)


def rule_table() -> RuleTable:
    return TABLE


def check_duration_settings(settings: Mapping[str, str], extra: Mapping[str, bool] | None = None) -> None:
    """Refuse a shop's clock setting that cannot be read, naming it, before any clock uses it.

    Each rule's ``setting`` must be a duration (``5d``, ``36h``); one of a natural-day rule must be
    whole days, since such a clock ends at a Beijing midnight. ``extra`` names other duration
    settings (name -> whole days required).
    """
    wanted: dict[str, bool] = {r.setting: r.counting == "natural_days" for r in TABLE.rules if r.setting}
    wanted.update(extra or {})
    for name, whole_days in wanted.items():
        raw = (settings.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = parse_duration(raw)
        except ValueError as err:
            raise ConfigError(f"17网 setting {name}={raw!r}: {err}") from None
        if value <= timedelta(0):
            raise ConfigError(f"17网 setting {name}={raw!r}: must be longer than zero")
        if whole_days and value % timedelta(days=1):
            raise ConfigError(
                f"17网 setting {name}={raw!r}: counted in natural days (to 00:00 Beijing time), "
                "give whole days, e.g. 3d"
            )
