"""The unified model: one vocabulary for every platform.

Plugins map their platform's records to these types in their ``mapping`` module; the store, the
rule evaluator, the CLI, the API and the agent page speak only these. The names are the contract
(see docs/model.md): money is integer fen (``*_fen``), times are aware UTC
(``*_at``), a platform's own identifiers are strings (``external_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class OrderRole(StrEnum):
    """Which side of the merchant an order is on."""

    SALE = "sale"  #: the merchant sold to a buyer (Taobao, Pinduoduo)
    PURCHASE = "purchase"  #: the merchant bought upstream to fulfil a sale (17网 dropship)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"  #: paid, not shipped (售中)
    SHIPPED = "shipped"
    COMPLETED = "completed"  #: trade success / confirmed receipt
    REFUNDING = "refunding"  #: an after-sales case holds the order
    CANCELLED = "cancelled"  #: closed before payment, or by the buyer
    CLOSED = "closed"  #: closed after payment (fully refunded)


class AfterSaleKind(StrEnum):
    REFUND_ONLY = "refund_only"  #: 仅退款
    RETURN_REFUND = "return_refund"  #: 退货退款
    EXCHANGE = "exchange"  #: 换货
    RESHIP = "reship"  #: 补发 / 补寄
    REPAIR = "repair"  #: 维修
    COMPENSATION = "compensation"  #: 补偿 / 补差价


class Party(StrEnum):
    """Who must act next, always named from the merchant's side.

    On a sales platform the merchant is the seller; on a sourcing platform (17网) the merchant is
    the buyer and the stall or dropship service is ``supplier``. ``SELLER`` is a deprecated alias
    of ``MERCHANT``: ``Party("seller")`` reads as ``Party.MERCHANT`` (stored "seller" values were
    migrated to "merchant").
    """

    MERCHANT = "merchant"  #: us: the shop's agents
    BUYER = "buyer"  #: the customer who bought from the merchant
    PLATFORM = "platform"  #: the platform's staff or system (介入, 退款中)
    SUPPLIER = "supplier"  #: the upstream stall or dropship service the merchant buys from
    NONE = "none"  #: nobody: the case is over
    SELLER = "merchant"  #: deprecated alias of MERCHANT

    @classmethod
    def _missing_(cls, value: object) -> Party | None:
        if isinstance(value, str) and value.strip().lower() == "seller":
            return cls.MERCHANT
        return None

    @classmethod
    def parse(cls, text: str) -> Party:
        """Parse a user's party name (``seller`` reads as ``merchant``); ValueError names the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls) + " (seller = merchant)"
            raise ValueError(f"unknown party {text!r}: use one of {choices}") from None

    def from_side(self, merchant_side: Party) -> Party:
        """Translate a party named from a platform's seller/buyer roles to the merchant's side.

        On a platform where the merchant is the buyer (``merchant_side=BUYER``) the platform's
        "seller" is our supplier and its "buyer" is us.
        """
        if merchant_side is not Party.BUYER:
            return self
        if self is Party.MERCHANT:
            return Party.SUPPLIER
        if self is Party.BUYER:
            return Party.MERCHANT
        return self


class AfterSaleStatus(StrEnum):
    REQUESTED = "requested"
    SELLER_REFUSED = "seller_refused"
    AWAITING_RETURN = "awaiting_return"
    RETURN_SHIPPED = "return_shipped"
    AWAITING_RESHIP = "awaiting_reship"
    RESHIPPED = "reshipped"
    REFUNDING = "refunding"
    PLATFORM_REVIEW = "platform_review"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"

    @property
    def awaiting(self) -> Party:
        """Who a case in this status usually waits for, on a platform where the merchant sells.

        Only the fallback when no rule row covers a state; the case's next action says who acts.
        """
        return AWAITING[self]

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STATUSES


AWAITING: Mapping[AfterSaleStatus, Party] = {
    AfterSaleStatus.REQUESTED: Party.MERCHANT,
    AfterSaleStatus.SELLER_REFUSED: Party.BUYER,
    AfterSaleStatus.AWAITING_RETURN: Party.BUYER,
    AfterSaleStatus.RETURN_SHIPPED: Party.MERCHANT,
    AfterSaleStatus.AWAITING_RESHIP: Party.MERCHANT,
    AfterSaleStatus.RESHIPPED: Party.BUYER,
    AfterSaleStatus.REFUNDING: Party.PLATFORM,
    AfterSaleStatus.PLATFORM_REVIEW: Party.PLATFORM,
    AfterSaleStatus.SUCCEEDED: Party.NONE,
    AfterSaleStatus.CLOSED: Party.NONE,
}

