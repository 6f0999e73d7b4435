"""Users, API tokens, web sessions and the audit log (the workbench's access control).

Passwords are stored as argon2 hashes; API tokens and session ids are random 256-bit values stored
only as SHA-256 digests (they carry their own entropy, so a fast digest is enough and a stolen
database yields no usable credential). The logic that reads and writes these rows lives in
:mod:`hub.web.auth`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONDoc

#: the roles, from most to least powerful
ROLES = ("admin", "agent", "viewer")


class UserRecord(Base):
    """A person using the workbench: a role, and the shops (by name) they serve."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))  #: admin, agent, viewer
    #: shop names this user serves; admins see every shop whatever this says
    shops: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    password_hash: Mapped[str | None] = mapped_column(Text)  #: argon2id; None: token-only user
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiTokenRecord(Base):
    """A bearer token for scripts; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  #: the first characters, to tell tokens apart
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSessionRecord(Base):
    """A browser session: the cookie's SHA-256, its CSRF token and its expiry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditRecord(Base):
    """Who did what, when, from where: every login (good or bad) and every action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  #: login, login_failed, logout, action, evidence, ...
    case_id: Mapped[int | None] = mapped_column(index=True)
    remote: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class LoginAttemptRecord(Base):
    """One login attempt, kept for rate limiting by user name and by remote address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_remote_at", "remote", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    remote: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
