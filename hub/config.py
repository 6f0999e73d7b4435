"""Settings from the environment. Nothing here is read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .errors import ConfigError


def default_home() -> Path:
    """``$HUB_HOME``, else ``$XDG_DATA_HOME/hub``, else ``~/.local/share/hub``."""
    if os.environ.get("HUB_HOME"):
        return Path(os.environ["HUB_HOME"]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "hub"


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    database_url: str
    log_format: str  #: "console", "json" or "auto" (console in a terminal)
    log_level: str = "info"
    http_timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 0.5  #: seconds; doubled per retry, capped at backoff_max
    backoff_max: float = 60.0
    default_rate: float = 10.0  #: calls/s per shop when the platform states none
    #: networks (CIDRs) of the reverse proxies whose Forwarded / X-Forwarded-* headers are believed
    trusted_proxies: tuple[str, ...] = ()
    #: how long a shop's sync lease lasts without renewal (a dead holder's shops wait this long)
    lease_seconds: float = 600.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)
    #: windows of one resource fetched at once during a sync (the shop's rate limiter still paces
    #: the calls; written in order either way). 1 fetches one window at a time.
    fetch_windows_in_flight: int = 8

    @classmethod
    def from_env(cls, *, database_url: str | None = None, home: Path | None = None) -> Settings:
        home = home or default_home()
        url = database_url or os.environ.get("HUB_DATABASE_URL") or f"sqlite+aiosqlite:///{home / 'hub.db'}"
        fmt = os.environ.get("HUB_LOG_FORMAT", "auto").lower()
        if fmt not in ("auto", "console", "json"):
            raise ConfigError(f"HUB_LOG_FORMAT must be auto, console or json, not {fmt!r}")
        try:
            timeout = float(os.environ.get("HUB_HTTP_TIMEOUT", "30"))
        except ValueError as err:
            raise ConfigError("HUB_HTTP_TIMEOUT must be a number of seconds") from err
        try:
            lease = float(os.environ.get("HUB_LEASE_SECONDS", "600"))
        except ValueError as err:
            raise ConfigError("HUB_LEASE_SECONDS must be a number of seconds") from err
        if lease <= 0:
            raise ConfigError("HUB_LEASE_SECONDS must be positive")
        return cls(
            trusted_proxies=parse_networks(os.environ.get("HUB_TRUSTED_PROXIES", ""), "HUB_TRUSTED_PROXIES"),
            home=home,
            lease_seconds=lease,
            database_url=normalise_url(url),
            log_format=fmt,
            log_level=os.environ.get("HUB_LOG_LEVEL", "info").lower(),
            http_timeout=timeout,
        )


def parse_networks(text: str, where: str) -> tuple[str, ...]:
    """Comma- or space-separated CIDRs (a bare address is a /32 or /128), normalised; a bad one is a
    :class:`ConfigError` naming it and ``where`` it came from."""
    import ipaddress

    out: list[str] = []
    for part in text.replace(",", " ").split():
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(f"{where}: {part[:60]!r} is not an IP address or network (CIDR)") from None
    return tuple(out)


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` and ``sqlite:///`` forms and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ConfigError(
        f"unsupported database URL {redact_url(url)!r}: use sqlite+aiosqlite:///PATH or postgresql+asyncpg://..."
    )


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
