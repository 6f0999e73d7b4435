"""Money: integer fen (分), never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: an amount as an agent types it into a form: 元, at most two decimals ("12", "12.5", "1,299.00")
_TYPED_YUAN = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


def yuan_to_fen(value: str | int | float | Decimal | None) -> int:
    """Convert a yuan amount as the platforms send it (``"200.07"``, ``11.01``, ``"5"``) to fen.

    Strings are parsed as decimals, so ``"0.29"`` is exactly 29 fen. A JSON float is first turned
    into its shortest repr, which is what the platform wrote. More than two decimals is refused.
    """
    if value is None or value == "":
        raise ValueError("amount is missing")
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as err:
        raise ValueError(f"not an amount in yuan: {value!r}") from err
    if not amount.is_finite():
        raise ValueError(f"not an amount in yuan: {value!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount {value!r} has more than two decimals")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    """Format fen as a yuan string with two decimals (``12345`` → ``"123.45"``)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def percent_of(fen: int, percent: int | str | Decimal, cap_fen: int | None = None) -> int:
    """``percent`` % of ``fen``, rounded half up to the fen, capped at ``cap_fen``."""
    value = int((Decimal(fen) * Decimal(str(percent)) / 100).quantize(Decimal(1), ROUND_HALF_UP))
    return min(value, cap_fen) if cap_fen is not None else value


def typed_yuan_to_fen(text: str) -> int:
    """An amount typed into a form, in 元 with at most two decimals, as fen: the one conversion.

    A leading ``¥``/``￥`` and thousands separators are accepted; a sign, a third decimal,
    letters or an empty field are refused (``ValueError``; the caller names the field).
    """
    cleaned = text.strip().lstrip("¥￥").strip()
    if not _TYPED_YUAN.fullmatch(cleaned):
        raise ValueError(f"not an amount in yuan with at most two decimals: {text[:40]!r}")
    return yuan_to_fen(cleaned.replace(",", ""))
