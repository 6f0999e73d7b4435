"""Typed shop settings: what each :data:`hub.platform.SETTING_KINDS` value accepts, checked when a
shop is added or changed, and read back typed by adapters (:class:`ShopSettings`).

Stored settings stay strings (the database column is JSON of strings); the kind only decides what
a string may be, so a bad value is refused at ``hub shop add/set`` with the setting's name instead
of failing the next sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .clock import parse_duration
from .errors import ConfigError

if TYPE_CHECKING:
    from .platform import PlatformInfo, SettingSpec

TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off", "")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def infer_kind(default: str | None) -> str:
    """The kind a setting without a declared one has, judged from its default."""
    if default is None or default == "":
        return "string"
    text = default.strip().lower()
    if text in ("true", "false"):
        return "bool"
    if _NUMBER.match(text):
        return "number"
    if text.startswith(("http://", "https://", "ws://", "wss://")):
        return "url"
    try:
        parse_duration(text)
    except ValueError:
        return "string"
    return "duration"


def check_value(spec: SettingSpec, value: str) -> str | None:
    """Why ``value`` is not a valid ``spec`` value, or ``None`` when it is. ``env:VAR`` references
    are checked when they are read (the variable may be set later)."""
    if value.startswith("env:"):
        return None
    kind = spec.value_kind
    text = value.strip()
    if kind == "duration":
        try:
            if parse_duration(text) <= timedelta(0):
                return "must be a positive duration"
        except ValueError:
            return "must be a duration such as 90m, 24h or 3d"
    elif kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return "must be a whole number"
    elif kind == "number":
        if not _NUMBER.match(text):
            return "must be a number"
    elif kind == "bool":
        if text.lower() not in (*TRUE, *FALSE):
            return "must be true or false"
    elif kind == "url":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
            return "must be an http(s) or ws(s) URL"
    elif kind == "path":
        if not text or "\x00" in text:
            return "must be a file or folder path"
    elif kind == "secret":
        if not text:
            return "must not be empty"
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}"
    return check_bounds(spec, text)


def check_bounds(spec: SettingSpec, text: str) -> str | None:
    """Why a value of the right kind is still impossible (past the spec's ``minimum`` or
    ``maximum``, a path that must exist and does not), or ``None``."""
    kind = spec.value_kind
    if kind == "path" and spec.must_exist:
        if not Path(text).expanduser().exists():
            return "does not exist (create the folder first, or fix the path)"
        return None
    if spec.minimum is None and spec.maximum is None:
        return None
    if kind == "duration":
        value: float = parse_duration(text).total_seconds()
        low = parse_duration(spec.minimum).total_seconds() if spec.minimum else None
        high = parse_duration(spec.maximum).total_seconds() if spec.maximum else None
    elif kind in ("integer", "number"):
        value = float(text)
        low = float(spec.minimum) if spec.minimum else None
        high = float(spec.maximum) if spec.maximum else None
    else:
        return None
    if low is not None and value < low:
        return f"must be at least {spec.minimum}"
    if high is not None and value > high:
        return f"must be at most {spec.maximum}"
    return None


def check_settings(info: PlatformInfo, specs: Mapping[str, SettingSpec], given: Mapping[str, str]) -> None:
    """Raise one :class:`ConfigError` listing every given value that does not fit its kind."""
    problems = []
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            continue
        why = check_value(spec, str(value))
        if why is not None:
            shown = "***" if spec.secret else repr(value)
            problems.append(f"{name}={shown} {why}")
    if problems:
        raise ConfigError(f"{info.id}: " + "; ".join(problems))


class ShopSettings:
    """A shop's settings read typed, with the platform's defaults (what an adapter reads).

    ``ShopSettings(info, shop.settings).duration("reply_within")``. A missing required value or a
    value of the wrong kind is a :class:`ConfigError` naming the shop setting.
    """

    def __init__(self, info: PlatformInfo, values: Mapping[str, str], *, shop: str = "") -> None:
        self.info = info
        self.values = dict(values)
        self.shop = shop
        self.specs = {s.name: s for s in info.settings}

    def _where(self, name: str) -> str:
        return f"{self.info.id} shop {self.shop!r} setting {name}" if self.shop else f"setting {name}"

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        if value in (None, ""):
            spec = self.specs.get(name)
            return spec.default if spec is not None and spec.default not in (None, "") else None
        return str(value)

    def text(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise ConfigError(f"{self._where(name)} is missing")
        return value

    def duration(self, name: str) -> timedelta:
        try:
            return parse_duration(self.text(name))
        except ValueError as err:
            raise ConfigError(f"{self._where(name)}: {err}") from err

    def number(self, name: str) -> float:
        text = self.text(name)
        if not _NUMBER.match(text.strip()):
            raise ConfigError(f"{self._where(name)}: {text!r} is not a number")
        return float(text)

    def integer(self, name: str) -> int:
        text = self.text(name)
        try:
            return int(text)
        except ValueError as err:
            raise ConfigError(f"{self._where(name)}: {text!r} is not a whole number") from err

    def flag(self, name: str) -> bool:
        value = (self.get(name) or "").strip().lower()
        if value not in (*TRUE, *FALSE):
            raise ConfigError(f"{self._where(name)}: {value!r} is not true or false")
        return value in TRUE
