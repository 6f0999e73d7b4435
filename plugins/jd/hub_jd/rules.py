"""JD's rule table: every row is shop policy, and says so.

JD publishes handling time limits for service orders in its merchant rules (京东开放平台售后服务
规则), but none could be read and verified for this plugin: no SDK comment, integration code or
stored page states one. So no row claims a platform effect (nothing automatic is promised); each
names a shop setting whose default the merchant changes, and an overdue case is flagged. The
exchange flow the rows follow is the merchant documents' one: JD, unlike Taobao and Tmall, runs
exchanges online (buyer applies → seller reviews → buyer sends the goods back → seller checks
and registers them → seller sends the new goods → buyer confirms).
"""

from __future__ import annotations

from datetime import timedelta

from hub.domain import OnExpiry, Party
from hub.rules import Constraint, Match, Rule, RuleTable

from .info import PLATFORM_ID

POLICY = (
    "shop policy: JD's own time limit for this step could not be verified (README 'Rules'), so the "
    "shop sets it"
)
FLOW = (
    "merchant documents: on JD exchanges run online (buyer applies, seller reviews, buyer returns "
    "the goods, the warehouse checks them, the exchange goods go out, the buyer confirms)"
)
ASC = "JOS 商家售后服务开放API: service-order status (serviceStatus) and the audit/receive/process calls"

#: every (kind, status) the mapping produces: each kind of service order, in each status its
#: serviceStatus codes map to (see mapping.py)
STATES = frozenset(
    (kind, status)
    for kind in ("return_refund", "refund_only", "exchange", "repair", "reship", "compensation")
    for status in (
        "requested",
        "seller_refused",
        "awaiting_return",
        "return_shipped",
        "awaiting_reship",
        "reshipped",
        "refunding",
        "succeeded",
        "closed",
    )
)

RULES = RuleTable(
    platform=PLATFORM_ID,
    states=STATES,
    rules=(
        Rule(
            id="jd.audit",
            start_event="the buyer submits the service order (it enters 待审核)",
            start_event_zh="买家提交服务单（进入待审核）",
            consequence_zh="超时未审核：服务单标记为逾期（京东自身时限未核实）",
            consequence_en="overdue: flagged (JD's own time limit is unverified)",
            policy=True,
            match=Match(statuses=frozenset({"requested"})),
            anchor="status_since",
            duration=timedelta(hours=24),
            party=Party.MERCHANT,
            action="reply",
            on_expiry=OnExpiry.OVERDUE,
            source=f"{POLICY}; {ASC} (10001 待审核)",
            summary_zh="新服务单请在时限内审核（通过或不通过）",
            summary_en="Review a new service order (approve or refuse) in time",
            setting="audit_within",
        ),
        Rule(
            id="jd.buyer_return",
            start_event="the seller approves a service order that needs the goods back",
            start_event_zh="商家审核通过、需买家寄回商品",
            consequence_zh="买家逾期未寄回：请联系买家",
            consequence_en="the buyer is late sending the goods back: chase them",
            policy=True,
            match=Match(statuses=frozenset({"awaiting_return"})),
            anchor="status_since",
            duration=timedelta(days=7),
            party=Party.BUYER,
            action="ship_return",
            on_expiry=OnExpiry.OVERDUE,
            source=f"{POLICY}; {FLOW}",
            summary_zh="买家尚未寄回商品：逾期请联系买家",
            summary_en="The buyer has not sent the goods back: chase them when this passes",
            setting="buyer_return_within",
        ),
        Rule(
            id="jd.receive",
            start_event="the buyer sends the goods back (a waybill is entered)",
            start_event_zh="买家寄回商品（填写运单）",
            consequence_zh="逾期未验收：服务单标记为逾期",
            consequence_en="overdue: flagged",
            policy=True,
            match=Match(statuses=frozenset({"return_shipped"})),
            anchor="status_since",
            duration=timedelta(hours=48),
            party=Party.MERCHANT,
            action="confirm_receipt",
            on_expiry=OnExpiry.OVERDUE,
            source=f"{POLICY}; {FLOW} (the warehouse checks the returned goods on arrival)",
            summary_zh="退回商品请验收并做收货登记",
            summary_en="Check the returned goods and register their receipt",
            setting="receive_within",
        ),
        Rule(
            id="jd.reship",
            start_event="the returned goods pass the check (exchange, reship or repair)",
            start_event_zh="退回商品验收通过（换货、补发、维修）",
            consequence_zh="逾期未发出新商品：服务单标记为逾期",
            consequence_en="overdue: flagged",
            policy=True,
            match=Match(statuses=frozenset({"awaiting_reship"})),
            anchor="status_since",
            duration=timedelta(hours=24),
            party=Party.MERCHANT,
            action="ship",
            on_expiry=OnExpiry.OVERDUE,
            source=f"{POLICY}; {FLOW} (the exchange goods go out once the returned goods pass the check)",
            summary_zh="换货：请发出新商品（换新）",
            summary_en="Exchange: send the new goods",
            setting="reship_within",
        ),
        Rule(
            id="jd.buyer_confirm",
            start_event="the seller sends the new goods out",
            start_event_zh="商家发出新商品",
            consequence_zh="买家逾期未确认：服务单标记为逾期",
            consequence_en="overdue: flagged",
            policy=True,
            match=Match(statuses=frozenset({"reshipped"})),
            anchor="status_since",
            duration=timedelta(days=7),
            party=Party.BUYER,
            action="confirm_receipt",
            on_expiry=OnExpiry.OVERDUE,
            source=f"{POLICY}; {FLOW} (the buyer confirms the exchange goods)",
            summary_zh="换货已发出，等待买家确认收货",
            summary_en="Exchange goods sent: waiting for the buyer to confirm",
            setting="buyer_confirm_within",
        ),
    ),
    constraints=(
        Constraint(
            id="jd.reship_exchanges_only",
            action="reship",
            match=Match(kinds=frozenset({"return_refund", "refund_only", "compensation"})),
            reason_zh="仅换货、补发、维修服务单可换新发货",
            reason_en="Only exchange, reship and repair service orders send goods out",
            source=f"{ASC} (jingdong.asc.process.renew is the exchange's 换新 step)",
        ),
    ),
)
