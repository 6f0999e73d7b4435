"""Which ERP documents a case's state calls for, and their fields.

A document is keyed by (kind, case, step): the steps a case has reached are read from what the
store already records (its kind, status, status history, return waybill, dispute, and the
merchant's dispute closing), so deriving them again after every sync finds the same keys and makes
nothing twice. A case first seen late (say a return already refunded) gets every step it passed,
in order.

========================  =======================================================================
kind                      steps (in order) and when each is reached
========================  =======================================================================
compensation_refund       ``refunded``: a refund-only (仅退款) or compensation (补差价) case succeeded
return                    ``registered``: the return was agreed (awaiting the buyer's parcel or
                          later); ``received``: the merchant received it (refunding or succeeded
                          after the return); ``settled``: the case succeeded
exchange                  ``received``: the returned goods arrived (awaiting the reship, reshipped,
                          or succeeded); ``exchange_shipped``: the replacement left (reshipped or
                          succeeded); ``settled``: the case succeeded
reship_order              ``created``: a reship (补发) was agreed: a new order marked as a reship
dispute                   ``opened``: the case has a platform dispute or a dispute hub tracks;
                          ``closed``: the merchant closed the dispute record with the responsible
                          department, person and penalty (``hub erp close-dispute``)
========================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: document kinds and their steps, in order
STEPS: Mapping[str, tuple[str, ...]] = {
    "compensation_refund": ("refunded",),
    "return": ("registered", "received", "settled"),
    "exchange": ("received", "exchange_shipped", "settled"),
    "reship_order": ("created",),
    "dispute": ("opened", "closed"),
}
KINDS: tuple[str, ...] = tuple(STEPS)

#: the document number's prefix per kind (the number is prefix-case-step, so it never changes)
PREFIX: Mapping[str, str] = {
    "compensation_refund": "BC",
    "return": "TH",
    "exchange": "HH",
    "reship_order": "BF",
    "dispute": "WQ",
}
STEP_CODE: Mapping[str, str] = {
    "refunded": "TK",
    "registered": "DJ",
    "received": "RK",
    "settled": "JS",
    "exchange_shipped": "FH",
    "created": "XD",
    "opened": "KD",
    "closed": "GB",
}

#: reasons that send returned goods to defective stock (次品仓); anything else is good stock
DEFECT_WORDS = ("质量", "破损", "损坏", "瑕疵", "次品", "坏了", "污渍", "开线", "defect", "damaged", "broken")

_REGISTERED = {"awaiting_return", "return_shipped", "refunding", "succeeded"}
_RECEIVED_EXCHANGE = {"awaiting_reship", "reshipped", "succeeded"}


@dataclass(frozen=True)
class CaseState:
    """What the derivation reads about one case."""

    id: int
    kind: str
    status: str
    reason: str | None
    return_waybill: str | None
    has_dispute: bool
    has_closing: bool
    #: the statuses the case has been in, oldest first (status history plus the current one)
    history: Sequence[str] = ()


def stock_quality(reason: str | None) -> str:
    """``defective`` when the case's reason names a quality fault, else ``good``."""
    text = (reason or "").lower()
    return "defective" if any(w in text for w in DEFECT_WORDS) else "good"


def steps_reached(c: CaseState) -> list[tuple[str, str]]:
    """The (kind, step) documents the case's recorded state calls for, in order."""
    seen = set(c.history) | {c.status}
    out: list[tuple[str, str]] = []
    if c.kind in ("refund_only", "compensation") and c.status == "succeeded":
        out.append(("compensation_refund", "refunded"))
    elif c.kind == "return_refund":
        registered = bool(seen & _REGISTERED) or bool(c.return_waybill)
        if registered:
            out.append(("return", "registered"))
            if c.status in ("refunding", "succeeded"):
                out.append(("return", "received"))
            if c.status == "succeeded":
                out.append(("return", "settled"))
    elif c.kind == "exchange":
        if c.status in _RECEIVED_EXCHANGE:
            out.append(("exchange", "received"))
        if c.status in ("reshipped", "succeeded"):
            out.append(("exchange", "exchange_shipped"))
        if c.status == "succeeded":
            out.append(("exchange", "settled"))
    elif c.kind == "reship" and seen & {"awaiting_reship", "reshipped", "succeeded"} and c.status != "closed":
        out.append(("reship_order", "created"))
    if c.has_dispute or c.has_closing:
        out.append(("dispute", "opened"))
        if c.has_closing:
            out.append(("dispute", "closed"))
    return out


