"""Known secret values, scrubbed from everything hub stores, prints or serves, not only from logs.

A platform gateway that echoes the request puts a shop's access token into its error text; that
text becomes a sync summary, a ``sync_runs`` row, a quarantine error, an action's message, a page.
Every one of those passes through :func:`scrub`, which replaces each known secret value (and its
URL-encoded forms) with ``***``. The values are the resolved secret settings of the shops this
process has seen (:func:`register_shop`, :func:`register_all_shops`); they are the same set the log
redaction uses (:mod:`hub.logging`), so a secret hidden from the logs is hidden everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

from .logging import REDACTED, register_secrets, secret_values

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from .platform import PlatformInfo

T = TypeVar("T")


def _forms(value: str) -> Iterable[str]:
    """A secret as it may appear in error text: as is, and URL-encoded (an echoed query string)."""
    yield value
    yield quote(value, safe="")
    yield quote_plus(value)


def register_values(values: Iterable[str]) -> None:
    """Remember secret values (and their encoded forms) so they are scrubbed wherever they appear."""
    register_secrets(form for v in values if v for form in _forms(str(v)))


def secret_settings_of(settings: Mapping[str, Any], info: PlatformInfo | None) -> list[str]:
    """The values of a shop's secret settings, ``env:VAR`` references resolved (a variable that is
    not set has no value to leak, and is skipped here: the sync reports it)."""
    names = info.secret_settings if info is not None else frozenset()
    out: list[str] = []
    for name in names:
        value = settings.get(name)
        if value is None:
            continue
        text = str(value)
        if text.startswith("env:"):
            text = os.environ.get(text[4:], "")
        if text:
            out.append(text)
    return out


def register_shop(settings: Mapping[str, Any], info: PlatformInfo | None) -> None:
    """Remember one shop's secret values (call it wherever a shop's settings are loaded to be used)."""
    register_values(secret_settings_of(settings, info))


async def register_all_shops(engine: AsyncEngine, platforms: Mapping[str, PlatformInfo]) -> None:
    """Remember the secret values of every shop in the database (a server does this at start and
    now and then, so a shop added from the command line is covered too)."""
    from .store.shops import list_shop_rows

    for row in await list_shop_rows(engine):
        register_shop(row.settings or {}, platforms.get(row.platform))


def scrub_text(text: str) -> str:
    """``text`` with every known secret value replaced by ``***`` (longest first, so a secret that
    contains another is replaced whole)."""
    values = secret_values()
    if not values or not text:
        return text
    for secret in sorted((v for v in values if v in text), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def scrub(value: T) -> T:
    """``value`` (text, or lists, tuples and dicts of them, at any depth) with every known secret
    value replaced by ``***``; anything else is returned as it is."""
    if isinstance(value, str):
        return scrub_text(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [scrub(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(scrub(v) for v in value)  # type: ignore[return-value]
    return value
