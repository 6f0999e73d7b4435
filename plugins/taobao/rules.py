"""Taobao / Tmall rule table: deadlines and constraints, each row citing its source.

Sources: DOMAIN.md "Taobao / Tmall" (distilled from seeds/001, seeds/003, seeds/004) and
platform-apis.md §1.3 (refund fields and the write APIs' documented constraints). The platform's
own ``refund_remind_timeout`` / ``time_out`` is mapped to ``platform_deadline`` and always wins
over these computed times (hub.rules.next_deadline). Figures no document publishes (how long a
seller has once Taobao steps in, or in 举证中) are shop policy: a row naming a setting whose
default is in info.py.
"""

from __future__ import annotations

from datetime import timedelta

from hub.domain import OnExpiry, Party
from hub.rules import Constraint, Match, Penalty, Rule, RuleTable

PLATFORM = "taobao"

SRC_REPLY_72H = "DOMAIN.md Taobao/Tmall: 'Seller does not answer a refund request' (72 h) [seeds/003]"
SRC_ESCALATE_72H = (
    "DOMAIN.md Taobao/Tmall: 'No agreement ... either may ask the platform to step in' [seeds/003]"
)
SRC_RETURN_7D = "DOMAIN.md Taobao/Tmall: 'Buyer must ship the return ... 7 days' [seeds/001, seeds/003]"
SRC_CONFIRM_10D = (
    "DOMAIN.md Taobao/Tmall: 'Seller must confirm receipt of the return ... 10 days' [seeds/001, seeds/003]"
)
SRC_LATE_SHIP = "DOMAIN.md Taobao/Tmall: 'Late shipment (延迟发货)' 72 h, 5 %, at most 30 yuan [seeds/003]"
SRC_NO_REASON_7D = "DOMAIN.md Taobao/Tmall: '7-day no-reason return window' [seeds/003, seeds/004]"
SRC_NO_REASON_REFUSE = (
    "DOMAIN.md Taobao/Tmall: 'Reason 七天无理由: the seller has no refuse button' [seeds/003]"
)
SRC_CANNOT_REFUSE = (
    "platform-apis.md §1.3 Other refund fields: operation_contraint = cannot_refuse (不允许操作)"
)
SRC_UNSHIPPED = (
    "platform-apis.md §1.3 taobao.refund.refuse: cannot refuse when 卖家未发货; "
    "DOMAIN.md Taobao/Tmall: 'Paid, not shipped: refund only' [seeds/003]"
)
SRC_ONWEB = "platform-apis.md §1.3 Other refund fields: operation_contraint = refund_onweb (需要到网页版操作)"
SRC_SHIP_WARNING = (
    "DOMAIN.md shop policy: 'Late-shipment early warning: at least 48 h before the 72 h limit' [seeds/004]"
)

POLICY = "shop policy (DOMAIN.md 'The merchant's own procedures'; no document publishes this figure)"
SRC_INTERVENTION = (
    f"{POLICY}: seeds/003 '平台介入时,相应的凭证要准备好' and 004 '迅速相应买家发起的维权'; "
    "the platform's refund_remind_timeout wins when it states one (platform-apis.md §1.3)"
)
SRC_EVIDENCE = (
    f"{POLICY}: cs_status 10 举证中 (platform-apis.md §1.3) gives no time; seeds/003 "
    "'平台介入时,相应的凭证要准备好'; the platform's refund_remind_timeout wins when it states one"
)

#: Shop policy settings for interventions (客服介入): no published figure, so a setting with a default.
INTERVENTION_SETTING = "intervention_reply_within"
INTERVENTION_DEFAULT = "24h"
EVIDENCE_SETTING = "evidence_upload_within"
EVIDENCE_DEFAULT = "24h"
#: ``cs_status`` values of an intervention in progress other than 举证中 (10): 需要客服介入,
#: 客服已经介入, 客服初审完成, 客服主管复审失败, and 6/11 while the refund is still open.
CS_INTERVENING = (2, 3, 4, 5, 6, 11)
CS_EVIDENCE = 10

_REFUND_KINDS = frozenset({"refund_only", "compensation"})

