"""Pinduoduo's rule table: deadlines and action constraints, as data, each row with its source.

PDD states the seller's deadline itself: ``expire_time`` (售后逾期时间) in
``pdd.refund.information.get`` while a case waits for the seller, and ``last_ship_time``
(承诺发货时间) on orders (platform-apis.md §2.2, §2.3). Those always win (``platform_deadline``);
the ``platform_*`` rows below lend them their action and effect. Where PDD publishes no figure,
the row is **shop policy**: it names a setting (PlatformInfo.settings) whose default the merchant
can change, and it only applies when PDD gave no time of its own.
"""

from __future__ import annotations

from datetime import timedelta

from hub.domain import OnExpiry, Party
from hub.rules import Constraint, Match, Rule, RuleTable

from .info import PLATFORM_ID

REF_EXPIRE = (
    "platform-apis.md §2.3 pdd.refund.information.get: expire_time (售后逾期时间, only while 待商家处理)"
)
REF_SHIP = "platform-apis.md §2.2 order fields: last_ship_time (承诺发货时间)"
REF_AUTO = (
    "effect [U for PDD]: seed 003 (卖家未响应 → 系统会自动为双方达成退货协议; 逾期未确认 → 系统会自动退款), "
    "stated without naming a platform (DOMAIN.md files it under Taobao)"
)
POLICY = "shop policy (DOMAIN.md 'The merchant's own procedures')"

_NO_EXPIRE = {"expire_time": None}
_HAS_EXPIRE = {"expire_time": True}

RULES: tuple[Rule, ...] = (
    # -- PDD's own stated times (platform_deadline); these rows give them their action and effect.
    Rule(
        id="pinduoduo.platform_reply",
        match=Match(statuses=frozenset({"requested"}), facts=_HAS_EXPIRE),
        anchor="fact:expire_time",
        duration=timedelta(0),
        party=Party.SELLER,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        source=f"{REF_EXPIRE}; {REF_AUTO}",
        summary_zh="商家须在售后逾期时间前处理，逾期平台自动同意",
        summary_en="Answer before PDD's expire_time, or PDD agrees by itself",
    ),
    Rule(
        id="pinduoduo.platform_recall",
        match=Match(platform_statuses=frozenset({"33"}), facts=_HAS_EXPIRE),
        anchor="fact:expire_time",
        duration=timedelta(0),
        party=Party.SELLER,
        action="recall_parcel",
        on_expiry=OnExpiry.AUTO_REFUND,
        source=f"{REF_EXPIRE}; status 33 同意召回后退款，待商家召回 (platform-apis.md §2.3); {REF_AUTO}",
        summary_zh="已同意召回后退款：逾期前召回（拦截）包裹，否则平台直接退款",
        summary_en="Refund after recall: recall (intercept) the parcel before expire_time, or PDD refunds",
    ),
    Rule(
        id="pinduoduo.platform_confirm_return",
        match=Match(statuses=frozenset({"return_shipped"}), facts=_HAS_EXPIRE),
        anchor="fact:expire_time",
        duration=timedelta(0),
        party=Party.SELLER,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_REFUND,
        source=f"{REF_EXPIRE}; {REF_AUTO}",
        summary_zh="退货已寄回：逾期前确认收货并退款，否则平台自动退款",
        summary_en="Return on its way: confirm and refund before expire_time, or PDD refunds by itself",
    ),
    Rule(
        id="pinduoduo.platform_reship",
        match=Match(statuses=frozenset({"awaiting_reship"}), facts=_HAS_EXPIRE),
        anchor="fact:expire_time",
        duration=timedelta(0),
        party=Party.SELLER,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{REF_EXPIRE}; no published automatic effect, so the case is flagged overdue",
        summary_zh="换货/补寄：逾期前发出商品",
        summary_en="Exchange/reship: send the goods before expire_time",
    ),
    Rule(
        id="pinduoduo.platform_ship_by",
        match=Match(subject="order", statuses=frozenset({"paid"}), facts={"last_ship_time": True}),
        anchor="fact:last_ship_time",
        duration=timedelta(0),
        party=Party.SELLER,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{REF_SHIP}; no published PDD penalty figure in the sources, so flagged overdue",
        summary_zh="承诺发货时间前发货",
        summary_en="Ship before the promised shipping time",
    ),
    # -- Shop policy: used only when PDD stated no time. Figures are settings, not constants.
    Rule(
        id="pinduoduo.policy_reply",
        match=Match(statuses=frozenset({"requested"}), facts=_NO_EXPIRE),
        anchor="status_since",
        duration=timedelta(hours=24),
        setting="reply_within",
        party=Party.SELLER,
        action="reply",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{POLICY}: refund on an unshipped order handled within 24 h [004]",
        summary_zh="店铺规定：售后申请须在规定时间内处理",
        summary_en="Shop policy: answer an after-sales request within the set time",
    ),
    Rule(
        id="pinduoduo.policy_confirm_return",
        match=Match(statuses=frozenset({"return_shipped"}), facts=_NO_EXPIRE),
        anchor="status_since",
        duration=timedelta(hours=48),
        setting="confirm_return_within",
        party=Party.SELLER,
        action="confirm_receipt",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{POLICY}: no published PDD figure; the default is the hub's, change it per shop",
        summary_zh="店铺规定：退货寄回后按时验货退款",
        summary_en="Shop policy: check a returned parcel and refund within the set time",
    ),
    Rule(
        id="pinduoduo.policy_reship",
        match=Match(statuses=frozenset({"awaiting_reship"}), facts=_NO_EXPIRE),
        anchor="status_since",
        duration=timedelta(hours=24),
        setting="reship_within",
        party=Party.SELLER,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{POLICY}: same-day dispatch (paid before 16:00 ships that day) [004]",
        summary_zh="店铺规定：换货/补寄商品当日发出",
        summary_en="Shop policy: send exchange/reship goods the same day",
    ),
    Rule(
        id="pinduoduo.policy_buyer_return",
        match=Match(statuses=frozenset({"awaiting_return"})),
        anchor="status_since",
        duration=timedelta(days=7),
        setting="buyer_return_within",
        party=Party.BUYER,
        action="ship_return",
        on_expiry=OnExpiry.AUTO_CLOSE,
        source=(
            "shop policy: PDD publishes no figure; default from Taobao's 7 days (DOMAIN.md Taobao, "
            "[001, 003]); effect: PDD status 12 买家逾期未处理，退款失败 (platform-apis.md §2.3)"
        ),
        summary_zh="买家须寄回商品，逾期退款关闭",
        summary_en="The buyer must ship the return, or the refund closes",
    ),
    Rule(
        id="pinduoduo.policy_ship",
        match=Match(subject="order", statuses=frozenset({"paid"}), facts={"last_ship_time": None}),
        anchor="paid_at",
        duration=timedelta(hours=24),
        setting="ship_within",
        party=Party.SELLER,
        action="ship",
        on_expiry=OnExpiry.OVERDUE,
        source=f"{POLICY}: late-shipment early warning 48 h before the 72 h limit [004]",
        summary_zh="店铺规定：付款后及时发货（72小时前48小时预警）",
        summary_en="Shop policy: ship early (warning 48 h before the 72 h limit)",
    ),
)

CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint(
        id="pinduoduo.unknown_status_no_agree",
        action="agree_refund",
        match=Match(facts={"status_unknown": True}),
        reason_zh="售后状态未知，请在商家后台核对后再操作",
        reason_en="Unknown PDD status: check the case in the backend first",
        source="platform-apis.md §5.1 (keep unknown codes raw; never act on a guess)",
    ),
    Constraint(
        id="pinduoduo.unknown_status_no_return",
        action="agree_return",
        match=Match(facts={"status_unknown": True}),
        reason_zh="售后状态未知，请在商家后台核对后再操作",
        reason_en="Unknown PDD status: check the case in the backend first",
        source="platform-apis.md §5.1 (keep unknown codes raw; never act on a guess)",
    ),
    Constraint(
        id="pinduoduo.agree_only_pending",
        action="agree_refund",
        match=Match(
            statuses=frozenset(
                {
                    "seller_refused",
                    "awaiting_return",
                    "awaiting_reship",
                    "reshipped",
                    "refunding",
                    "platform_review",
                    "succeeded",
                    "closed",
                }
            )
        ),
        reason_zh="仅在“待商家处理”(售后状态 2/3)时可同意退款",
        reason_en="PDD accepts 同意退款 only while the case waits for the seller (status 2/3)",
        source="platform-apis.md §2.3 write operations (pdd.refund.agree) and the after_sales_status enum",
    ),
    Constraint(
        id="pinduoduo.agree_not_exchange_repair",
        action="agree_refund",
        match=Match(platform_statuses=frozenset({"14", "21"})),
        reason_zh="换货/维修申请请在商家后台处理（开放平台同意退款接口只处理退款）",
        reason_en="Exchange/repair requests (14/21) are handled in the backend; the agree API is for refunds",
        source="platform-apis.md §2.3 write operations (pdd.refund.agree: 同意退款)",
    ),
    Constraint(
        id="pinduoduo.return_only_for_returns",
        action="agree_return",
        match=Match(kinds=frozenset({"refund_only", "exchange", "reship", "repair", "compensation"})),
        reason_zh="同意退货仅适用于退货退款",
        reason_en="同意退货 applies to return-and-refund cases only",
        source="platform-apis.md §2.3 write operations (pdd.refund.returngoods.agree: 同意退货)",
    ),
    Constraint(
        id="pinduoduo.return_only_requested",
        action="agree_return",
        match=Match(
            statuses=frozenset(
                {
                    "seller_refused",
                    "awaiting_return",
                    "return_shipped",
                    "awaiting_reship",
                    "reshipped",
                    "refunding",
                    "platform_review",
                    "succeeded",
                    "closed",
                }
            )
        ),
        reason_zh="仅在“退货退款，待商家处理”且买家未寄回时可同意退货",
        reason_en="同意退货 only while a return request waits for the seller and nothing was shipped back",
        source="platform-apis.md §2.3 (after_sales_status 3 退货退款，待商家处理)",
    ),
)

TABLE = RuleTable(platform=PLATFORM_ID, rules=RULES, constraints=CONSTRAINTS)
