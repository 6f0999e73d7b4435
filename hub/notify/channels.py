"""Alert channels: add, list, remove, and read back with their secrets resolved.

The robot's URL carries its token (DingTalk ``access_token``, WeCom ``key``) and the signing
secret signs every message, so both are kept like a shop's secrets: ``env:VAR`` references are
allowed (resolved when a message is sent), values are masked when listed and registered with the
log scrubber before anything is sent, and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..clock import utcnow
from ..domain import Party
from ..errors import ConfigError, NotFoundError
from ..logging import register_secrets
from ..store.base import tbl
from ..store.shops import SHOPS
from .models import AlertChannelRecord

CHANNELS = tbl(AlertChannelRecord)
KINDS = ("dingtalk", "wecom", "webhook")
#: a window longer than this would announce every case at once: refused
MAX_WITHIN = timedelta(days=30)
DEFAULT_WITHIN = timedelta(hours=2)
DEFAULT_PARTIES = ("merchant",)


@dataclass(frozen=True)
class Channel:
    """A channel ready to send: the URL and secret resolved (never print or log this object's
    ``url`` or ``secret``)."""

    id: int
    name: str
    kind: str
    url: str
    secret: str | None
    shops: tuple[str, ...]
    within: timedelta
    parties: tuple[str, ...]

    def __repr__(self) -> str:  # a repr in a traceback or a log line must not carry the token
        return f"Channel(id={self.id}, name={self.name!r}, kind={self.kind!r})"


def check_url(url: str) -> None:
    """An http(s) URL, or an ``env:VAR`` reference (checked when it is read)."""
    if url.startswith("env:"):
        if not url[4:]:
            raise ConfigError("--url env: needs a variable name (env:VAR)")
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("--url must be an http(s) URL or env:VAR (the robot's webhook address)")


async def add_channel(
    engine: AsyncEngine,
    *,
    name: str,
    kind: str,
    url: str,
    secret: str | None = None,
    shops: Sequence[str] = (),
    within: timedelta = DEFAULT_WITHIN,
    parties: Sequence[str] = DEFAULT_PARTIES,
) -> int:
    """Add a channel; every value is checked here (a bad one is a :class:`ConfigError` naming it)."""
    name = name.strip()
    if not name:
        raise ConfigError("a channel needs a name")
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    check_url(url)
    if secret is not None and not secret:
        raise ConfigError("--secret must not be empty (leave it out for a robot without 加签)")
    if not timedelta(0) < within <= MAX_WITHIN:
        raise ConfigError(f"--within must be more than 0 and at most {MAX_WITHIN.days}d")
    try:
        party_values = sorted({Party.parse(p).value for p in parties}) or list(DEFAULT_PARTIES)
    except ValueError as err:
        raise ConfigError(f"--awaiting: {err}") from None
    async with engine.begin() as conn:
        known = set((await conn.execute(select(SHOPS.c.name))).scalars().all())
        unknown = sorted(set(shops) - known)
        if unknown:
            raise ConfigError(
                f"no shop named {', '.join(unknown)} (shops: {', '.join(sorted(known)) or 'none yet'})"
            )
        if (await conn.execute(select(CHANNELS.c.id).where(CHANNELS.c.name == name))).first():
            raise ConfigError(f"a notify channel named {name!r} already exists")
        res = await conn.execute(
            CHANNELS.insert().values(
                name=name,
                kind=kind,
                url=url,
                secret=secret,
                shops=sorted(set(shops)),
                within_seconds=int(within.total_seconds()),
                parties=party_values,
                created_at=utcnow(),
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


async def channel_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(CHANNELS).order_by(CHANNELS.c.name))).all())


async def channel_row(engine: AsyncEngine, name: str) -> Any:
    async with engine.connect() as conn:
        row = (await conn.execute(select(CHANNELS).where(CHANNELS.c.name == name))).first()
    if row is None:
        names = [r.name for r in await channel_rows(engine)]
        raise NotFoundError(f"no notify channel named {name!r} (channels: {', '.join(names) or 'none yet'})")
    return row


async def remove_channel(engine: AsyncEngine, name: str) -> None:
    row = await channel_row(engine, name)
    async with engine.begin() as conn:
        await conn.execute(delete(CHANNELS).where(CHANNELS.c.id == row.id))


def _resolve(value: str, channel: str, what: str) -> str:
    if value.startswith("env:"):
        var = value[4:]
        if var not in os.environ:
            raise ConfigError(f"notify channel {channel}: {what} reads ${var}, which is not set")
        return os.environ[var]
    return value


def resolve(row: Any) -> Channel:
    """The channel with ``env:`` references read, its secrets registered with the log scrubber."""
    url = _resolve(row.url, row.name, "--url")
    secret = _resolve(row.secret, row.name, "--secret") if row.secret else None
    # the token is in the URL's query (DingTalk access_token, WeCom key) or its path (many
    # webhooks): the whole URL, each query value and each path segment long enough to be a token
    # (not "send" or "robot") are scrubbed from logs
    parts = urlsplit(url)
    register_secrets([url, secret or ""])
    register_secrets(p.split("=", 1)[-1] for p in parts.query.split("&"))
    register_secrets(seg for seg in parts.path.split("/") if len(seg) >= 16)
    return Channel(
        id=row.id,
        name=row.name,
        kind=row.kind,
        url=url,
        secret=secret,
        shops=tuple(row.shops or ()),
        within=timedelta(seconds=row.within_seconds),
        parties=tuple(row.parties or DEFAULT_PARTIES),
    )


def masked_url(url: str) -> str:
    """What ``hub notify list`` shows of a URL: an ``env:`` reference as is, else its host only."""
    if url.startswith("env:"):
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/***"
