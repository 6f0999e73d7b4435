"""structlog set-up: console in a terminal, JSON elsewhere (``HUB_LOG_FORMAT``); secrets redacted.

Redaction works on keys (any key naming a secret, at any depth) and on values (the known secret
values of the configured shops, wherever they appear in a line), so a secret that slips into an
error message or a URL is still never written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

SECRET_KEYS = frozenset(
    {
        "app_secret",
        "client_secret",
        "secret",
        "session",
        "access_token",
        "refresh_token",
        "sign",
        "password",
        "token",
        "authorization",
        "cookie",
        "api_token",
        "sessionkey",
    }
)
REDACTED = "***"

_secret_values: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    """Remember secret values (shop credentials) so they are scrubbed from any log line."""
    for v in values:
        if v and len(v) >= 4:
            _secret_values.add(v)


def secret_values() -> frozenset[str]:
    """The secret values registered so far (:mod:`hub.scrub` hides them in stored and shown text)."""
    return frozenset(_secret_values)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: blank secret keys, scrub secret values."""
    for key in list(event):
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
        else:
            event[key] = _scrub(event[key])
    return event


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (tests and embedders swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(fmt: str = "auto", level: str = "info", stream: Any = None) -> None:
    """Console lines in a terminal, JSON lines otherwise, on ``stream`` (default: standard error)."""
    stream = stream or _Stderr()
    if fmt == "auto":
        fmt = "console" if hasattr(stream, "isatty") and stream.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
