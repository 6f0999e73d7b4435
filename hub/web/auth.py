"""Access control: users, password hashing, API tokens, web sessions, login rate limits, audit log.

Passwords are hashed with argon2id (memory-hard); tokens and session ids are 256-bit random values
of which only a SHA-256 digest is stored. Nothing here ever logs a password, a token or a session
id: log lines name the user and the outcome only.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..errors import ConfigError, NotFoundError
from ..store.access import (
    ROLES,
    ApiTokenRecord,
    AuditRecord,
    LoginAttemptRecord,
    UserRecord,
    WebSessionRecord,
)
from ..store.models import ShopRecord

if TYPE_CHECKING:
    from ..runtime import Hub

log = structlog.get_logger("hub.web.auth")

U = cast(Table, UserRecord.__table__)
T = cast(Table, ApiTokenRecord.__table__)
WS = cast(Table, WebSessionRecord.__table__)
AU = cast(Table, AuditRecord.__table__)
LA = cast(Table, LoginAttemptRecord.__table__)
S = cast(Table, ShopRecord.__table__)

TOKEN_PREFIX = "hub_"
SESSION_TTL = timedelta(hours=12)
#: login rate limits: failures counted over this window, per user name and per remote address
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_REMOTE = 20
MIN_PASSWORD = 8
_NAME = re.compile(r"^[^\s,/\\<>\"'&;:]{1,64}$")

T_ = TypeVar("T_")
#: argon2 calls run in this many threads at most (each takes 64 MiB and a core for ~0.1 s)
HASH_THREADS = max(1, min(4, os.cpu_count() or 1))
_hash_pool: ThreadPoolExecutor | None = None
#: the advisory lock that serialises login throttling on PostgreSQL (any fixed 64-bit number)
_LOGIN_LOCK_KEY = 0x6875625F6C6F67

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults (64 MiB)
# Verified when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant work even when ``stored`` is None)."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def digest_secret(value: str) -> str:
    """The SHA-256 hex digest under which a token or session id is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller of one request, and what they may see."""

    user_id: int
    name: str
    role: str
    shops: tuple[str, ...]
    #: the shop ids this caller may see; None for admins (every shop)
    shop_ids: tuple[int, ...] | None
    via: str  #: "session" or "token"
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins see every shop and the audit log."""
        return self.role == "admin"

    @property
    def can_act(self) -> bool:
        """Viewers read; agents and admins act."""
        return self.role in ("admin", "agent")


def validate_name(name: str) -> str:
    """A user name: 1-64 characters, no spaces or markup characters."""
    if not _NAME.match(name or ""):
        raise ConfigError(f"bad user name {name!r}: 1-64 characters, no spaces, commas, quotes or slashes")
    return name


def validate_role(role: str) -> str:
    """One of :data:`hub.store.access.ROLES`."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def validate_password(password: str) -> str:
    """At least :data:`MIN_PASSWORD` characters (the message never repeats the password)."""
    if len(password or "") < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


async def _check_shops(engine: AsyncEngine, shops: Sequence[str]) -> list[str]:
    async with engine.connect() as conn:
        known = set((await conn.execute(select(S.c.name))).scalars())
    missing = [s for s in shops if s not in known]
    if missing:
        raise ConfigError(f"no shop named {', '.join(missing)} (see `hub shop list`)")
    return list(dict.fromkeys(shops))


async def add_user(
    engine: AsyncEngine, name: str, role: str, shops: Sequence[str], password: str | None, *, now: datetime
) -> int:
    """Create a user; a clear :class:`ConfigError` when the name is taken or an input is bad."""
    validate_name(name)
    validate_role(role)
    if password is not None:
        validate_password(password)
    shop_list = await _check_shops(engine, shops)
    hashed = await hash_password_async(password) if password is not None else None
    if role != "admin" and not shop_list:
        raise ConfigError(f"a{'n' if role == 'agent' else ''} {role} needs --shops (the shops they serve)")
    async with engine.begin() as conn:
        if (await conn.execute(select(U.c.id).where(U.c.name == name))).first() is not None:
            raise ConfigError(f"a user named {name!r} already exists")
        res = await conn.execute(
            insert(U).values(
                name=name,
                role=role,
                shops=shop_list,
                active=True,
                created_at=now,
                updated_at=now,
                password_hash=hashed,
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


async def ensure_user(hub: Hub, name: str, role: str, shops: Sequence[str], password: str) -> None:
    """Create the user, or bring an existing one to this role, these shops and this password.

    ``hub demo`` calls this to give its workbench a known admin.
    """
    validate_name(name)
    validate_role(role)
    validate_password(password)
    shop_list = await _check_shops(hub.engine, shops)
    hashed = await hash_password_async(password)
    now = hub.now()
    async with hub.engine.begin() as conn:
        row = (await conn.execute(select(U.c.id).where(U.c.name == name))).first()
        values = {
            "role": role,
            "shops": shop_list,
            "password_hash": hashed,
            "active": True,
            "updated_at": now,
        }
        if row is None:
            await conn.execute(insert(U).values(name=name, created_at=now, **values))
        else:
            await conn.execute(update(U).where(U.c.id == row.id).values(**values))
    log.info("user_ensured", user=name, role=role, shops=shop_list)


async def list_users(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every user, without any credential."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(U).order_by(U.c.name))).all()
        tokens: dict[int, int] = dict(
            (
                await conn.execute(
                    select(T.c.user_id, func.count()).where(T.c.revoked_at.is_(None)).group_by(T.c.user_id)
                )
            ).all()
        )
    return [
        {
            "name": r.name,
            "role": r.role,
            "shops": list(r.shops or []),
            "active": r.active,
            "has_password": r.password_hash is not None,
            "tokens": int(tokens.get(r.id, 0)),
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


async def get_user(engine: AsyncEngine, name: str) -> Any:
    """The user row named ``name``; :class:`NotFoundError` when there is none."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(U).where(U.c.name == name))).first()
    if row is None:
        raise NotFoundError(f"no user named {name!r} (see `hub user list`)")
    return row