RULES: tuple[Rule, ...] = (
    Rule(
        id="taobao.refund_reply_72h",
        match=Match(
            statuses=frozenset({"requested"}),
            kinds=_REFUND_KINDS,
            platform_statuses=frozenset({"WAIT_SELLER_AGREE"}),
        ),
        anchor="created_at",
        duration=timedelta(hours=72),
        party=Party.SELLER,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        source=SRC_REPLY_72H,
        summary_zh="卖家 72 小时未处理退款申请，系统自动同意退款",
        summary_en="No seller answer within 72 h: the refund is agreed automatically",
    ),
    Rule(
        id="taobao.return_reply_72h",
        match=Match(
            statuses=frozenset({"requested"}),
            kinds=frozenset({"return_refund"}),
            platform_statuses=frozenset({"WAIT_SELLER_AGREE"}),
        ),
        anchor="created_at",
        duration=timedelta(hours=72),
        party=Party.SELLER,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        source=SRC_REPLY_72H,
        summary_zh="卖家 72 小时未处理退货申请，系统自动达成退货协议",
        summary_en="No seller answer within 72 h: the return agreement is made automatically",
    ),
    Rule(
        id="taobao.escalation_72h",
        match=Match(statuses=frozenset({"seller_refused"})),
        anchor="created_at",
        duration=timedelta(hours=72),
        party=Party.BUYER,
        action="escalate",
        on_expiry=OnExpiry.ESCALATION_OPENS,
        source=SRC_ESCALATE_72H,
        summary_zh="申请退款 72 小时后，双方均可申请淘宝客服介入",
        summary_en="From 72 h after the request either side may ask Taobao to step in",
    ),
    Rule(
        id="taobao.buyer_return_7d",
        match=Match(statuses=frozenset({"awaiting_return"}), kinds=frozenset({"return_refund"})),
        anchor="status_since",
        duration=timedelta(days=7),
        party=Party.BUYER,
        action="ship_return",
        on_expiry=OnExpiry.AUTO_CLOSE,
        source=SRC_RETURN_7D,
        summary_zh="退货协议达成后买家 7 天内未退货，退款关闭",
        summary_en="The buyer must ship the return within 7 days of the agreement, else the refund closes",
    ),
    Rule(
        id="taobao.seller_confirm_10d",
        match=Match(
            statuses=frozenset({"return_shipped"}),
            kinds=frozenset({"return_refund"}),
            facts={"good_return_time": True},
        ),
        anchor="fact:good_return_time",
        duration=timedelta(days=10),
        party=Party.SELLER,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_REFUND,
        source=SRC_CONFIRM_10D,
        summary_zh="买家提交退货后卖家 10 天内未确认收货，系统自动退款",
        summary_en="The seller must confirm the return within 10 days of its shipment, else Taobao refunds",
    ),
    Rule(
        # Same rule when the platform gave no good_return_time: count from entering the status.
        id="taobao.seller_confirm_10d_since_status",
        match=Match(
            statuses=frozenset({"return_shipped"}),
            kinds=frozenset({"return_refund"}),
            facts={"good_return_time": None},
        ),
        anchor="status_since",
        duration=timedelta(days=10),
        party=Party.SELLER,
        action="confirm_receipt",
        on_expiry=OnExpiry.AUTO_REFUND,
        source=SRC_CONFIRM_10D,
        summary_zh="买家提交退货后卖家 10 天内未确认收货，系统自动退款",
        summary_en="The seller must confirm the return within 10 days of its shipment, else Taobao refunds",
    ),
    # -- Shop policy: interventions (客服介入). Only when the platform states no timeout.
    Rule(
        id="taobao.intervention_reply",
        match=Match(statuses=frozenset({"platform_review"}), facts={"cs_status": CS_INTERVENING}),
        anchor="status_since",
        duration=timedelta(hours=24),
        setting=INTERVENTION_SETTING,
        party=Party.SELLER,
        action="submit_evidence",
        on_expiry=OnExpiry.OVERDUE,
        source=SRC_INTERVENTION,
        summary_zh="店铺规定：客服介入后在规定时间内（默认 24 小时）整理凭证并向小二说明不能退款的原因",
        summary_en="Shop policy: prepare the evidence and state the seller's case within the set time "
        "(default 24 h) of Taobao stepping in",
    ),
    Rule(
        # TOP gives no time for entering 举证中, so count from the refund's last modification.
        id="taobao.evidence_upload",
        match=Match(statuses=frozenset({"platform_review"}), facts={"cs_status": CS_EVIDENCE}),
        anchor="updated_at",
        duration=timedelta(hours=24),
        setting=EVIDENCE_SETTING,
        party=Party.SELLER,
        action="submit_evidence",
        on_expiry=OnExpiry.OVERDUE,
        source=SRC_EVIDENCE,
        summary_zh="店铺规定：进入举证中后在规定时间内（默认 24 小时）上传凭证",
        summary_en="Shop policy: upload the evidence within the set time (default 24 h) of 举证中",
    ),
    Rule(
        id="taobao.late_shipment_72h",
        match=Match(
            subject="order",
            platform_statuses=frozenset({"WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"}),
            facts={"presale": None},
        ),
        anchor="paid_at",
        duration=timedelta(hours=72),
        party=Party.SELLER,
        action="ship",
        on_expiry=OnExpiry.PENALTY,
        source=SRC_LATE_SHIP,
        summary_zh="付款后 72 小时未发货为延迟发货：赔付实付金额 5%，最高 30 元",
        summary_en="Not shipped 72 h after payment: a penalty of 5 % of the paid amount, at most 30 yuan",
        penalty=Penalty(percent="5", cap_fen=3000, base="paid_fen"),
    ),
    Rule(
        id="taobao.no_reason_window_7d",
        match=Match(subject="order", statuses=frozenset({"shipped", "completed", "refunding"})),
        anchor="signed_at",
        duration=timedelta(days=7),
        party=Party.BUYER,
        action="request_no_reason_return",
        on_expiry=OnExpiry.NOTHING,
        source=SRC_NO_REASON_7D,
        summary_zh="七天无理由退货：自物流签收起 7 天内可申请",
        summary_en="7-day no-reason return: the buyer may apply within 7 days of the sign-for time",
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

RULE_TABLE = RuleTable(platform=PLATFORM, rules=RULES, constraints=CONSTRAINTS)

#: Shop policy (DOMAIN.md "The merchant's own procedures"): list unshipped orders at least this
#: long before the 72 h late-shipment limit. A setting, used by the insight hook: as a Rule it
#: would be the earliest deadline and hide the 72 h penalty deadline once past.
SHIP_WARNING_SETTING = "late_ship_warning"
SHIP_WARNING_DEFAULT = "48h"
