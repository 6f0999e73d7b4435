"""The alert tables: the channels (robots and webhooks) and the sent-log that makes each deadline
announced once per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, JSONDoc


class AlertChannelRecord(Base):
    """One place 超时预警 alerts go: a DingTalk or WeCom group robot, or a JSON webhook."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  #: dingtalk, wecom, webhook
    #: the robot's webhook URL (it carries the robot's token): stored like a shop secret, so it
    #: may be an ``env:VAR`` reference, and is never logged or shown
    url: Mapped[str] = mapped_column(Text)
    #: DingTalk's signing secret (加签), or the webhook's HMAC secret; ``env:VAR`` allowed
    secret: Mapped[str | None] = mapped_column(Text)
    #: shop names this channel covers; empty: every shop
    shops: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    #: a deadline is announced once it is this close (or passed)
    within_seconds: Mapped[int] = mapped_column(Integer)
    #: whose deadlines: next-action parties (merchant by default)
    parties: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime]
    last_sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]


class AlertSentRecord(Base):
    """One deadline of one work item for one channel: queued (``pending``), ``sent``, ``failed``
    after the last attempt, or ``stale`` when the deadline moved or the item closed before it was
    sent. The unique key is what announces a deadline once: a deadline that moves is a new row, a
    case that leaves the window and comes back finds its row."""

    __tablename__ = "alert_sent"
    __table_args__ = (
        UniqueConstraint("channel_id", "item", "item_id", "due_at", "party"),
        Index("ix_alert_sent_status_channel", "status", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channels.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(8))  #: case or order
    item_id: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    party: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
