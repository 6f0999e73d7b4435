"""Shop leases: several hub processes may share one database; a shop is synced by one at a time.

A lease is taken with one conditional UPDATE (free, lapsed, or already ours), which both SQLite
and PostgreSQL apply atomically to the row, so no transaction stays open while the platform is
called. ``SELECT ... FOR UPDATE SKIP LOCKED`` would hold a transaction (and,
on SQLite, the write lock) for the whole sync, which the conditional UPDATE avoids, and it works
the same on both backends. A holder that dies loses its lease when ``lease_until`` passes, or at
once when it ran on this machine and its process is gone (a killed sync restarts right away).

Fencing: every change of holder bumps ``lease_epoch``; the holder remembers the epoch it took and
each commit of synced data runs :func:`fence` in its own transaction, an UPDATE that matches only
while owner and epoch are still ours (it renews the lease too). A holder that was paused past its
lease and taken over finds no row, and its transaction rolls back: it cannot commit.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..errors import HubError
from ..store.base import tbl
from ..store.models import ShopRecord

SHOPS = tbl(ShopRecord)
LEASE = timedelta(minutes=10)

#: this process's identity as a lease holder
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

#: (owner, shop id) -> the epoch this process holds the shop's lease at
_held: dict[tuple[str, int], int] = {}


class LeaseLost(HubError):
    """The shop's lease passed to another process: this one must not commit (fencing)."""


def _dead_here(holder: str | None) -> bool:
    """True when ``holder`` is a process of this machine that no longer runs (it was killed):
    its lease need not be waited out."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def _taking(owner: str) -> dict[str, object]:
    """The values that give the lease to ``owner``: a new epoch unless it is already theirs, and a
    takeover counted when a holder that never released it loses it."""
    theirs = SHOPS.c.lease_owner == owner
    return {
        "lease_owner": owner,
        "lease_epoch": case((theirs, SHOPS.c.lease_epoch), else_=SHOPS.c.lease_epoch + 1),
        "lease_takeovers": case(
            (or_(SHOPS.c.lease_owner.is_(None), theirs), SHOPS.c.lease_takeovers),
            else_=SHOPS.c.lease_takeovers + 1,
        ),
    }


async def acquire(
    engine: AsyncEngine, shop_id: int, now: datetime, owner: str = OWNER, ttl: timedelta = LEASE
) -> bool:
    """Take (or renew) the shop's lease for ``ttl``; False when another live process holds it."""
    async with engine.begin() as conn:
        res = await conn.execute(
            update(SHOPS)
            .where(
                SHOPS.c.id == shop_id,
                or_(SHOPS.c.lease_owner.is_(None), SHOPS.c.lease_until < now, SHOPS.c.lease_owner == owner),
            )
            .values(lease_until=now + ttl, **_taking(owner))
        )
        if not res.rowcount:
            holder = (await conn.execute(select(SHOPS.c.lease_owner).where(SHOPS.c.id == shop_id))).scalar()
            if not _dead_here(holder):
                return False
            # The holder was killed on this machine: take its lease over now (still conditional,
            # so two processes racing for it cannot both win).
            res = await conn.execute(
                update(SHOPS)
                .where(SHOPS.c.id == shop_id, SHOPS.c.lease_owner == holder)
                .values(lease_until=now + ttl, **_taking(owner))
            )
            if not res.rowcount:
                return False
        epoch = (await conn.execute(select(SHOPS.c.lease_epoch).where(SHOPS.c.id == shop_id))).scalar_one()
    _held[(owner, shop_id)] = int(epoch)
    return True


async def fence(
    conn: AsyncConnection, shop_id: int, now: datetime, owner: str = OWNER, ttl: timedelta = LEASE
) -> None:
    """Inside the transaction about to commit synced data: prove the lease is still ours at the
    epoch we took it (and renew it), else raise :class:`LeaseLost` so the transaction rolls back.

    On PostgreSQL the UPDATE also locks the shop's row until the commit, so a takeover cannot slip
    in between this check and the commit."""
    epoch = _held.get((owner, shop_id))
    res = await conn.execute(
        update(SHOPS)
        .where(SHOPS.c.id == shop_id, SHOPS.c.lease_owner == owner, SHOPS.c.lease_epoch == epoch)
        .values(lease_until=now + ttl)
    )
    if epoch is None or not res.rowcount:
        raise LeaseLost(f"shop {shop_id}: the sync lease passed to another process; nothing was committed")


async def renew(
    engine: AsyncEngine, shop_id: int, now: datetime, owner: str = OWNER, ttl: timedelta = LEASE
) -> None:
    """Renew the lease during a long step (a wait, a big import), proving it is still ours at the
    epoch we took it; :class:`LeaseLost` when it passed to another process meanwhile. Unlike
    :func:`acquire`, a lapsed lease is never silently re-taken here: another process may have
    synced the shop in between, and the fence must see that."""
    async with engine.begin() as conn:
        await fence(conn, shop_id, now, owner, ttl)


async def release(engine: AsyncEngine, shop_id: int, owner: str = OWNER) -> None:
    """Give the lease back (only if it is still ours)."""
    _held.pop((owner, shop_id), None)
    async with engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id, SHOPS.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