#: The action a case in a status usually waits for; the fallback when no rule row covers a state.
DEFAULT_ACTION: Mapping[AfterSaleStatus, str] = {
    AfterSaleStatus.REQUESTED: "reply",
    AfterSaleStatus.SELLER_REFUSED: "buyer_decides",
    AfterSaleStatus.AWAITING_RETURN: "ship_return",
    AfterSaleStatus.RETURN_SHIPPED: "confirm_receipt",
    AfterSaleStatus.AWAITING_RESHIP: "reship",
    AfterSaleStatus.RESHIPPED: "confirm_receipt",
    AfterSaleStatus.REFUNDING: "refund",
    AfterSaleStatus.PLATFORM_REVIEW: "review",
    AfterSaleStatus.SUCCEEDED: "none",
    AfterSaleStatus.CLOSED: "none",
}

TERMINAL_STATUSES = frozenset({AfterSaleStatus.SUCCEEDED, AfterSaleStatus.CLOSED})
OPEN_STATUSES = frozenset(s for s in AfterSaleStatus if s not in TERMINAL_STATUSES)


class DisputeKind(StrEnum):
    INTERVENTION = "intervention"  #: 介入: the platform mediates a refund
    COMPLAINT = "complaint"  #: 维权: late_shipment, fake_shipment, broken_promise, not_received
    APPEAL = "appeal"  #: 申诉 against a platform decision


class DisputeStatus(StrEnum):
    OPEN = "open"
    EVIDENCE_REQUIRED = "evidence_required"
    UNDER_REVIEW = "under_review"
    RULED_FOR_BUYER = "ruled_for_buyer"
    RULED_FOR_SELLER = "ruled_for_seller"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self in {DisputeStatus.OPEN, DisputeStatus.EVIDENCE_REQUIRED, DisputeStatus.UNDER_REVIEW}


class OnExpiry(StrEnum):
    """What the platform does by itself when a deadline passes and nobody acted."""

    AUTO_AGREE = "auto_agree"
    AUTO_REFUND = "auto_refund"
    AUTO_CLOSE = "auto_close"
    AUTO_CONFIRM = "auto_confirm"
    ESCALATION_OPENS = "escalation_opens"
    PENALTY = "penalty"
    SCRAPPED = "scrapped"  #: 17网: an unclaimed return parcel is destroyed
    OVERDUE = "overdue"  #: nothing automatic happens; the case is flagged overdue
    NOTHING = "nothing"
    AUTO_CANCEL = "auto_cancel"  #: the platform cancels the order or request by itself
    RULED_AGAINST = "ruled_against"  #: the platform rules on what it has, usually for the other side
    WINDOW_CLOSES = "window_closes"  #: the right to act (appeal, claim, return) lapses

    def label(self, lang: str = "en", penalty_fen: int | None = None) -> str:
        """What happens on expiry, in words: ``lang`` "zh" for zh-CN pages, else English."""
        zh, en = ON_EXPIRY_LABELS[self]
        if self is OnExpiry.PENALTY and penalty_fen:
            yuan = f"{penalty_fen // 100}.{penalty_fen % 100:02d}"
            return f"{zh} ¥{yuan}" if lang == "zh" else f"{en} ¥{yuan}"
        return zh if lang == "zh" else en


#: (zh, en) labels of every OnExpiry value.
ON_EXPIRY_LABELS: Mapping[OnExpiry, tuple[str, str]] = {
    OnExpiry.AUTO_AGREE: ("平台自动同意", "the platform agrees automatically"),
    OnExpiry.AUTO_REFUND: ("平台自动退款", "the platform refunds automatically"),
    OnExpiry.AUTO_CLOSE: ("自动关闭", "the request closes automatically"),
    OnExpiry.AUTO_CONFIRM: ("自动确认收货", "receipt is confirmed automatically"),
    OnExpiry.ESCALATION_OPENS: ("对方可申请平台介入", "the other side may ask the platform to intervene"),
    OnExpiry.PENALTY: ("违约赔付", "penalty"),
    OnExpiry.SCRAPPED: ("退货包裹被销毁", "the return parcel is scrapped"),
    OnExpiry.OVERDUE: ("标记为超时", "flagged overdue"),
    OnExpiry.NOTHING: ("无自动处理", "nothing happens automatically"),
    OnExpiry.AUTO_CANCEL: ("自动取消", "cancelled automatically"),
    OnExpiry.RULED_AGAINST: ("平台按现有证据判定", "the platform rules on the evidence it has"),
    OnExpiry.WINDOW_CLOSES: ("期限过后不能再操作", "the window to act closes"),
}


