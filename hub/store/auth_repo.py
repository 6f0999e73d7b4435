"""The workbench's users, API tokens, web sessions, login attempts and audit log: every SQL
statement :mod:`hub.web.auth` needs. Secrets arrive here already digested; hashing, validation and
the rate-limit policy stay in the web layer, which passes the limits in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .access import ApiTokenRecord, AuditRecord, LoginAttemptRecord, UserRecord, WebSessionRecord
from .models import ShopRecord

U = cast(Table, UserRecord.__table__)
T = cast(Table, ApiTokenRecord.__table__)
WS = cast(Table, WebSessionRecord.__table__)
AU = cast(Table, AuditRecord.__table__)
LA = cast(Table, LoginAttemptRecord.__table__)
S = cast(Table, ShopRecord.__table__)

#: the advisory lock that serialises login throttling on PostgreSQL (any fixed 64-bit number)
_LOGIN_LOCK_KEY = 0x6875625F6C6F67
#: last_used_at / last_seen_at are written at most this often: a busy script must not turn every
#: GET into a write
_TOUCH_EVERY = timedelta(minutes=1)


async def all_shop_names(engine: AsyncEngine) -> set[str]:
    """Every shop's name."""
    async with engine.connect() as conn:
        return set((await conn.execute(select(S.c.name))).scalars())


async def insert_user(
    engine: AsyncEngine,
    *,
    name: str,
    role: str,
    shops: list[str],
    password_hash: str | None,
    now: datetime,
) -> int | None:
    """Create an active user; its id, or None when the name is taken."""
    async with engine.begin() as conn:
        if (await conn.execute(select(U.c.id).where(U.c.name == name))).first() is not None:
            return None
        res = await conn.execute(
            insert(U).values(
                name=name,
                role=role,
                shops=shops,
                active=True,
                created_at=now,
                updated_at=now,
                password_hash=password_hash,
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


async def upsert_user(
    engine: AsyncEngine, *, name: str, role: str, shops: list[str], password_hash: str, now: datetime
) -> None:
    """Create the user, or bring an existing one to this role, these shops and this hash (active)."""
    values = {"role": role, "shops": shops, "password_hash": password_hash, "active": True, "updated_at": now}
    async with engine.begin() as conn:
        row = (await conn.execute(select(U.c.id).where(U.c.name == name))).first()
        if row is None:
            await conn.execute(insert(U).values(name=name, created_at=now, **values))
        else:
            await conn.execute(update(U).where(U.c.id == row.id).values(**values))


async def users_with_token_counts(engine: AsyncEngine) -> tuple[list[Any], dict[int, int]]:
    """Every user row by name, and each user's number of live (unrevoked) tokens by user id."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(U).order_by(U.c.name))).all()
        tokens: dict[int, int] = dict(
            (
                await conn.execute(
                    select(T.c.user_id, func.count()).where(T.c.revoked_at.is_(None)).group_by(T.c.user_id)
                )
            ).all()
        )
    return list(rows), tokens


async def user_by_name(engine: AsyncEngine, name: str) -> Any:
    """The user row named ``name``, or None."""
    async with engine.connect() as conn:
        return (await conn.execute(select(U).where(U.c.name == name))).first()


async def insert_token(
    engine: AsyncEngine, *, user_id: int, token_hash: str, prefix: str, now: datetime
) -> None:
    """Store a new API token's digest and its display prefix."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(T).values(user_id=user_id, token_hash=token_hash, prefix=prefix, created_at=now)
        )


async def revoke_user_tokens(engine: AsyncEngine, user_id: int, *, now: datetime) -> int:
    """Revoke every live token of the user; returns how many."""
    async with engine.begin() as conn:
        res = await conn.execute(
            update(T).where(T.c.user_id == user_id, T.c.revoked_at.is_(None)).values(revoked_at=now)
        )
    return int(res.rowcount or 0)


async def set_user_active(engine: AsyncEngine, user_id: int, active: bool) -> None:
    """Enable or disable the user; disabling also deletes their web sessions (in the same transaction)."""
    async with engine.begin() as conn:
        await conn.execute(update(U).where(U.c.id == user_id).values(active=active))
        if not active:
            await conn.execute(delete(WS).where(WS.c.user_id == user_id))


async def _scope_ids(conn: Any, role: str, shops: Collection[str]) -> tuple[int, ...] | None:
    """The shop ids a user may see: None for an admin (every shop), else the named shops' ids."""
    if role == "admin":
        return None
    names = list(shops or [])
    if not names:
        return ()
    ids = (await conn.execute(select(S.c.id).where(S.c.name.in_(names)).order_by(S.c.id))).scalars().all()
    return tuple(int(i) for i in ids)


async def token_user(
    engine: AsyncEngine, token_hash: str, *, now: datetime
) -> tuple[Any, tuple[int, ...] | None] | None:
    """The active user behind a live token and their shop scope, or None; notes the token's use."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(T.c.id.label("token_id"), T.c.last_used_at, U)
                .join(U, U.c.id == T.c.user_id)
                .where(T.c.token_hash == token_hash, T.c.revoked_at.is_(None), U.c.active.is_(True))
            )
        ).first()
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            await conn.execute(update(T).where(T.c.id == row.token_id).values(last_used_at=now))
        return row, await _scope_ids(conn, row.role, row.shops or ())


async def insert_session(
    engine: AsyncEngine,
    *,
    user_id: int,
    session_hash: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new web session and sweep the expired ones."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(WS).values(
                user_id=user_id,
                session_hash=session_hash,
                csrf_token=csrf_token,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )
        # expired sessions are swept here rather than by a timer: logins are the natural rhythm
        await conn.execute(delete(WS).where(WS.c.expires_at < now))


async def session_user(
    engine: AsyncEngine, session_hash: str, *, now: datetime
) -> tuple[Any, tuple[int, ...] | None] | None:
    """The active user behind an unexpired session (the row carries ``csrf_token``) and their shop
    scope, or None; notes the session as seen."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(WS.c.id.label("session_id"), WS.c.csrf_token, WS.c.last_seen_at, WS.c.expires_at, U)
                .join(U, U.c.id == WS.c.user_id)
                .where(WS.c.session_hash == session_hash, U.c.active.is_(True))
            )
        ).first()
        if row is None or row.expires_at <= now:
            return None
        if now - row.last_seen_at > _TOUCH_EVERY:
            await conn.execute(update(WS).where(WS.c.id == row.session_id).values(last_seen_at=now))
        return row, await _scope_ids(conn, row.role, row.shops or ())