def document_number(kind: str, case_id: int, step: str) -> str:
    """The document number the ERP sees: stable for (kind, case, step), e.g. ``TH-000042-RK``."""
    return f"{PREFIX[kind]}-{case_id:06d}-{STEP_CODE[step]}"


def idempotency_key(kind: str, case_id: int, step: str) -> str:
    return f"{kind}:{case_id}:{step}"


def items_of(order_data: Mapping[str, Any] | None, line_id: str | None) -> list[dict[str, Any]]:
    """The order's lines (only the case's line when it names one) as {sku, title, qty}."""
    lines = list((order_data or {}).get("lines") or ())
    if line_id:
        lines = [ln for ln in lines if str(ln.get("external_id")) == line_id] or lines
    return [
        {
            "sku": str(ln.get("sku_id") or ln.get("external_id") or ""),
            "title": " ".join(x for x in (ln.get("title") or "", ln.get("sku_name") or "") if x),
            "qty": int(ln.get("quantity") or 1),
        }
        for ln in lines
    ]


def build_body(
    *,
    kind: str,
    step: str,
    case: Any,
    case_data: Mapping[str, Any] | None = None,
    shop: str,
    platform: str,
    order_data: Mapping[str, Any] | None,
    closing: Any | None,
    step_at: datetime,
    created_at: datetime,
) -> dict[str, Any]:
    """Every field of one document (money in fen; sinks write 元)."""
    data = case_data or {}
    body: dict[str, Any] = {
        "number": document_number(kind, case.id, step),
        "idempotency_key": idempotency_key(kind, case.id, step),
        "kind": kind,
        "step": step,
        "shop": shop,
        "platform": platform,
        "platform_order_id": case.order_external_id,
        "platform_case_id": case.external_id,
        "case_id": case.id,
        "buyer": case.buyer or "",
        "items": items_of(order_data, case.line_external_id),
        "amount_fen": 0,
        "reason": case.reason or "",
        "step_at": step_at.isoformat(),
        "created_at": created_at.isoformat(),
    }
    if kind == "compensation_refund":
        body["amount_fen"] = case.refund_fen
        body["refund_type"] = "补差价" if case.kind == "compensation" else "仅退款"
    elif kind in ("return", "exchange"):
        body["amount_fen"] = case.refund_fen if kind == "return" else 0
        body["return_waybill"] = case.return_waybill or ""
        if step in ("received", "settled"):
            body["stock_quality"] = stock_quality(case.reason)
    elif kind == "reship_order":
        body["reship"] = True
        body["original_order_id"] = case.order_external_id
        body["reship_waybill"] = str((data.get("facts") or {}).get("reship_waybill") or "")
    elif kind == "dispute":
        body["dispute_kind"] = case.dispute_kind or ""
        body["dispute_status"] = case.dispute_status or ""
        if closing is not None:
            body.update(
                department=closing.department,
                person=closing.person,
                penalty_fen=closing.penalty_fen,
                decision=closing.decision or "",
            )
            body["amount_fen"] = closing.penalty_fen
    return body


def history_of(events: Iterable[Any]) -> list[str]:
    """The statuses a case has been in, from its ``status_changed`` events (oldest first)."""
    out: list[str] = []
    for e in events:
        d = e.data or {}
        for s in (d.get("from"), d.get("to"), d.get("status")):
            if s and s not in out:
                out.append(str(s))
    return out