async def create_token(engine: AsyncEngine, user: str, *, now: datetime) -> str:
    """A new API token for ``user``, returned once; only its digest is stored."""
    row = await get_user(engine, user)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            insert(T).values(
                user_id=row.id, token_hash=digest_secret(token), prefix=token[:10], created_at=now
            )
        )
    return token


async def revoke_tokens(engine: AsyncEngine, user: str, *, now: datetime) -> int:
    """Revoke every live API token of ``user``; returns how many."""
    row = await get_user(engine, user)
    async with engine.begin() as conn:
        res = await conn.execute(
            update(T).where(T.c.user_id == row.id, T.c.revoked_at.is_(None)).values(revoked_at=now)
        )
    return int(res.rowcount or 0)


async def set_active(engine: AsyncEngine, name: str, active: bool) -> None:
    """Enable or disable a user; disabling also ends their sessions (tokens stop working too)."""
    row = await get_user(engine, name)
    async with engine.begin() as conn:
        await conn.execute(update(U).where(U.c.id == row.id).values(active=active))
        if not active:
            await conn.execute(delete(WS).where(WS.c.user_id == row.id))


async def _resolve_scope(conn: Any, role: str, shops: Collection[str]) -> tuple[int, ...] | None:
    if role == "admin":
        return None
    names = list(shops or [])
    if not names:
        return ()
    ids = (await conn.execute(select(S.c.id).where(S.c.name.in_(names)).order_by(S.c.id))).scalars().all()
    return tuple(int(i) for i in ids)


async def _principal(conn: Any, user: Any, via: str, csrf: str | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        name=user.name,
        role=user.role,
        shops=tuple(user.shops or ()),
        shop_ids=await _resolve_scope(conn, user.role, user.shops or ()),
        via=via,
        csrf_token=csrf,
    )


async def principal_for_token(engine: AsyncEngine, token: str, *, now: datetime) -> Principal | None:
    """The caller a bearer token stands for, or None when it is unknown, revoked or its user inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(T.c.id.label("token_id"), T.c.last_used_at, U)
                .join(U, U.c.id == T.c.user_id)
                .where(T.c.token_hash == digest_secret(token), T.c.revoked_at.is_(None), U.c.active.is_(True))
            )
        ).first()
        if row is None:
            return None
        # one write a minute at most: a busy script must not turn every GET into a write
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            await conn.execute(update(T).where(T.c.id == row.token_id).values(last_used_at=now))
        return await _principal(conn, row, "token")


async def create_session(engine: AsyncEngine, user_id: int, *, now: datetime) -> str:
    """A new web session; returns the cookie value (stored only as a digest)."""
    sid = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            insert(WS).values(
                user_id=user_id,
                session_hash=digest_secret(sid),
                csrf_token=secrets.token_urlsafe(24),
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
        # expired sessions are swept here rather than by a timer: logins are the natural rhythm
        await conn.execute(delete(WS).where(WS.c.expires_at < now))
    return sid


async def principal_for_session(engine: AsyncEngine, sid: str, *, now: datetime) -> Principal | None:
    """The caller a session cookie stands for, or None when unknown or expired."""
    if not sid or len(sid) > 200:
        return None
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(WS.c.id.label("session_id"), WS.c.csrf_token, WS.c.last_seen_at, WS.c.expires_at, U)
                .join(U, U.c.id == WS.c.user_id)
                .where(WS.c.session_hash == digest_secret(sid), U.c.active.is_(True))
            )
        ).first()
        if row is None or row.expires_at <= now:
            return None
        if now - row.last_seen_at > timedelta(minutes=1):
            await conn.execute(update(WS).where(WS.c.id == row.session_id).values(last_seen_at=now))
        return await _principal(conn, row, "session", row.csrf_token)


async def end_session(engine: AsyncEngine, sid: str) -> None:
    """Forget a session (logout)."""
    async with engine.begin() as conn:
        await conn.execute(delete(WS).where(WS.c.session_hash == digest_secret(sid)))


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginRefused(Exception):
    """A login that did not succeed; ``rate_limited`` tells a lockout from bad credentials."""

    def __init__(self, message: str, *, rate_limited: bool = False, retry_after: int = 0) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited
        self.retry_after = retry_after


async def _hash_off_loop(fn: Callable[..., T_], *args: Any) -> T_:
    """Run an argon2 call in the hashing threads (at most :data:`HASH_THREADS` at once).

    argon2 spends ~100 ms of CPU and 64 MiB per call by design; on the event loop a burst of logins
    would stall every other request. The C library releases the GIL, so the threads hash while the
    loop serves; the small pool bounds the memory and CPU a burst can take (the rest queue)."""
    global _hash_pool
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="hub-argon2")
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, functools.partial(fn, *args))


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` off the event loop."""
    return await _hash_off_loop(hash_password, password)


