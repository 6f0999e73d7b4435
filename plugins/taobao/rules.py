"""Taobao / Tmall rule table: who acts next on each after-sales state and order, by when, and why.

Every row names the event that starts its clock, how it counts, what happens when it runs out and
the published platform rule (or merchant procedure) it comes from, in words; the long form of each
row is ``docs/rules/taobao.md`` (one section per rule id). The platform's own
``refund_remind_timeout`` / Tmall ``time_out`` is mapped to ``platform_deadline`` and always wins
over these computed times (:func:`hub.rules.next_action`).

Figures no platform source fixes are **shop policy**: ``policy=True`` rows naming a setting whose
default is listed in :data:`POLICY_SETTINGS` (registered as shop settings in ``info.py``).

:data:`STATES` declares every (kind, status) the mapping (``mapping.py``) can produce: TOP's
``dispute_type`` may name any kind on any refund status, so it is the full product; every open
status has an unconditional row below (a clock on a sure anchor, or an explicit no-clock row).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

from hub.clock import parse_duration
from hub.domain import AfterSaleKind, AfterSaleStatus, OnExpiry, Party
from hub.rules import Constraint, Match, Penalty, Rule, RuleTable

PLATFORM = "taobao"
DOC = "docs/rules/taobao.md"

# --- sources, in words ----------------------------------------------------------------------------

SRC_REPLY_72H = (
    "Taobao refund rules (退款流程): a seller who does not answer a refund request within 72 hours "
    "of the buyer's request is taken to agree: a refund is paid, a return agreement is made"
)
SRC_UNSHIPPED = (
    "Taobao refund rules: before shipment (售中) the buyer can only ask for a refund (仅退款) and the "
    "seller cannot refuse it (TOP taobao.refund.refuse: not allowed when 卖家未发货); the same 72-hour "
    "answer rule applies"
)
SRC_ESCALATE_72H = (
    "Taobao refund rules: when the two sides do not agree, either may ask Taobao customer service "
    "to step in (申请客服介入) from 72 hours after the request; a buyer may instead modify and "
    "re-submit the request"
)
SRC_RETURN_7D = (
    "Taobao refund rules (退货): once the return is agreed, the buyer has 7 days to ship it and "
    "enter the waybill, else the refund closes"
)
SRC_CONFIRM_10D = (
    "Taobao refund rules (退货): after the buyer submits the return waybill the seller has 10 days "
    "to confirm receipt (or refuse it with photos and evidence), else the system refunds"
)
SRC_LATE_SHIP = (
    "Taobao rules on late shipment (延迟发货, 淘宝规则): not shipped within 72 hours of payment "
    "(custom-made, presale, special delivery and special Tmall categories excepted, or as the "
    "two sides agreed): 3 points, and 5 % of the paid amount to the buyer, at most 30 yuan; the "
    "ship time is the courier's record"
)
SRC_PROMISED_SHIP = (
    "Taobao rules on late shipment: a ship time the listing promises (发货时间承诺, TOP "
    "consign_interval / delivery_time / presale send_time) replaces the 72-hour default; missing "
    "it is late shipment with the same compensation"
)
SRC_FAKE_SHIPMENT = (
    "Taobao rules on fake shipment (虚假发货): an order marked shipped that shows no courier trace "
    "within 1-3 days lets the buyer refund and complain; the hour is shop policy"
)
SRC_INSTANT = (
    "Taobao instant refund (极速退款) before shipment: the platform refunds the buyer at once; the "
    "refunded sub-order closes and must not be shipped"
)
SRC_NO_REASON_7D = (
    "Taobao 7-day no-reason return (七天无理由退换货), following the national rules for online "
    "purchases (网络购买商品七日无理由退货暂行办法): 7 days from the logistics sign-for, counted "
    "from the day after signing; goods unused, packaging intact, resale not affected; custom-made "
    "and excluded categories, and listings marked 不支持七天无理由, are outside it"
)
SRC_NO_REASON_REFUSE = (
    "Taobao refund rules: a request with the reason 七天无理由 has no refuse button for the seller "
    "(TOP taobao.refund.refuse: not allowed for 7天无理由退换货)"
)
SRC_CANNOT_REFUSE = "TOP refund field operation_contraint = cannot_refuse (不允许操作)"
SRC_ONWEB = "TOP refund field operation_contraint = refund_onweb (需要到网页版操作)"
SRC_INTERVENTION = (
    "merchant procedure: when Taobao customer service steps in (客服介入), have the evidence ready "
    "and state in points why the refund is not due; Taobao publishes no hour for it, so the hour "
    "is shop policy; a refund_remind_timeout the platform states wins"
)
SRC_EVIDENCE = (
    "Taobao intervention (客服介入, cs_status 10 举证中): the seller uploads evidence in the seller "
    "centre; TOP gives no time for the step, so the hour is shop policy; a refund_remind_timeout "
    "the platform states wins; without evidence the platform decides on what it has"
)
SRC_APPEAL = (
    "Taobao intervention (cs_status 11 开放申诉): the platform opens an appeal path against its "
    "ruling; the appeal period is not in TOP, so it is shop policy"
)
SRC_EXCHANGE = (
    "Tmall/Taobao exchange (换货): the platform states the step's time (Tmall time_out) when it has "
    "one; no published figure otherwise, so the hour is shop policy"
)
SRC_RESHIP = (
    "merchant procedure (same-day dispatch: paid before 16:00 ships that day): exchange and reship "
    "goods go out within a day; no platform figure, so the hour is shop policy"
)
SRC_QUALITY_15D = (
    "merchant after-sales policy: a quality problem found after trade success (交易成功) is accepted "
    "within 15 days; a shop-policy figure"
)
SRC_STATUS = "TOP refund / Tmall dispute status enums (退款状态, 纠纷状态)"
SRC_TRADE_STATUS = "TOP trade status enum (交易状态)"

# --- shop policy settings: (name, default, help) ------------------------------------------------

INTERVENTION_SETTING = "intervention_reply_within"
EVIDENCE_SETTING = "evidence_upload_within"
APPEAL_SETTING = "appeal_within"
EXCHANGE_REPLY_SETTING = "exchange_reply_within"
EXCHANGE_CONFIRM_SETTING = "exchange_confirm_within"
RESHIP_SETTING = "reship_within"
PICKUP_SETTING = "pickup_check_within"
QUALITY_SETTING = "quality_claim_within"
SHIP_WARNING_SETTING = "late_ship_warning"
#: Taobao's published default ship time (72 h after payment); a shop whose listings all promise
#: less (e.g. 48 h) sets it, and the due times become the shop's (source ``policy``).
SHIP_DEFAULT_SETTING = "default_ship_within"

#: Figures no platform source fixes: each a shop setting with its common default.
POLICY_SETTINGS: tuple[tuple[str, str, str], ...] = (
    (
        INTERVENTION_SETTING,
        "24h",
        "shop policy: once Taobao customer service steps in (客服介入), prepare the evidence and state "
        "the seller's case within this time (Taobao publishes no figure)",
    ),
    (
        EVIDENCE_SETTING,
        "24h",
        "shop policy: upload the evidence within this time of 举证中 (cs_status 10) when the platform "
        "states no timeout itself (Taobao publishes no figure)",
    ),
    (
        APPEAL_SETTING,
        "72h",
        "shop policy: appeal within this time once Taobao opens an appeal (开放申诉, cs_status 11)",
    ),
    (
        EXCHANGE_REPLY_SETTING,
        "72h",
        "shop policy: answer an exchange, repair or reship request within this time when the platform "
        "states no time_out (mirrors the 72 h refund answer rule)",
    ),
    (
        EXCHANGE_CONFIRM_SETTING,
        "10d",
        "shop policy: confirm goods sent back for an exchange or repair within this time when the "
        "platform states no time_out (mirrors the 10-day return rule)",
    ),
    (
        RESHIP_SETTING,
        "24h",
        "shop policy: send exchange or reship goods within this time (same-day dispatch habit)",
    ),
    (
        PICKUP_SETTING,
        "24h",
        "shop policy: check that a shipped parcel was picked up within this time of shipment; no trace "
        "after 1-3 days lets the buyer complain of fake shipment (虚假发货)",
    ),
    (
        QUALITY_SETTING,
        "15d",
        "shop policy: accept quality complaints this long after trade success (natural days)",
    ),
    (
        SHIP_WARNING_SETTING,
        "48h",
        "shop policy: list unshipped orders at least this long before the ship-by time "
        "(the merchant's late-shipment early warning)",
    ),
)
_DEFAULTS = {name: default for name, default, _ in POLICY_SETTINGS}
SHIP_WARNING_DEFAULT = _DEFAULTS[SHIP_WARNING_SETTING]


def _policy(name: str) -> timedelta:
    return parse_duration(_DEFAULTS[name])


#: ``cs_status`` values (客服介入) of an intervention in progress other than 举证中 (10).
CS_INTERVENING = (2, 3, 4, 5, 6)
CS_EVIDENCE = 10
CS_APPEAL = 11

_REFUND_KINDS = frozenset({"refund_only", "compensation"})
_GOODS_KINDS = frozenset({"refund_only", "return_refund", "compensation"})
_EXCHANGE_KINDS = frozenset({"exchange", "repair", "reship"})
_UNSHIPPED_TRADES = frozenset({"WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"})
#: The reply clocks restart when the buyer re-submits after a refusal (fact ``requested_at``).
_REQUEST_ANCHOR = ("fact:requested_at", "created_at")
_REQUEST_EVENT = "buyer submits (or re-submits after a refusal) the request"
_REQUEST_EVENT_ZH = "买家提交（或被拒后重新提交）申请"
_KNOWN = {"status_unknown": None}


def _s(*values: str) -> frozenset[str]:
    return frozenset(values)


RULES: tuple[Rule, ...] = (
    # --- requested: the merchant answers ------------------------------------------------------
    Rule(
        # Ties with the reply rows (same anchor, same 72 h) go to this row: it comes first.
        id="taobao.return_address",
        match=Match(statuses=_s("requested"), platform_statuses=_s("8"), facts=_KNOWN),
        anchor=_REQUEST_ANCHOR,
        duration=_policy(EXCHANGE_REPLY_SETTING),
        setting=EXCHANGE_REPLY_SETTING,
        policy=True,
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="confirm_return_address",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（天猫给出超时时间时以天猫为准）",
        consequence_en="the shop's time is up (Tmall's own time_out, when given, decides)",
        source=SRC_EXCHANGE,
        summary_zh="天猫：确认退货地址，买家才能寄回",
        summary_en="Tmall: confirm the return address so the buyer can send the goods",
    ),
    Rule(
        id="taobao.unshipped_refund_72h",
        match=Match(statuses=_s("requested"), kinds=_REFUND_KINDS, facts={**_KNOWN, "unshipped": True}),
        anchor=_REQUEST_ANCHOR,
        duration=timedelta(hours=72),
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="hold_and_refund",
        on_expiry=OnExpiry.AUTO_AGREE,
        consequence_zh="淘宝自动同意退款，订单关闭；此前不要发货",
        consequence_en="Taobao agrees the refund by itself and the order closes; do not ship meanwhile",
        source=SRC_UNSHIPPED,
        summary_zh="未发货仅退款：暂停发货并处理退款（卖家不能拒绝），72 小时未处理系统自动退款",
        summary_en="Refund before shipment: hold the parcel and answer (no refusal possible); "
        "unanswered for 72 h, Taobao refunds",
    ),
    Rule(
        id="taobao.refund_reply_72h",
        match=Match(statuses=_s("requested"), kinds=_REFUND_KINDS, facts={**_KNOWN, "unshipped": None}),
        anchor=_REQUEST_ANCHOR,
        duration=timedelta(hours=72),
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        consequence_zh="淘宝自动同意退款",
        consequence_en="Taobao agrees the refund by itself",
        source=SRC_REPLY_72H,
        summary_zh="卖家 72 小时未处理退款申请，系统自动同意退款",
        summary_en="No seller answer within 72 h: the refund is agreed automatically",
    ),
    Rule(
        id="taobao.return_reply_72h",
        match=Match(statuses=_s("requested"), kinds=_s("return_refund"), facts=_KNOWN),
        anchor=_REQUEST_ANCHOR,
        duration=timedelta(hours=72),
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        consequence_zh="系统自动达成退货协议，买家可寄回商品",
        consequence_en="the return agreement is made automatically; the buyer may send the goods back",
        source=SRC_REPLY_72H,
        summary_zh="卖家 72 小时未处理退货申请，系统自动达成退货协议",
        summary_en="No seller answer within 72 h: the return agreement is made automatically",
    ),
    Rule(
        id="taobao.exchange_reply",
        match=Match(statuses=_s("requested"), kinds=_EXCHANGE_KINDS),
        anchor=_REQUEST_ANCHOR,
        duration=_policy(EXCHANGE_REPLY_SETTING),
        setting=EXCHANGE_REPLY_SETTING,
        policy=True,
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（平台给出超时时间时以平台为准）",
        consequence_en="the shop's time is up (the platform's own time_out, when given, decides)",
        source=SRC_EXCHANGE,
        summary_zh="换货/维修/补寄申请：在店铺规定时间内处理（默认 72 小时）",
        summary_en="Exchange/repair/reship request: answer within the shop's time (default 72 h)",
    ),
    Rule(
        id="taobao.requested_unknown",
        match=Match(statuses=_s("requested")),
        party=Party.MERCHANT,
        action="check_in_backend",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="the platform status is not one hub knows (see the case warnings); check the "
        "request in the seller centre",
        no_clock_reason_zh="平台状态未知（见案件警告），请到卖家中心核对",
        summary_zh="未知状态：到卖家中心核对后处理",
        summary_en="Unknown status: check the case in the seller centre",
    ),
    # --- seller refused: the buyer decides ----------------------------------------------------
    Rule(
        id="taobao.escalation_72h",
        match=Match(statuses=_s("seller_refused")),
        anchor=_REQUEST_ANCHOR,
        duration=timedelta(hours=72),
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.BUYER,
        action="modify_or_escalate",
        on_expiry=OnExpiry.ESCALATION_OPENS,
        consequence_zh="自申请起满 72 小时，双方均可申请淘宝客服介入",
        consequence_en="72 h after the request either side may ask Taobao customer service to step in",
        source=SRC_ESCALATE_72H,
        summary_zh="卖家拒绝后：买家可修改后重新申请；申请 72 小时后双方均可申请客服介入",
        summary_en="After a refusal the buyer may modify and re-submit; from 72 h after the request "
        "either side may ask Taobao to step in",
    ),
    # --- the return leg -------------------------------------------------------------------------
    Rule(
        id="taobao.buyer_return_7d",
        match=Match(statuses=_s("awaiting_return")),
        anchor="status_since",
        duration=timedelta(days=7),
        start_event="the return is agreed (the case enters 等待买家退货)",
        start_event_zh="退货协议达成（进入等待买家退货）",
        party=Party.BUYER,
        action="ship_return",
        on_expiry=OnExpiry.AUTO_CLOSE,
        consequence_zh="买家逾期未退货，退款关闭",
        consequence_en="the buyer did not ship the return: the request closes",
        source=SRC_RETURN_7D,
        summary_zh="退货协议达成后买家 7 天内未退货，退款关闭",
        summary_en="The buyer must ship the return within 7 days of the agreement, else the refund closes",
    ),
    Rule(
        id="taobao.seller_confirm_10d",
        match=Match(statuses=_s("return_shipped"), kinds=_GOODS_KINDS),
        anchor=("fact:good_return_time", "status_since"),
        duration=timedelta(days=10),
        start_event="the buyer submits the return waybill (good_return_time)",
        start_event_zh="买家提交退货物流信息（good_return_time）",
        party=Party.MERCHANT,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_REFUND,
        consequence_zh="系统自动退款给买家",
        consequence_en="Taobao refunds the buyer automatically",
        source=SRC_CONFIRM_10D,
        summary_zh="买家提交退货后卖家 10 天内未确认收货，系统自动退款",
        summary_en="The seller must confirm the return within 10 days of its shipment, else Taobao refunds",
    ),
    Rule(
        id="taobao.exchange_confirm_return",
        match=Match(statuses=_s("return_shipped"), kinds=_EXCHANGE_KINDS),
        anchor=("fact:good_return_time", "status_since"),
        duration=_policy(EXCHANGE_CONFIRM_SETTING),
        setting=EXCHANGE_CONFIRM_SETTING,
        policy=True,
        start_event="the buyer sends the goods back (good_return_time)",
        start_event_zh="买家寄回商品（good_return_time）",
        party=Party.MERCHANT,
        action="confirm_receipt",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（平台给出超时时间时以平台为准）",
        consequence_en="the shop's time is up (the platform's own time_out, when given, decides)",
        source=SRC_EXCHANGE,
        summary_zh="换货/维修：买家寄回后在店铺规定时间内验收（默认 10 天）",
        summary_en="Exchange/repair: check the goods sent back within the shop's time (default 10 days)",
    ),
    Rule(
        id="taobao.reship_24h",
        match=Match(statuses=_s("awaiting_reship")),
        anchor="status_since",
        duration=_policy(RESHIP_SETTING),
        setting=RESHIP_SETTING,
        policy=True,
        start_event="the seller confirms the returned goods (the case enters 待发出换货商品)",
        start_event_zh="卖家确认收到退回商品（进入待发出换货商品）",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过，买家可能投诉（平台给出超时时间时以平台为准）",
        consequence_en="the shop's time is up and the buyer may complain (a platform time_out decides)",
        source=SRC_RESHIP,
        summary_zh="换货/补寄：在店铺规定时间内发出商品（默认 24 小时）",
        summary_en="Exchange/reship: send the goods within the shop's time (default 24 h)",
    ),
    Rule(
        id="taobao.buyer_confirm_exchange",
        match=Match(statuses=_s("reshipped")),
        party=Party.BUYER,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_CONFIRM,
        source=SRC_EXCHANGE,
        no_clock_reason="Taobao/Tmall state the buyer's confirmation time (time_out) on the record "
        "when there is one; no published figure otherwise",
        no_clock_reason_zh="平台在记录上给出买家确认收货的超时时间；未给出时无公开时限",
        summary_zh="换货商品已发出，等待买家确认收货",
        summary_en="The exchange goods are on their way: the buyer confirms receipt",
    ),
    Rule(
        # The only refunding state TOP reports is Tmall's exchange status 14 (请退款).
        id="taobao.tmall_refund_requested",
        match=Match(statuses=_s("refunding")),
        party=Party.MERCHANT,
        action="agree_refund",
        on_expiry=OnExpiry.OVERDUE,
        source=SRC_EXCHANGE,
        no_clock_reason="Tmall turned the exchange into a refund (请退款) and states its time_out on "
        "the record when it has one; no published figure otherwise",
        no_clock_reason_zh="天猫换货转为请退款，超时时间以纠纷单为准；未给出时无公开时限",
        summary_zh="天猫换货转退款：请同意退款",
        summary_en="Tmall exchange turned into a refund: agree the refund",
    ),
    # --- Taobao customer service (客服介入) ----------------------------------------------------
    Rule(
        id="taobao.evidence_upload",
        match=Match(statuses=_s("platform_review"), dispute_statuses=_s("evidence_required")),
        anchor=("fact:cs_since", "status_since"),
        duration=_policy(EVIDENCE_SETTING),
        setting=EVIDENCE_SETTING,
        policy=True,
        start_event="Taobao asks for evidence (cs_status 10 举证中)",
        start_event_zh="淘宝要求举证（举证中）",
        party=Party.MERCHANT,
        action="submit_evidence",
        on_expiry=OnExpiry.RULED_AGAINST,
        consequence_zh="小二按现有证据判定，通常支持买家",
        consequence_en="Taobao decides on the evidence it has, usually for the buyer",
        source=SRC_EVIDENCE,
        summary_zh="举证中：在店铺规定时间内（默认 24 小时）上传凭证",
        summary_en="举证中: upload the evidence within the shop's time (default 24 h)",
    ),
    Rule(
        id="taobao.appeal_window",
        match=Match(statuses=_s("platform_review"), facts={"cs_status": CS_APPEAL}),
        anchor=("fact:cs_since", "status_since"),
        duration=_policy(APPEAL_SETTING),
        setting=APPEAL_SETTING,
        policy=True,
        start_event="Taobao opens the appeal (cs_status 11 开放申诉)",
        start_event_zh="淘宝开放申诉",
        party=Party.MERCHANT,
        action="appeal",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="申诉期按店铺规定已过，处理结果生效",
        consequence_en="the shop's appeal window has passed; the ruling stands",
        source=SRC_APPEAL,
        summary_zh="平台已开放申诉：如有异议在店铺规定时间内（默认 72 小时）发起申诉",
        summary_en="Appeal open: appeal within the shop's time (default 72 h) if the ruling is wrong",
    ),
    Rule(
        id="taobao.intervention_reply",
        match=Match(
            statuses=_s("platform_review"),
            dispute_statuses=_s("open", "under_review"),
            facts={"cs_status": CS_INTERVENING},
        ),
        anchor=("fact:cs_since", "status_since"),
        duration=_policy(INTERVENTION_SETTING),
        setting=INTERVENTION_SETTING,
        policy=True,
        start_event="Taobao customer service is asked to step in (客服介入)",
        start_event_zh="申请淘宝客服介入",
        party=Party.MERCHANT,
        action="submit_evidence",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过：凭证未备齐，举证时可能来不及",
        consequence_en="the shop's time is up: the evidence may not be ready when Taobao asks",
        source=SRC_INTERVENTION,
        summary_zh="店铺规定：客服介入后在规定时间内（默认 24 小时）整理凭证并向小二说明不能退款的原因",
        summary_en="Shop policy: prepare the evidence and state the seller's case within the set time "
        "(default 24 h) of Taobao stepping in",
    ),
    Rule(
        id="taobao.platform_review",
        match=Match(statuses=_s("platform_review")),
        party=Party.PLATFORM,
        action="review",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="Taobao customer service is deciding; the merchant waits unless asked for evidence",
        no_clock_reason_zh="淘宝客服处理中；未要求举证时卖家等待",
        summary_zh="淘宝客服处理中",
        summary_en="Taobao customer service is handling the case",
    ),
    # --- orders -----------------------------------------------------------------------------------
    Rule(
        id="taobao.order_refund_hold",
        match=Match(subject="order", facts={"unshipped": True, "open_refund": True}),
        party=Party.MERCHANT,
        action="hold_and_answer_refund",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_UNSHIPPED,
        no_clock_reason="an open refund holds the order: do not ship; the refund's own clock is on its case",
        no_clock_reason_zh="订单有未完结的退款：暂停发货，先处理退款（时限见退款案件）",
        summary_zh="有退款申请的未发货订单：暂停发货，先处理退款",
        summary_en="Unshipped order with an open refund: hold the parcel and answer the refund",
    ),
    Rule(
        id="taobao.ship_promised",
        match=Match(
            subject="order",
            platform_statuses=_UNSHIPPED_TRADES,
            facts={"ship_by": True, "open_refund": None},
        ),
        anchor="fact:ship_by",
        duration=timedelta(0),
        start_event="the ship-by time the listing promised "
        "(delivery_time, consign_interval or presale send_time)",
        start_event_zh="商品承诺的发货时间（最晚发货时间/发货时效/预售发货时间）",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.PENALTY,
        consequence_zh="延迟发货：扣 3 分，并按实付金额 5% 赔付买家（最高 30 元）",
        consequence_en="late shipment: 3 points, and 5 % of the paid amount to the buyer (at most 30 yuan)",
        source=SRC_PROMISED_SHIP,
        summary_zh="按商品承诺的发货时间发货，否则为延迟发货",
        summary_en="Ship by the time the listing promised, else it is a late shipment",
        penalty=Penalty(percent="5", cap_fen=3000, base="paid_fen"),
    ),
    Rule(
        # Ties with taobao.late_shipment_72h (same anchor and figure) go to this row: it comes first.
        id="taobao.ship_remaining_lines",
        match=Match(
            subject="order",
            platform_statuses=_UNSHIPPED_TRADES,
            facts={"presale": None, "ship_by": None, "open_refund": None, "refunded_lines": True},
        ),
        anchor="paid_at",
        duration=timedelta(hours=72),
        setting=SHIP_DEFAULT_SETTING,
        start_event="the buyer pays",
        start_event_zh="买家付款",
        party=Party.MERCHANT,
        action="ship_remaining_lines",
        on_expiry=OnExpiry.PENALTY,
        consequence_zh="延迟发货：扣 3 分，并按实付金额 5% 赔付买家（最高 30 元）",
        consequence_en="late shipment: 3 points, and 5 % of the paid amount to the buyer (at most 30 yuan)",
        source=f"{SRC_LATE_SHIP}; {SRC_INSTANT}",
        summary_zh="部分商品已退款（含极速退款）：只发未退款的商品，付款后 72 小时内发出",
        summary_en="Some lines were refunded (instant refund included): ship only the rest, "
        "within 72 h of payment",
        penalty=Penalty(percent="5", cap_fen=3000, base="paid_fen"),
    ),
    Rule(
        id="taobao.late_shipment_72h",
        match=Match(
            subject="order",
            platform_statuses=_UNSHIPPED_TRADES,
            facts={"presale": None, "ship_by": None, "open_refund": None},
        ),
        anchor="paid_at",
        duration=timedelta(hours=72),
        setting=SHIP_DEFAULT_SETTING,
        start_event="the buyer pays",
        start_event_zh="买家付款",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.PENALTY,
        consequence_zh="延迟发货：扣 3 分，并按实付金额 5% 赔付买家（最高 30 元）",
        consequence_en="late shipment: 3 points, and 5 % of the paid amount to the buyer (at most 30 yuan)",
        source=SRC_LATE_SHIP,
        summary_zh="付款后 72 小时未发货为延迟发货：赔付实付金额 5%，最高 30 元",
        summary_en="Not shipped 72 h after payment: a penalty of 5 % of the paid amount, at most 30 yuan",
        penalty=Penalty(percent="5", cap_fen=3000, base="paid_fen"),
    ),
    Rule(
        id="taobao.presale_ship",
        match=Match(
            subject="order",
            platform_statuses=_UNSHIPPED_TRADES,
            facts={"presale": True, "ship_by": None, "open_refund": None},
        ),
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_LATE_SHIP,
        no_clock_reason="presale orders are outside the 72-hour rule; TOP gave no presale ship time "
        "(send_time) for this order",
        no_clock_reason_zh="预售订单不适用 72 小时发货规则，且平台未给出预售发货时间",
        summary_zh="预售订单：按预售承诺的时间发货",
        summary_en="Presale order: ship by the presale promise",
    ),
    Rule(
        id="taobao.ship_forbidden",
        match=Match(subject="order", platform_statuses=_s("PAID_FORBID_CONSIGN")),
        party=Party.PLATFORM,
        action="wait",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_TRADE_STATUS,
        no_clock_reason="Taobao forbids shipping for now (a group still forming, or shipping control)",
        no_clock_reason_zh="平台暂时禁止发货（拼团中或发货管控）",
        summary_zh="已付款但平台禁止发货：等待",
        summary_en="Paid, but Taobao forbids shipping for now: wait",
    ),
    Rule(
        id="taobao.pickup_check",
        match=Match(
            subject="order",
            statuses=_s("shipped"),
            facts={"trace_read": True, "collected_at": None, "signed_at": None},
        ),
        anchor="shipped_at",
        duration=_policy(PICKUP_SETTING),
        setting=PICKUP_SETTING,
        policy=True,
        start_event="the seller marks the order shipped",
        start_event_zh="卖家点击发货",
        party=Party.MERCHANT,
        action="check_pickup",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="无揽收记录：买家可申请退款并投诉虚假发货",
        consequence_en="no pickup on record: the buyer may refund and complain of fake shipment",
        source=SRC_FAKE_SHIPMENT,
        summary_zh="已发货但无揽收记录：联系快递核实并上传发货凭证",
        summary_en="Shipped but not picked up: check with the courier and keep the shipping proof",
    ),
    Rule(
        id="taobao.no_reason_window_7d",
        match=Match(
            subject="order",
            statuses=_s("shipped", "completed", "refunding"),
            facts={"signed_at": True},
        ),
        anchor="signed_at",
        duration=timedelta(days=7),
        counting="natural_days",
        start_event="the parcel is signed for (logistics sign-for time)",
        start_event_zh="物流签收",
        party=Party.BUYER,
        action="no_reason_return_window",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="七天无理由退货期结束（质量问题不受此限）",
        consequence_en="the 7-day no-reason window ends (quality problems are not bound by it)",
        source=SRC_NO_REASON_7D,
        summary_zh="七天无理由退货：自签收次日零时起 7 天内可申请",
        summary_en="7-day no-reason return: from 00:00 the day after sign-for, 7 days",
    ),
    Rule(
        id="taobao.quality_claim_15d",
        match=Match(subject="order", statuses=_s("completed"), facts={"completed_at": True}),
        anchor="fact:completed_at",
        duration=_policy(QUALITY_SETTING),
        counting="natural_days",
        setting=QUALITY_SETTING,
        policy=True,
        start_event="trade success (交易成功)",
        start_event_zh="交易成功",
        party=Party.BUYER,
        action="quality_claim_window",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="店铺受理质量问题的期限结束",
        consequence_en="the shop's window for quality complaints ends",
        source=SRC_QUALITY_15D,
        summary_zh="交易成功后 15 天内受理质量问题（店铺规定）",
        summary_en="Quality complaints accepted within 15 days of trade success (shop policy)",
    ),
)

CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint(
        id="taobao.no_refuse_no_reason",
        action="refuse",
        match=Match(facts={"no_reason": True}),
        reason_zh="七天无理由退货申请，卖家不能拒绝",
        reason_en="A 7-day no-reason request cannot be refused",
        source=SRC_NO_REASON_REFUSE,
    ),
    Constraint(
        id="taobao.no_refuse_constraint",
        action="refuse",
        match=Match(facts={"operation_contraint": "cannot_refuse"}),
        reason_zh="平台标记此退款不允许拒绝 (cannot_refuse)",
        reason_en="The platform marks this refund as not refusable (cannot_refuse)",
        source=SRC_CANNOT_REFUSE,
    ),
    Constraint(
        id="taobao.no_refuse_unshipped",
        action="refuse",
        match=Match(facts={"unshipped": True}),
        reason_zh="卖家未发货的订单不能拒绝退款（仅退款）",
        reason_en="A refund on an order not yet shipped cannot be refused",
        source=SRC_UNSHIPPED,
    ),
    *(
        Constraint(
            id=f"taobao.onweb_{action}",
            action=action,
            match=Match(facts={"operation_contraint": "refund_onweb"}),
            reason_zh="此退款需要到网页版卖家中心操作",
            reason_en="This refund must be handled in the web seller centre",
            source=SRC_ONWEB,
        )
        for action in ("agree_refund", "refuse", "agree_return", "refuse_return", "review")
    ),
)

#: Every (kind, status) ``mapping.map_refund`` / ``map_dispute`` can produce (see the module doc).
STATES: frozenset[tuple[str, str]] = frozenset(
    (kind.value, status.value) for kind, status in product(AfterSaleKind, AfterSaleStatus)
)

RULE_TABLE = RuleTable(platform=PLATFORM, rules=RULES, constraints=CONSTRAINTS, states=STATES)
