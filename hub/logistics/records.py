"""Watched parcels: outbound, return and reship waybills, their tracking state and case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, JSONDoc


class ParcelRecord(Base):
    """One waybill the hub follows with a tracker until it reaches a final state."""

    __tablename__ = "parcels"
    __table_args__ = (
        UniqueConstraint("waybill"),
        Index("ix_parcels_due", "final", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    waybill: Mapped[str] = mapped_column(String(80))
    company: Mapped[str | None] = mapped_column(String(40))  #: the tracker's courier code (yuantong)
    role: Mapped[str] = mapped_column(String(20))  #: outbound, return, reship
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    after_sale_id: Mapped[int | None] = mapped_column(
        ForeignKey("after_sales.id", ondelete="SET NULL"), index=True
    )
    order_external_id: Mapped[str | None] = mapped_column(String(80))
    phone_tail: Mapped[str | None] = mapped_column(String(20))
    #: the tracker's own state code, raw ("3"), and hub's reading of it (signed, returned, ...)
    tracker_state: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(30))
    #: what the merchant must do about it (confirm_signed, follow_up_courier, ...) and by when
    action: Mapped[str | None] = mapped_column(String(40))
    action_due_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    last_context: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    next_poll_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]
    #: the traces as the tracker returned them (newest first)
    traces: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    matched_by: Mapped[str | None] = mapped_column(String(120))  #: auto, or who matched it by hand
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