async def verify_password_async(stored: str | None, password: str) -> bool:
    """:func:`verify_password` off the event loop."""
    return await _hash_off_loop(verify_password, stored, password)


async def _lock_login_table(conn: Any) -> None:
    """Serialise the throttle's count-and-record across processes: on PostgreSQL a transaction-scoped
    advisory lock; on SQLite the attempt's INSERT itself takes the database's single write lock."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOGIN_LOCK_KEY})


async def login(engine: AsyncEngine, name: str, password: str, remote: str, *, now: datetime) -> Any:
    """Check a name and password against the rate limits and the stored hash; return the user row.

    Raises :class:`LoginRefused`. The attempt is recorded as a failure *before* the password is
    checked, in the same transaction (serialised) that counts the earlier failures: parallel
    guesses each see the others, so no more than the limit are ever tested, and a crash while
    checking leaves a failure, never a free guess. A good password then marks its attempt ``ok``.
    Too many failures for the name or from the address refuse the attempt unchecked (it is not
    recorded: a locked-out attacker does not extend the lockout forever).
    """
    since = now - LOGIN_WINDOW
    name = name[:120]
    async with engine.begin() as conn:
        await _lock_login_table(conn)
        attempt_id = (
            await conn.execute(insert(LA).values(name=name, remote=remote[:64], at=now, ok=False))
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
                    select(func.count()).select_from(LA).where(LA.c.remote == remote[:64], *earlier)
                )
            ).scalar_one()
        )
        limited = by_name >= MAX_FAILURES_PER_NAME or by_remote >= MAX_FAILURES_PER_REMOTE
        if limited:
            which = LA.c.name == name if by_name >= MAX_FAILURES_PER_NAME else LA.c.remote == remote[:64]
            oldest = (await conn.execute(select(func.min(LA.c.at)).where(which, *earlier))).scalar_one()
            await conn.execute(delete(LA).where(LA.c.id == attempt_id))
        else:
            user = (await conn.execute(select(U).where(U.c.name == name))).first()
    if limited:
        wait = int(((oldest or now) + LOGIN_WINDOW - now).total_seconds()) + 1
        raise LoginRefused(
            "too many failed logins: try again later", rate_limited=True, retry_after=max(wait, 1)
        )
    stored = user.password_hash if user is not None and user.active else None
    ok = await verify_password_async(stored, password)
    if not ok or user is None:
        raise LoginRefused("wrong user name or password")
    new_hash = await hash_password_async(password) if _hasher.check_needs_rehash(user.password_hash) else None
    async with engine.begin() as conn:
        await conn.execute(update(LA).where(LA.c.id == attempt_id).values(ok=True))
        if new_hash is not None:
            await conn.execute(update(U).where(U.c.id == user.id).values(password_hash=new_hash))
    return user


async def audit(
    engine: AsyncEngine,
    *,
    actor: str,
    kind: str,
    now: datetime,
    case_id: int | None = None,
    remote: str | None = None,
    request_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (never a credential: callers pass names and outcomes)."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(AU).values(
                at=now,
                actor=actor[:120],
                kind=kind,
                case_id=case_id,
                remote=(remote or "")[:64] or None,
                request_id=request_id,
                detail=dict(detail or {}),
            )
        )


async def audit_entries(
    engine: AsyncEngine, *, limit: int = 200, kind: str | None = None
) -> list[dict[str, Any]]:
    """The latest audit entries, newest first."""
    stmt = select(AU).order_by(AU.c.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(AU.c.kind == kind)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "kind": r.kind,
            "case_id": r.case_id,
            "remote": r.remote,
            "request_id": r.request_id,
            "detail": r.detail,
        }
        for r in rows
    ]


async def agents_for_shop(engine: AsyncEngine, shop: str) -> list[str]:
    """Names of the active agents and admins who may act on ``shop`` (the assignment choices)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(U.c.name, U.c.role, U.c.shops).where(U.c.active.is_(True)).order_by(U.c.name)
            )
        ).all()
    return [r.name for r in rows if r.role == "admin" or (r.role == "agent" and shop in (r.shops or []))]