class DeadlineSource(StrEnum):
    """Where a due time comes from."""

    PLATFORM = "platform"  #: the platform stated the time itself; always wins
    RULE = "rule"  #: a published platform rule (a rule-table row) computed it
    POLICY = "policy"  #: a shop-policy figure: no platform publishes one, or the shop overrode it


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    WAYBILL = "waybill"
    WEIGHT = "weight"
    CHAT = "chat"
    VIDEO = "video"
    DOCUMENT = "document"


@dataclass(frozen=True, kw_only=True)
class Shop:
    """One seller account on one platform. ``settings`` holds the plugin's settings, secrets resolved."""

    name: str
    platform: str
    settings: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None
    needs_reauth: bool = False


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    external_id: str
    title: str = ""
    sku_id: str | None = None
    sku_name: str | None = None
    quantity: int = 1
    unit_price_fen: int = 0
    paid_fen: int = 0
    status: str | None = None  #: the platform's own line status, raw
    refund_status: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLink:
    """A hint that this (purchase) order fulfils a sale order; resolved by the core."""

    sale_external_id: str | None = None  #: the sale's order id, e.g. read from a purchase remark
    recipient_key: str | None = None  #: normalised recipient (name + phone tail) to match by
    sku_keys: tuple[str, ...] = ()
    day: str | None = None  #: YYYY-MM-DD (Beijing) the purchase was placed


@dataclass(frozen=True, kw_only=True)
class Order:
    external_id: str
    status: OrderStatus
    platform_status: str  #: the platform's own status value, raw
    created_at: datetime
    updated_at: datetime  #: the platform's modified time: decides newer-wins
    role: OrderRole = OrderRole.SALE
    buyer: str | None = None
    recipient_key: str | None = None
    total_fen: int = 0
    paid_fen: int = 0
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    signed_at: datetime | None = None
    completed_at: datetime | None = None
    waybill: str | None = None
    remark: str | None = None
    lines: tuple[OrderLine, ...] = ()
    links: tuple[OrderLink, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)  #: plugin facts the rules read
    platform_deadline: PlatformDeadline | None = None
    warnings: tuple[str, ...] = ()  #: mapping warnings (e.g. an unknown status mapped to a default)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    kind: EvidenceKind
    name: str
    description: str = ""
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = None  #: the platform's URL, for evidence the platform holds
    added_at: datetime | None = None
    added_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class Dispute:
    kind: DisputeKind
    status: DisputeStatus
    external_id: str | None = None
    subtype: str | None = None  #: complaint type: late_shipment, fake_shipment, broken_promise, ...
    platform_status: str | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    appeal_open: bool = False  #: the platform has opened an appeal path (开放申诉)
    note: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlatformDeadline:
    """A deadline the platform states itself (TOP ``refund_remind_timeout``, PDD ``expire_time``)."""

    due_at: datetime
    action: str | None = None
    on_expiry: OnExpiry | None = None
    party: Party | None = None


@dataclass(frozen=True, kw_only=True)
class AfterSale:
    external_id: str
    order_external_id: str
    kind: AfterSaleKind
    status: AfterSaleStatus
    platform_status: str  #: the platform's own status value(s), raw, e.g. "WAIT_SELLER_AGREE"
    created_at: datetime
    updated_at: datetime  #: the platform's modified time: decides newer-wins
    line_external_id: str | None = None
    reason: str | None = None
    refund_fen: int = 0
    paid_fen: int | None = None
    buyer: str | None = None
    description: str | None = None
    version: int | None = None  #: the platform's record version, tie-breaker (TOP refund_version)
    return_waybill: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)  #: plugin facts the rules read (ISO times)
    platform_deadline: PlatformDeadline | None = None
    dispute: Dispute | None = None
    warnings: tuple[str, ...] = ()  #: mapping warnings (e.g. an unknown status mapped to a default)

    @property
    def awaiting(self) -> Party:
        return self.status.awaiting


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """The next thing someone must do on a case, and what happens if nobody does."""

    due_at: datetime
    party: Party
    action: str
    on_expiry: OnExpiry
    source: DeadlineSource
    rule_id: str | None = None
    rule_source: str | None = None  #: the document the rule comes from
    summary: str | None = None  #: e.g. "72 小时未处理将自动同意退款"
    penalty_fen: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "due_at": self.due_at.isoformat(),
            "party": self.party.value,
            "action": self.action,
            "on_expiry": self.on_expiry.value,
            "source": self.source.value,
            "rule_id": self.rule_id,
            "rule_source": self.rule_source,
            "summary": self.summary,
            "penalty_fen": self.penalty_fen,
        }