async def delete_session(engine: AsyncEngine, session_hash: str) -> None:
    """Forget a session."""
    async with engine.begin() as conn:
        await conn.execute(delete(WS).where(WS.c.session_hash == session_hash))


async def _lock_login_table(conn: Any) -> None:
    """Serialise the throttle's count-and-record across processes: on PostgreSQL a transaction-scoped
    advisory lock; on SQLite the attempt's INSERT itself takes the database's single write lock."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOGIN_LOCK_KEY})


@dataclass
class LoginAttempt:
    """What :func:`record_login_attempt` found."""

    attempt_id: int | None  #: the recorded failure to mark ok later; None when refused unrecorded
    limited: bool  #: too many earlier failures: the attempt was not recorded
    oldest: datetime | None  #: when limited, the oldest counted failure (the lockout ends a window after)
    user: Any  #: when not limited, the user row named, or None


async def record_login_attempt(
    engine: AsyncEngine,
    *,
    name: str,
    remote: str,
    now: datetime,
    since: datetime,
    max_by_name: int,
    max_by_remote: int,
) -> LoginAttempt:
    """Record an attempt as a failure and count the earlier failures since ``since``, serialised in
    one transaction, so parallel guesses each see the others. Over a limit the attempt is deleted
    again (a locked-out attacker does not extend the lockout forever)."""
    async with engine.begin() as conn:
        await _lock_login_table(conn)
        attempt_id = (
            await conn.execute(insert(LA).values(name=name, remote=remote, at=now, ok=False))
        ).inserted_primary_key[0]  # type: ignore[index]
        earlier = (LA.c.id != attempt_id, LA.c.ok.is_(False), LA.c.at >= since)
        by_name = int(
            (
                await conn.execute(select(func.count()).select_from(LA).where(LA.c.name == name, *earlier))
            ).scalar_one()
        )
        by_remote = int(
            (
                await conn.execute(
                    select(func.count()).select_from(LA).where(LA.c.remote == remote, *earlier)
                )
            ).scalar_one()
        )
        if by_name >= max_by_name or by_remote >= max_by_remote:
            which = LA.c.name == name if by_name >= max_by_name else LA.c.remote == remote
            oldest = (await conn.execute(select(func.min(LA.c.at)).where(which, *earlier))).scalar_one()
            await conn.execute(delete(LA).where(LA.c.id == attempt_id))
            return LoginAttempt(attempt_id=None, limited=True, oldest=oldest, user=None)
        user = (await conn.execute(select(U).where(U.c.name == name))).first()
    return LoginAttempt(attempt_id=int(attempt_id), limited=False, oldest=None, user=user)


async def mark_login_ok(engine: AsyncEngine, attempt_id: int, *, user_id: int, new_hash: str | None) -> None:
    """Mark the attempt a success and, when given, store the user's re-hashed password."""
    async with engine.begin() as conn:
        await conn.execute(update(LA).where(LA.c.id == attempt_id).values(ok=True))
        if new_hash is not None:
            await conn.execute(update(U).where(U.c.id == user_id).values(password_hash=new_hash))


async def insert_audit(engine: AsyncEngine, values: Mapping[str, Any]) -> None:
    """Append one row to the audit log."""
    async with engine.begin() as conn:
        await conn.execute(insert(AU).values(**values))


async def audit_rows(engine: AsyncEngine, *, limit: int, kind: str | None) -> list[Any]:
    """The latest audit rows (of ``kind`` when given), newest first."""
    stmt = select(AU).order_by(AU.c.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(AU.c.kind == kind)
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).all())


async def active_user_roles(engine: AsyncEngine) -> list[Any]:
    """``(name, role, shops)`` of every active user, by name."""
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(U.c.name, U.c.role, U.c.shops).where(U.c.active.is_(True)).order_by(U.c.name)
                )
            ).all()
        )
