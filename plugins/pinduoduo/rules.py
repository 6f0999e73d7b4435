"""Pinduoduo's rule table: who acts next on each after-sales state and order, by when, and why.

PDD states the merchant's deadline itself: ``expire_time`` (售后逾期时间) in
``pdd.refund.information.get`` while a case waits for the merchant, and ``last_ship_time``
(承诺发货时间) on orders. Those always win (``platform_deadline``); the ``platform_*`` rows lend
them their action and effect. Where PDD publishes no figure the row is **shop policy**
(``policy=True``): it names a setting (:data:`POLICY_SETTINGS`, registered in ``info.py``) whose
default the merchant can change, and it applies only when PDD gave no time of its own. Each row's
long form is ``docs/rules/pinduoduo.md`` (one section per rule id).

:data:`STATES` declares every (kind, status) the mapping (``mapping.py``) can produce; every open
status has an unconditional row (a clock on a sure anchor, or an explicit no-clock row).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

from hub.clock import parse_duration
from hub.domain import AfterSaleKind, AfterSaleStatus, OnExpiry, Party
from hub.rules import Constraint, Match, Rule, RuleTable

PLATFORM = "pinduoduo"
DOC = "docs/rules/pinduoduo.md"

# --- sources, in words ----------------------------------------------------------------------------

SRC_EXPIRE = (
    "Pinduoduo after-sales detail (pdd.refund.information.get): expire_time (售后逾期时间) is the "
    "merchant's deadline while a case waits for the merchant (待商家处理)"
)
SRC_EFFECT = (
    "the effect is the platforms' common after-sales rule (an unanswered request is agreed, an "
    "unconfirmed return refunded); PDD's API states the time, not the effect"
)
SRC_SHIP = (
    "Pinduoduo shipping rules (发货规则): the order's promised ship time (last_ship_time, 承诺发货时间) "
    "counts from group formation (成团), not payment; shipping late lets the buyer claim the "
    "platform's late-shipment compensation (延迟发货赔付), paid by the shop"
)
SRC_SHIP_POLICY = (
    "Pinduoduo shipping rules: the ship clock starts at group formation (成团, PDD confirm_time); "
    "PDD gave no last_ship_time for this order, so the hours are shop policy (the listing's usual "
    "promise is 48 h)"
)
SRC_GROUP = "Pinduoduo order group_status 0 (拼团中): the group has not formed; nothing ships yet"
SRC_SPEED = (
    "Pinduoduo 极速退款 (speed_refund_flag): the platform refunds the buyer at once; the order must "
    "not ship, and a parcel already handed over should be intercepted (拦截)"
)
SRC_UNSHIPPED = (
    "Pinduoduo refunds before shipment (未发货仅退款): stop the parcel and refund; the merchant "
    "procedure handles such refunds within 24 hours"
)
SRC_POLICY_REPLY = (
    "merchant procedure: a refund request is handled within 24 hours; PDD gave no expire_time, so "
    "the hours are shop policy"
)
SRC_REFUSED = (
    "Pinduoduo after-sales: after the merchant rejects (驳回), the buyer may change and re-submit "
    "the request or ask PDD customer service to step in; PDD closes a request the buyer lets lapse "
    "(status 12 买家逾期未处理) without publishing the period"
)
SRC_REFUSE_DELIVERY = (
    "Pinduoduo status 31 (已同意拒收退款，待用户拒收): the buyer refuses the parcel at delivery; "
    "the refund follows the courier's record of the refusal; no return shipment, no return clock"
)
SRC_BUYER_RETURN = (
    "Pinduoduo status 7/15/22 (待用户发货): the buyer sends the goods back; PDD closes the request "
    "when the buyer does not (status 12) but publishes no period, so the days are shop policy "
    "(7 days, as on Taobao)"
)
SRC_CONFIRM_POLICY = (
    "merchant procedure: check a returned parcel and refund promptly; PDD gave no expire_time, so "
    "the hours are shop policy"
)
SRC_RECALL = (
    "Pinduoduo status 33 (同意召回后退款，待商家召回): the merchant recalls (intercepts) the parcel, "
    "then the refund goes out; PDD states the time as expire_time"
)
SRC_RESHIP_POLICY = (
    "merchant procedure (same-day dispatch: paid before 16:00 ships that day): exchange and reship "
    "goods go out within a day; PDD gave no expire_time, so the hours are shop policy"
)
SRC_EVIDENCE = (
    "Pinduoduo status 8 (平台处理中): PDD customer service decides the dispute on the evidence both "
    "sides give; PDD publishes no hour for the merchant's evidence, so it is shop policy"
)
SRC_APPEAL = (
    "Pinduoduo 维权申诉 (商家后台 → 订单售后详情页 → 售后状态 → 维权申诉): a merchant may appeal a "
    "refund the platform approved, with evidence; the appeal period is not published, so it is shop "
    "policy"
)
SRC_NO_REASON = (
    "7-day no-reason return under the national rules for online purchases (网络购买商品七日无理由退货"
    "暂行办法): 7 days counted from the day after sign-for; PDD's order API reports only the buyer's "
    "confirm-receipt time (receive_time), which is at or after sign-for"
)
SRC_QUALITY = (
    "merchant after-sales policy: a quality problem found after the order completes is accepted "
    "within 15 days; a shop-policy figure"
)
SRC_STATUS = "Pinduoduo after_sales_status enum (售后状态)"
SRC_UNKNOWN = "keep unknown platform codes raw and never act on a guess (hub's plugin contract)"

# --- shop policy settings: (name, default, help) ------------------------------------------------

REPLY_SETTING = "reply_within"
CONFIRM_SETTING = "confirm_return_within"
RESHIP_SETTING = "reship_within"
BUYER_RETURN_SETTING = "buyer_return_within"
SHIP_SETTING = "ship_within"
EVIDENCE_SETTING = "evidence_within"
APPEAL_SETTING = "appeal_within"
QUALITY_SETTING = "quality_claim_within"

#: Figures PDD does not publish: each a shop setting with its common default.
POLICY_SETTINGS: tuple[tuple[str, str, str], ...] = (
    (
        REPLY_SETTING,
        "24h",
        "shop policy: answer a new after-sales request within this time when PDD gives no "
        "expire_time (the merchant's 24-hour refund handling)",
    ),
    (
        CONFIRM_SETTING,
        "48h",
        "shop policy: check and refund a returned parcel within this time when PDD gives no expire_time",
    ),
    (
        RESHIP_SETTING,
        "24h",
        "shop policy: send reship or exchange goods within this time when PDD gives no expire_time "
        "(same-day dispatch habit)",
    ),
    (
        BUYER_RETURN_SETTING,
        "7d",
        "shop policy: the buyer is expected to ship the return within this time (PDD publishes no "
        "period; Taobao's is 7 days)",
    ),
    (
        SHIP_SETTING,
        "48h",
        "shop policy: ship within this time of group formation (成团) when PDD gives no last_ship_time "
        "(the listing's usual 48-hour promise)",
    ),
    (
        EVIDENCE_SETTING,
        "24h",
        "shop policy: give PDD customer service the evidence within this time of 平台处理中 (status 8)",
    ),
    (
        APPEAL_SETTING,
        "72h",
        "shop policy: appeal (维权申诉) within this time of PDD approving a refund against the merchant",
    ),
    (
        QUALITY_SETTING,
        "15d",
        "shop policy: accept quality complaints this long after the order completes (natural days)",
    ),
)
_DEFAULTS = {name: default for name, default, _ in POLICY_SETTINGS}


def _policy(name: str) -> timedelta:
    return parse_duration(_DEFAULTS[name])


def _s(*values: str) -> frozenset[str]:
    return frozenset(values)


_NO_EXPIRE = {"expire_time": None, "status_unknown": None}
_HAS_EXPIRE = {"expire_time": True, "status_unknown": None}
_STATED = "fact:expire_time"
_STATED_EVENT = "PDD's stated deadline (expire_time)"
_STATED_EVENT_ZH = "拼多多给出的售后逾期时间"
_REQUEST_ANCHOR = ("fact:requested_at", "created_at")
_REQUEST_EVENT = "buyer submits (or re-submits after a rejection) the request"
_REQUEST_EVENT_ZH = "买家提交（或被驳回后重新提交）售后申请"
_PENALTY_ZH = "延迟发货：买家可获平台延迟发货赔付（由店铺承担），并影响店铺考核"
_PENALTY_EN = "late shipment: the buyer may claim PDD's late-shipment compensation, paid by the shop"

RULES: tuple[Rule, ...] = (
    # --- 极速退款: the platform already refunded; the only action is not to ship -------------------
    Rule(
        id="pinduoduo.speed_refund_hold",
        match=Match(statuses=_s("requested", "refunding"), facts={"speed_refund": True}),
        party=Party.MERCHANT,
        action="do_not_ship",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_SPEED,
        no_clock_reason="PDD refunded at once (极速退款): nothing to answer; do not ship, intercept a "
        "parcel already handed over",
        no_clock_reason_zh="极速退款已由平台退款：无需答复；不要发货，已交快递的请拦截",
        summary_zh="极速退款：平台已退款，订单不要发货",
        summary_en="Instant refund: PDD refunded; do not ship the order",
    ),
    # --- requested: PDD's own time first ---------------------------------------------------------
    Rule(
        id="pinduoduo.unshipped_refund",
        match=Match(
            statuses=_s("requested"),
            kinds=_s("refund_only"),
            facts={**_HAS_EXPIRE, "shipping_status": "0"},
        ),
        anchor=_STATED,
        duration=timedelta(0),
        start_event=_STATED_EVENT,
        start_event_zh=_STATED_EVENT_ZH,
        party=Party.MERCHANT,
        action="hold_and_refund",
        on_expiry=OnExpiry.AUTO_AGREE,
        consequence_zh="平台自动同意退款；此前不要发货",
        consequence_en="PDD agrees the refund by itself; do not ship meanwhile",
        source=f"{SRC_UNSHIPPED}; {SRC_EXPIRE}",
        summary_zh="未发货仅退款：暂停发货，逾期前同意退款",
        summary_en="Refund before shipment: hold the parcel and refund before expire_time",
    ),
    Rule(
        id="pinduoduo.platform_reply",
        match=Match(statuses=_s("requested"), facts=_HAS_EXPIRE),
        anchor=_STATED,
        duration=timedelta(0),
        start_event=_STATED_EVENT,
        start_event_zh=_STATED_EVENT_ZH,
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        consequence_zh="平台自动同意售后申请",
        consequence_en="PDD agrees the request by itself",
        source=f"{SRC_EXPIRE}; {SRC_EFFECT}",
        summary_zh="商家须在售后逾期时间前处理，逾期平台自动同意",
        summary_en="Answer before PDD's expire_time, or PDD agrees by itself",
    ),
    Rule(
        id="pinduoduo.unshipped_refund_policy",
        match=Match(
            statuses=_s("requested"),
            kinds=_s("refund_only"),
            facts={**_NO_EXPIRE, "shipping_status": "0"},
        ),
        anchor=_REQUEST_ANCHOR,
        duration=_policy(REPLY_SETTING),
        setting=REPLY_SETTING,
        policy=True,
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="hold_and_refund",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过；此前不要发货",
        consequence_en="the shop's time is up; do not ship meanwhile",
        source=SRC_UNSHIPPED,
        summary_zh="未发货仅退款：暂停发货，在店铺规定时间内（默认 24 小时）退款",
        summary_en="Refund before shipment: hold the parcel and refund within the shop's time (default 24 h)",
    ),
    Rule(
        id="pinduoduo.policy_reply",
        match=Match(statuses=_s("requested"), facts=_NO_EXPIRE),
        anchor=_REQUEST_ANCHOR,
        duration=_policy(REPLY_SETTING),
        setting=REPLY_SETTING,
        policy=True,
        start_event=_REQUEST_EVENT,
        start_event_zh=_REQUEST_EVENT_ZH,
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（平台给出逾期时间时以平台为准）",
        consequence_en="the shop's time is up (PDD's own expire_time, when given, decides)",
        source=SRC_POLICY_REPLY,
        summary_zh="店铺规定：售后申请须在规定时间内处理（默认 24 小时）",
        summary_en="Shop policy: answer an after-sales request within the set time (default 24 h)",
    ),
    Rule(
        id="pinduoduo.requested_unknown",
        match=Match(statuses=_s("requested")),
        party=Party.MERCHANT,
        action="check_in_backend",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_UNKNOWN,
        no_clock_reason="the after_sales_status is not one hub knows (see the case warnings): check "
        "the case in the merchant backend before acting",
        no_clock_reason_zh="售后状态未知（见案件警告）：请先在商家后台核对",
        summary_zh="未知售后状态：到商家后台核对后处理",
        summary_en="Unknown status: check the case in the merchant backend",
    ),
    # --- rejected: the buyer decides -------------------------------------------------------------
    Rule(
        id="pinduoduo.buyer_after_rejection",
        match=Match(statuses=_s("seller_refused")),
        party=Party.BUYER,
        action="modify_or_escalate",
        on_expiry=OnExpiry.AUTO_CLOSE,
        source=SRC_REFUSED,
        no_clock_reason="PDD closes a request the buyer lets lapse (status 12) but publishes no period",
        no_clock_reason_zh="买家逾期未处理平台会关闭申请（状态 12），但未公布期限",
        summary_zh="已驳回：买家可修改后重新申请，或申请平台介入",
        summary_en="Rejected: the buyer may re-submit, or ask PDD to step in",
    ),
    # --- the return leg --------------------------------------------------------------------------
    Rule(
        id="pinduoduo.refuse_delivery",
        match=Match(statuses=_s("awaiting_return"), platform_statuses=_s("31")),
        party=Party.BUYER,
        action="refuse_delivery",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_REFUSE_DELIVERY,
        no_clock_reason="the buyer refuses the parcel at delivery; no return shipment, and PDD "
        "publishes no period",
        no_clock_reason_zh="买家在派送时拒收即可，无需寄回；平台未公布期限",
        summary_zh="已同意拒收退款：等待买家拒收包裹，拒收后退款",
        summary_en="Refund on refusal agreed: the buyer refuses the parcel, then the refund goes out",
    ),
    Rule(
        id="pinduoduo.policy_buyer_return",
        match=Match(statuses=_s("awaiting_return"), platform_statuses=_s("7", "15", "22")),
        anchor="status_since",
        duration=_policy(BUYER_RETURN_SETTING),
        setting=BUYER_RETURN_SETTING,
        policy=True,
        start_event="the merchant agrees the return (the case enters 待用户发货)",
        start_event_zh="商家同意退货（进入待用户发货）",
        party=Party.BUYER,
        action="ship_return",
        on_expiry=OnExpiry.AUTO_CLOSE,
        consequence_zh="买家逾期未寄回，平台关闭申请（状态 12）",
        consequence_en="the buyer did not ship the goods back: PDD closes the request (status 12)",
        source=SRC_BUYER_RETURN,
        summary_zh="买家须寄回商品，逾期申请关闭（期限为店铺设置，默认 7 天）",
        summary_en="The buyer must ship the goods back, or the request closes (shop setting, default 7 days)",
    ),
    Rule(
        id="pinduoduo.awaiting_return",
        match=Match(statuses=_s("awaiting_return")),
        party=Party.BUYER,
        action="ship_return",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="the status waits for the buyer; PDD publishes no period for it",
        no_clock_reason_zh="等待买家处理；平台未公布期限",
        summary_zh="等待买家处理",
        summary_en="Waiting for the buyer",
    ),
    Rule(
        id="pinduoduo.platform_recall",
        match=Match(statuses=_s("return_shipped"), platform_statuses=_s("33"), facts=_HAS_EXPIRE),
        anchor=_STATED,
        duration=timedelta(0),
        start_event=_STATED_EVENT,
        start_event_zh=_STATED_EVENT_ZH,
        party=Party.MERCHANT,
        action="recall_parcel",
        on_expiry=OnExpiry.AUTO_REFUND,
        consequence_zh="平台直接退款给买家，包裹可能追不回",
        consequence_en="PDD refunds the buyer directly; the parcel may be lost to the shop",
        source=f"{SRC_RECALL}; {SRC_EFFECT}",
        summary_zh="已同意召回后退款：逾期前召回（拦截）包裹，否则平台直接退款",
        summary_en="Refund after recall: recall (intercept) the parcel before expire_time, or PDD refunds",
    ),
    Rule(
        id="pinduoduo.recall_without_time",
        match=Match(statuses=_s("return_shipped"), platform_statuses=_s("33")),
        party=Party.MERCHANT,
        action="recall_parcel",
        on_expiry=OnExpiry.AUTO_REFUND,
        source=SRC_RECALL,
        no_clock_reason="PDD states the recall deadline as expire_time and gave none for this case",
        no_clock_reason_zh="召回时限以平台的售后逾期时间为准，此单未给出",
        summary_zh="召回（拦截）包裹，召回后平台退款",
        summary_en="Recall (intercept) the parcel; PDD refunds after it",
    ),
    Rule(
        id="pinduoduo.platform_confirm_return",
        match=Match(statuses=_s("return_shipped"), platform_statuses=_s("3"), facts=_HAS_EXPIRE),
        anchor=_STATED,
        duration=timedelta(0),
        start_event=_STATED_EVENT,
        start_event_zh=_STATED_EVENT_ZH,
        party=Party.MERCHANT,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_REFUND,
        consequence_zh="平台自动退款给买家",
        consequence_en="PDD refunds the buyer by itself",
        source=f"{SRC_EXPIRE}; {SRC_EFFECT}",
        summary_zh="退货已寄回：逾期前确认收货并退款，否则平台自动退款",
        summary_en="Return on its way: confirm and refund before expire_time, or PDD refunds by itself",
    ),
    Rule(
        id="pinduoduo.policy_confirm_return",
        match=Match(statuses=_s("return_shipped"), platform_statuses=_s("3"), facts=_NO_EXPIRE),
        anchor="status_since",
        duration=_policy(CONFIRM_SETTING),
        setting=CONFIRM_SETTING,
        policy=True,
        start_event="the buyer ships the goods back (a return waybill appears)",
        start_event_zh="买家寄回商品（出现退货运单号）",
        party=Party.MERCHANT,
        action="confirm_receipt",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（平台给出逾期时间时以平台为准）",
        consequence_en="the shop's time is up (PDD's own expire_time, when given, decides)",
        source=SRC_CONFIRM_POLICY,
        summary_zh="店铺规定：退货寄回后按时验货退款（默认 48 小时）",
        summary_en="Shop policy: check a returned parcel and refund within the set time (default 48 h)",
    ),
    Rule(
        id="pinduoduo.return_shipped",
        match=Match(statuses=_s("return_shipped")),
        party=Party.MERCHANT,
        action="confirm_receipt",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="the rows above give the clock; this status code carries none (check the "
        "case in the merchant backend)",
        no_clock_reason_zh="此状态无时限信息，请在商家后台核对",
        summary_zh="退货已寄回：验货后处理",
        summary_en="Return on its way: check it and act",
    ),
    # --- exchange / reship / repair --------------------------------------------------------------
    Rule(
        id="pinduoduo.platform_reship",
        match=Match(statuses=_s("awaiting_reship"), facts=_HAS_EXPIRE),
        anchor=_STATED,
        duration=timedelta(0),
        start_event=_STATED_EVENT,
        start_event_zh=_STATED_EVENT_ZH,
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="逾期未发出：平台未公布自动处理，案件标记为超时",
        consequence_en="not sent in time: PDD publishes no automatic effect; flagged overdue",
        source=f"{SRC_EXPIRE}; no published automatic effect",
        summary_zh="换货/补寄：逾期前发出商品",
        summary_en="Exchange/reship: send the goods before expire_time",
    ),
    Rule(
        id="pinduoduo.policy_reship",
        match=Match(statuses=_s("awaiting_reship"), facts=_NO_EXPIRE),
        anchor="status_since",
        duration=_policy(RESHIP_SETTING),
        setting=RESHIP_SETTING,
        policy=True,
        start_event="the case enters 补寄待商家发货 (or the exchange goods came back)",
        start_event_zh="进入补寄待商家发货（或换货商品已退回）",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        consequence_zh="店铺时限已过（平台给出逾期时间时以平台为准）",
        consequence_en="the shop's time is up (PDD's own expire_time, when given, decides)",
        source=SRC_RESHIP_POLICY,
        summary_zh="店铺规定：换货/补寄商品当日发出（默认 24 小时）",
        summary_en="Shop policy: send exchange/reship goods the same day (default 24 h)",
    ),
    Rule(
        id="pinduoduo.awaiting_reship",
        match=Match(statuses=_s("awaiting_reship")),
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="the rows above give the clock; this case carries neither PDD's time nor a "
        "known status (check the case in the merchant backend)",
        no_clock_reason_zh="此单无平台时限且状态未知，请在商家后台核对",
        summary_zh="换货/补寄：发出商品",
        summary_en="Exchange/reship: send the goods",
    ),
    Rule(
        id="pinduoduo.buyer_confirms",
        match=Match(statuses=_s("reshipped")),
        party=Party.BUYER,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_CONFIRM,
        source=SRC_STATUS,
        no_clock_reason="the buyer confirms the exchange or repaired goods; PDD publishes no period",
        no_clock_reason_zh="等待买家确认收货；平台未公布期限",
        summary_zh="换货/维修商品已发出，等待买家确认",
        summary_en="Exchange or repaired goods sent: the buyer confirms",
    ),
    # --- PDD's decisions -------------------------------------------------------------------------
    Rule(
        id="pinduoduo.appeal_window",
        match=Match(statuses=_s("refunding"), platform_statuses=_s("5")),
        anchor="status_since",
        duration=_policy(APPEAL_SETTING),
        setting=APPEAL_SETTING,
        policy=True,
        start_event="PDD approves the refund (平台同意退款)",
        start_event_zh="平台同意退款",
        party=Party.MERCHANT,
        action="appeal",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="申诉期按店铺规定已过，平台处理结果生效",
        consequence_en="the shop's appeal window has passed; PDD's decision stands",
        source=SRC_APPEAL,
        summary_zh="平台判买家胜诉：如有证据在店铺规定时间内（默认 72 小时）发起维权申诉",
        summary_en="PDD ruled for the buyer: appeal with evidence within the shop's time (default 72 h)",
    ),
    Rule(
        id="pinduoduo.refunding",
        match=Match(statuses=_s("refunding")),
        party=Party.PLATFORM,
        action="refund",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_STATUS,
        no_clock_reason="the refund is being paid out (退款中); nothing for the merchant to do",
        no_clock_reason_zh="退款中，商家无需操作",
        summary_zh="退款中",
        summary_en="The refund is being paid out",
    ),
    Rule(
        id="pinduoduo.evidence_within",
        match=Match(statuses=_s("platform_review")),
        anchor="status_since",
        duration=_policy(EVIDENCE_SETTING),
        setting=EVIDENCE_SETTING,
        policy=True,
        start_event="PDD customer service steps in (平台处理中)",
        start_event_zh="平台介入（平台处理中）",
        party=Party.MERCHANT,
        action="submit_evidence",
        on_expiry=OnExpiry.RULED_AGAINST,
        consequence_zh="平台按现有证据判定，通常支持买家",
        consequence_en="PDD decides on the evidence it has, usually for the buyer",
        source=SRC_EVIDENCE,
        summary_zh="平台处理中：在店铺规定时间内（默认 24 小时）向平台提交凭证",
        summary_en="Platform reviewing: give PDD the evidence within the shop's time (default 24 h)",
    ),
    # --- orders ----------------------------------------------------------------------------------
    Rule(
        id="pinduoduo.group_forming",
        match=Match(subject="order", statuses=_s("paid"), facts={"group_forming": True}),
        party=Party.PLATFORM,
        action="wait_for_group",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_GROUP,
        no_clock_reason="the group (拼团) has not formed; the ship clock starts at group formation",
        no_clock_reason_zh="拼团中：成团后才开始计算发货时间",
        summary_zh="拼团中：成团后再发货",
        summary_en="Group forming: ship once the group forms",
    ),
    Rule(
        id="pinduoduo.order_refund_hold",
        match=Match(subject="order", statuses=_s("refunding"), facts={"unshipped": True}),
        party=Party.MERCHANT,
        action="hold_and_answer_refund",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_UNSHIPPED,
        no_clock_reason="an after-sales case holds the order: do not ship; its clock is on the case",
        no_clock_reason_zh="订单有售后处理中：暂停发货，先处理售后（时限见售后案件）",
        summary_zh="有售后的未发货订单：暂停发货，先处理售后",
        summary_en="Unshipped order with an open after-sales case: hold the parcel and answer it",
    ),
    Rule(
        id="pinduoduo.platform_ship_by",
        match=Match(
            subject="order",
            statuses=_s("paid"),
            facts={"last_ship_time": True, "group_forming": None},
        ),
        anchor="fact:last_ship_time",
        duration=timedelta(0),
        start_event="PDD's promised ship time (last_ship_time, counted from group formation)",
        start_event_zh="拼多多承诺发货时间（自成团起算）",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.PENALTY,
        consequence_zh=_PENALTY_ZH,
        consequence_en=_PENALTY_EN,
        source=SRC_SHIP,
        summary_zh="承诺发货时间前发货，否则为延迟发货",
        summary_en="Ship before the promised shipping time, or it is a late shipment",
    ),
    Rule(
        id="pinduoduo.ship_after_group",
        match=Match(
            subject="order",
            statuses=_s("paid"),
            facts={"last_ship_time": None, "group_forming": None},
        ),
        anchor=("fact:group_formed_at", "paid_at"),
        duration=_policy(SHIP_SETTING),
        setting=SHIP_SETTING,
        policy=True,
        start_event="the group forms (成团; the payment for a single-buyer order)",
        start_event_zh="成团（单独购买为付款）",
        party=Party.MERCHANT,
        action="ship",
        on_expiry=OnExpiry.PENALTY,
        consequence_zh=_PENALTY_ZH,
        consequence_en=_PENALTY_EN,
        source=SRC_SHIP_POLICY,
        summary_zh="成团后在店铺规定时间内发货（默认 48 小时）",
        summary_en="Ship within the shop's time of group formation (default 48 h)",
    ),
    Rule(
        id="pinduoduo.no_reason_window_7d",
        match=Match(subject="order", statuses=_s("completed", "refunding"), facts={"signed_at": True}),
        anchor="signed_at",
        duration=timedelta(days=7),
        counting="natural_days",
        start_event="the buyer confirms receipt (receive_time; sign-for is at or before it)",
        start_event_zh="买家确认收货（receive_time，签收不晚于此时）",
        party=Party.BUYER,
        action="no_reason_return_window",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="七天无理由退货期结束（质量问题不受此限）",
        consequence_en="the 7-day no-reason window ends (quality problems are not bound by it)",
        source=SRC_NO_REASON,
        summary_zh="七天无理由退货：自签收次日零时起 7 天（以确认收货时间估算）",
        summary_en="7-day no-reason return: 7 days from the day after sign-for (estimated from receipt)",
    ),
    Rule(
        id="pinduoduo.quality_claim_15d",
        match=Match(subject="order", statuses=_s("completed"), facts={"completed_at": True}),
        anchor="fact:completed_at",
        duration=_policy(QUALITY_SETTING),
        counting="natural_days",
        setting=QUALITY_SETTING,
        policy=True,
        start_event="the order completes (buyer confirms receipt)",
        start_event_zh="订单完成（买家确认收货）",
        party=Party.BUYER,
        action="quality_claim_window",
        on_expiry=OnExpiry.WINDOW_CLOSES,
        consequence_zh="店铺受理质量问题的期限结束",
        consequence_en="the shop's window for quality complaints ends",
        source=SRC_QUALITY,
        summary_zh="订单完成后 15 天内受理质量问题（店铺规定）",
        summary_en="Quality complaints accepted within 15 days of completion (shop policy)",
    ),
)

_WRITE_OPS = "Pinduoduo open platform write operations (pdd.refund.agree, pdd.refund.returngoods.agree)"

CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint(
        id="pinduoduo.unknown_status_no_agree",
        action="agree_refund",
        match=Match(facts={"status_unknown": True}),
        reason_zh="售后状态未知，请在商家后台核对后再操作",
        reason_en="Unknown PDD status: check the case in the backend first",
        source=SRC_UNKNOWN,
    ),
    Constraint(
        id="pinduoduo.unknown_status_no_return",
        action="agree_return",
        match=Match(facts={"status_unknown": True}),
        reason_zh="售后状态未知，请在商家后台核对后再操作",
        reason_en="Unknown PDD status: check the case in the backend first",
        source=SRC_UNKNOWN,
    ),
    Constraint(
        id="pinduoduo.agree_only_pending",
        action="agree_refund",
        match=Match(
            statuses=_s(
                "seller_refused",
                "awaiting_return",
                "awaiting_reship",
                "reshipped",
                "refunding",
                "platform_review",
                "succeeded",
                "closed",
            )
        ),
        reason_zh="仅在“待商家处理”(售后状态 2/3)时可同意退款",
        reason_en="PDD accepts 同意退款 only while the case waits for the seller (status 2/3)",
        source=f"{_WRITE_OPS}; {SRC_STATUS}",
    ),
    Constraint(
        id="pinduoduo.agree_not_exchange_repair",
        action="agree_refund",
        match=Match(platform_statuses=_s("14", "21")),
        reason_zh="换货/维修申请请在商家后台处理（开放平台同意退款接口只处理退款）",
        reason_en="Exchange/repair requests (14/21) are handled in the backend; the agree API is for refunds",
        source=_WRITE_OPS,
    ),
    Constraint(
        id="pinduoduo.return_only_for_returns",
        action="agree_return",
        match=Match(kinds=_s("refund_only", "exchange", "reship", "repair", "compensation")),
        reason_zh="同意退货仅适用于退货退款",
        reason_en="同意退货 applies to return-and-refund cases only",
        source=_WRITE_OPS,
    ),
    Constraint(
        id="pinduoduo.return_only_requested",
        action="agree_return",
        match=Match(
            statuses=_s(
                "seller_refused",
                "awaiting_return",
                "return_shipped",
                "awaiting_reship",
                "reshipped",
                "refunding",
                "platform_review",
                "succeeded",
                "closed",
            )
        ),
        reason_zh="仅在“退货退款，待商家处理”且买家未寄回时可同意退货",
        reason_en="同意退货 only while a return request waits for the seller and nothing was shipped back",
        source=f"{_WRITE_OPS}; after_sales_status 3 退货退款，待商家处理",
    ),
)

#: Every (kind, status) ``mapping.map_after_sale`` can produce: PDD's five after-sales types (never
#: compensation) on any status (a type and a status code arrive independently).
STATES: frozenset[tuple[str, str]] = frozenset(
    (kind.value, status.value)
    for kind, status in product(AfterSaleKind, AfterSaleStatus)
    if kind is not AfterSaleKind.COMPENSATION
)

TABLE = RuleTable(platform=PLATFORM, rules=RULES, constraints=CONSTRAINTS, states=STATES)
