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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..errors import ConfigError, NotFoundError
from ..store import auth_repo as repo
from ..store.access import ROLES

if TYPE_CHECKING:
    from ..runtime import Hub

log = structlog.get_logger("hub.web.auth")

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
    known = await repo.all_shop_names(engine)
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
    user_id = await repo.insert_user(
        engine, name=name, role=role, shops=shop_list, password_hash=hashed, now=now
    )
    if user_id is None:
        raise ConfigError(f"a user named {name!r} already exists")
    return user_id


async def ensure_user(hub: Hub, name: str, role: str, shops: Sequence[str], password: str) -> None:
    """Create the user, or bring an existing one to this role, these shops and this password.

    ``hub demo`` calls this to give its workbench a known admin.
    """
    validate_name(name)
    validate_role(role)
    validate_password(password)
    shop_list = await _check_shops(hub.engine, shops)
    hashed = await hash_password_async(password)
    await repo.upsert_user(
        hub.engine, name=name, role=role, shops=shop_list, password_hash=hashed, now=hub.now()
    )
    log.info("user_ensured", user=name, role=role, shops=shop_list)


async def list_users(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every user, without any credential."""
    rows, tokens = await repo.users_with_token_counts(engine)
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
    row = await repo.user_by_name(engine, name)
    if row is None:
        raise NotFoundError(f"no user named {name!r} (see `hub user list`)")
    return row


async def create_token(engine: AsyncEngine, user: str, *, now: datetime) -> str:
    """A new API token for ``user``, returned once; only its digest is stored."""
    row = await get_user(engine, user)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await repo.insert_token(
        engine, user_id=row.id, token_hash=digest_secret(token), prefix=token[:10], now=now
    )
    return token


async def revoke_tokens(engine: AsyncEngine, user: str, *, now: datetime) -> int:
    """Revoke every live API token of ``user``; returns how many."""
    row = await get_user(engine, user)
    return await repo.revoke_user_tokens(engine, row.id, now=now)


async def set_active(engine: AsyncEngine, name: str, active: bool) -> None:
    """Enable or disable a user; disabling also ends their sessions (tokens stop working too)."""
    row = await get_user(engine, name)
    await repo.set_user_active(engine, row.id, active)


def _principal(user: Any, shop_ids: tuple[int, ...] | None, via: str, csrf: str | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        name=user.name,
        role=user.role,
        shops=tuple(user.shops or ()),
        shop_ids=shop_ids,
        via=via,
        csrf_token=csrf,
    )


async def principal_for_token(engine: AsyncEngine, token: str, *, now: datetime) -> Principal | None:
    """The caller a bearer token stands for, or None when it is unknown, revoked or its user inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = await repo.token_user(engine, digest_secret(token), now=now)
    if found is None:
        return None
    row, shop_ids = found
    return _principal(row, shop_ids, "token")


async def create_session(engine: AsyncEngine, user_id: int, *, now: datetime) -> str:
    """A new web session; returns the cookie value (stored only as a digest)."""
    sid = secrets.token_urlsafe(32)
    await repo.insert_session(
        engine,
        user_id=user_id,
        session_hash=digest_secret(sid),
        csrf_token=secrets.token_urlsafe(24),
        now=now,
        expires_at=now + SESSION_TTL,
    )
    return sid


async def principal_for_session(engine: AsyncEngine, sid: str, *, now: datetime) -> Principal | None:
    """The caller a session cookie stands for, or None when unknown or expired."""
    if not sid or len(sid) > 200:
        return None
    found = await repo.session_user(engine, digest_secret(sid), now=now)
    if found is None:
        return None
    row, shop_ids = found
    return _principal(row, shop_ids, "session", row.csrf_token)


async def end_session(engine: AsyncEngine, sid: str) -> None:
    """Forget a session (logout)."""
    await repo.delete_session(engine, digest_secret(sid))


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


async def login(engine: AsyncEngine, name: str, password: str, remote: str, *, now: datetime) -> Any:
    """Check a name and password against the rate limits and the stored hash; return the user row.

    Raises :class:`LoginRefused`. The attempt is recorded as a failure *before* the password is
    checked, in the same transaction (serialised) that counts the earlier failures: parallel
    guesses each see the others, so no more than the limit are ever tested, and a crash while
    checking leaves a failure, never a free guess. A good password then marks its attempt ``ok``.
    Too many failures for the name or from the address refuse the attempt unchecked (it is not
    recorded: a locked-out attacker does not extend the lockout forever).
    """
    name = name[:120]
    attempt = await repo.record_login_attempt(
        engine,
        name=name,
        remote=remote[:64],
        now=now,
        since=now - LOGIN_WINDOW,
        max_by_name=MAX_FAILURES_PER_NAME,
        max_by_remote=MAX_FAILURES_PER_REMOTE,
    )
    if attempt.limited or attempt.attempt_id is None:
        wait = int(((attempt.oldest or now) + LOGIN_WINDOW - now).total_seconds()) + 1
        raise LoginRefused(
            "too many failed logins: try again later", rate_limited=True, retry_after=max(wait, 1)
        )
    user = attempt.user
    stored = user.password_hash if user is not None and user.active else None
    ok = await verify_password_async(stored, password)
    if not ok or user is None:
        raise LoginRefused("wrong user name or password")
    new_hash = await hash_password_async(password) if _hasher.check_needs_rehash(user.password_hash) else None
    await repo.mark_login_ok(engine, attempt.attempt_id, user_id=user.id, new_hash=new_hash)
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
    await repo.insert_audit(
        engine,
        {
            "at": now,
            "actor": actor[:120],
            "kind": kind,
            "case_id": case_id,
            "remote": (remote or "")[:64] or None,
            "request_id": request_id,
            "detail": dict(detail or {}),
        },
    )


async def audit_entries(
    engine: AsyncEngine, *, limit: int = 200, kind: str | None = None
) -> list[dict[str, Any]]:
    """The latest audit entries, newest first."""
    rows = await repo.audit_rows(engine, limit=limit, kind=kind)
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
    rows = await repo.active_user_roles(engine)
    return [r.name for r in rows if r.role == "admin" or (r.role == "agent" and shop in (r.shops or []))]
