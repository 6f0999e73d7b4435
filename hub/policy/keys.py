"""The shop's own clocks and thresholds: every policy key, its type, its default and what it drives.

A policy value is typed text: a duration (``24h``, ``90m``, ``15d``), a number of days (``15d``),
an amount in fen (``1000``) or a Beijing time of day (``16:00``). :func:`parse_value` checks one
and returns its canonical text; a bad one raises :class:`PolicyValueError` naming the key and the
allowed form.

``drives`` names the platform rule settings (see ``Rule.setting`` in :mod:`hub.rules`) a key's value
becomes: where a platform declares that setting, the value in force is written into the shop's
settings and its rule rows compute their due times from it (source ``policy``). A key that drives
no setting is read by auto-rules (``policy.<key>``) and shown on the policy page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from ..clock import parse_duration
from ..errors import ConfigError

KINDS = ("duration", "days", "fen", "time")

#: the allowed form of each kind, in words (what an error message says)
FORMS = {
    "duration": "a duration like 24h, 90m or 2d",
    "days": "whole days like 15d",
    "fen": "a whole number of fen (1 yuan = 100 fen), e.g. 1000",
    "time": "a Beijing time of day HH:MM, e.g. 16:00",
}


class PolicyValueError(ConfigError):
    """A policy key or value that cannot be used (the CLI exits 2)."""


@dataclass(frozen=True)
class PolicyKey:
    key: str
    kind: str
    default: str
    label_zh: str
    help: str
    drives: tuple[str, ...] = ()  #: rule settings (``Rule.setting``) the value becomes
    help_zh: str = ""  #: the help an admin reads on the zh-CN policy page


KEYS: tuple[PolicyKey, ...] = (
    PolicyKey(
        "ship_warning_before",
        "duration",
        "48h",
        "发货预警提前量",
        "list an unshipped order this long before the platform's ship-by time (early warning)",
        drives=("late_ship_warning",),
        help_zh="在平台发货时限之前提前这么久列出未发货订单（发货预警）",
    ),
    PolicyKey(
        "unshipped_refund_within",
        "duration",
        "24h",
        "未发货退款处理时限",
        "answer a refund request on an order not yet shipped within this time (where the platform "
        "states no time of its own); on Pinduoduo (no expire_time) and JD (the review of a new "
        "service order) hub has one request-handling clock per shop, and it follows this value",
        drives=("reply_within", "audit_within"),
        help_zh="未发货订单的退款申请在此时限内处理（平台未给出时限时）；拼多多与京东按此值计算店铺的处理时限",
    ),
    PolicyKey(
        "order_change_within",
        "duration",
        "1h",
        "订单修改处理时限",
        "handle a buyer's change of order details (address, item) within this time",
        help_zh="买家修改订单信息（地址、商品）在此时限内处理",
    ),
    PolicyKey(
        "quality_claim_days",
        "days",
        "15d",
        "质量问题受理期",
        "accept quality complaints this many natural days after trade success",
        drives=("quality_claim_within",),
        help_zh="交易成功后这么多个自然日内受理质量问题投诉",
    ),
    PolicyKey(
        "watch_after_success_days",
        "days",
        "15d",
        "交易成功后观察期",
        "keep watching an order this many days after trade success (lost parcels, disputes)",
        help_zh="交易成功后继续关注订单的天数（丢件、纠纷）",
    ),
    PolicyKey(
        "small_refund_fen",
        "fen",
        "1000",
        "小额退款阈值（分）",
        "refunds up to this amount are agreed at once rather than disputed (auto-rules read it)",
        help_zh="不超过此金额的退款直接同意、不再争议（自动规则可读取）",
    ),
    PolicyKey(
        "dispatch_cutoff",
        "time",
        "16:00",
        "当日发货截单时间",
        "orders paid before this Beijing time ship the same day",
        help_zh="北京时间此时刻前付款的订单当天发货",
    ),
)

BY_KEY = {k.key: k for k in KEYS}

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def policy_key(key: str) -> PolicyKey:
    """The key's definition; an unknown key is a :class:`PolicyValueError` listing the known ones."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise PolicyValueError(f"unknown policy key {key!r} (keys: {', '.join(BY_KEY)})") from None


def parse_value(key: str, text: str) -> str:
    """The canonical text of ``text`` as a value of ``key``; :class:`PolicyValueError` when it is
    not of the key's form (the message names the key and the allowed form)."""
    spec = policy_key(key)
    raw = text.strip()
    bad = PolicyValueError(f"policy {key}: {text!r} is not {FORMS[spec.kind]}")
    if spec.kind in ("duration", "days"):
        try:
            span = parse_duration(raw)
        except ValueError:
            raise bad from None
        if span <= timedelta(0):
            raise bad
        if spec.kind == "days":
            if span % timedelta(days=1):
                raise bad
            return f"{span.days}d"
        return _duration_text(span)
    if spec.kind == "fen":
        if not raw.isdigit():
            raise bad
        return str(int(raw))
    m = _TIME.match(raw)
    if not m:
        raise bad
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _duration_text(span: timedelta) -> str:
    secs = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def typed(key: str, value: str) -> timedelta | int | str:
    """A canonical value as what it means: a timedelta, fen (int) or ``HH:MM``."""
    kind = policy_key(key).kind
    if kind in ("duration", "days"):
        return parse_duration(value)
    if kind == "fen":
        return int(value)
    return value


def same_value(key: str, a: str | None, b: str | None) -> bool:
    """Whether two texts of ``key`` mean the same (``48h`` and ``2d``)."""
    if a is None or b is None:
        return a == b
    try:
        return typed(key, parse_value(key, a)) == typed(key, parse_value(key, b))
    except PolicyValueError:
        return a == b


__all__ = [
    "BY_KEY",
    "FORMS",
    "KEYS",
    "PolicyKey",
    "PolicyValueError",
    "parse_value",
    "policy_key",
    "same_value",
    "typed",
]