@dataclass(frozen=True, kw_only=True)
class Via:
    """The linked case or order a next action comes from (the 17网 chain, or any sourcing link).

    A sale case is ordered by the earliest merchant deadline across its chain; ``via`` names the
    link whose deadline that is. ``None`` on a next action means the case's own.
    """

    subject: str  #: "case" or "order"
    platform: str
    shop: str
    external_id: str
    label: str = ""  #: short words for the row, e.g. "17网 自动确认收货"
    case_id: int | None = None  #: the hub id of the linked case, when it is a case

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "platform": self.platform,
            "shop": self.shop,
            "external_id": self.external_id,
            "label": self.label,
            "case_id": self.case_id,
        }


@dataclass(frozen=True, kw_only=True)
class NextAction:
    """Who acts next on a case or order, what, by when, and what happens if nobody does.

    Computed by the core (:func:`hub.rules.next_action`) from the plugin's rule rows, facts and
    platform-stated deadline; stored on the case (or order) row and read by every surface. Either
    ``due_at`` is set, or ``no_clock_reason`` says why no clock applies.
    """

    party: Party
    action: str
    due_at: datetime | None = None
    no_clock_reason: str | None = None  #: English
    no_clock_reason_zh: str | None = None
    on_expiry: OnExpiry = OnExpiry.NOTHING
    consequence_zh: str = ""  #: what happens when the clock runs out, in Chinese
    consequence_en: str = ""
    source: DeadlineSource | None = None  #: None when there is no clock
    rule_id: str | None = None
    rule_source: str | None = None  #: the published rule or procedure, in words
    summary: str | None = None  #: the rule's summary in Chinese
    summary_en: str | None = None
    start_event: str | None = None  #: what started the clock, English
    penalty_fen: int | None = None
    via: Via | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, English values (what ``--json`` and the API return)."""
        return {
            "party": self.party.value,
            "action": self.action,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "no_clock_reason": self.no_clock_reason,
            "on_expiry": self.on_expiry.value,
            "consequence": self.consequence_en,
            "source": self.source.value if self.source else None,
            "rule_id": self.rule_id,
            "rule_source": self.rule_source,
            "summary": self.summary_en or self.summary,
            "start_event": self.start_event,
            "penalty_fen": self.penalty_fen,
            "via": self.via.as_dict() if self.via else None,
        }

    def as_deadline(self) -> Deadline | None:
        """The older :class:`Deadline` view, for code that still reads one (None without a clock)."""
        if self.due_at is None:
            return None
        return Deadline(
            due_at=self.due_at,
            party=self.party,
            action=self.action,
            on_expiry=self.on_expiry,
            source=self.source or DeadlineSource.RULE,
            rule_id=self.rule_id,
            rule_source=self.rule_source,
            summary=self.summary,
            penalty_fen=self.penalty_fen,
        )


@dataclass(frozen=True, kw_only=True)
class Event:
    """One entry of a case's timeline. ``at`` is the platform's time of the change when known."""

    at: datetime
    kind: str  #: created, status_changed, deadline_changed, dispute_changed, action, note, ...
    summary: str
    actor: str = "platform"
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RawRecord:
    """What the platform sent, as received. Kept beside the mapped record, and alone when mapping fails."""

    resource: str  #: e.g. "trade", "refund", "after_sale", "purchase"
    external_id: str
    payload: Mapping[str, Any]
    updated_at: datetime | None = None  #: the platform's modified time, when the plugin can read it


@dataclass(frozen=True, kw_only=True)
class Insight:
    """Advice shown on a case: a handling guide, an eligibility verdict, a conflict warning."""

    kind: str  #: guide, eligibility, warning, upstream_step, link
    title: str
    body: str = ""
    level: str = "info"  #: info, warning, danger
    source: str | None = None  #: where the advice comes from (a rule id, a published rule in words)
    due_at: datetime | None = None
    amount_fen: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


MappedRecord = Order | AfterSale
