"""Beijing days for reports and the ledger: a range of calendar days in Asia/Shanghai and its UTC
bounds, and the day (or month) an aware time falls on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .clock import CST, ensure_utc
from .errors import ConfigError

#: the longest range a report or ledger covers (a guard against reading years by mistake)
MAX_DAYS = 400


@dataclass(frozen=True)
class DayRange:
    """Beijing calendar days ``first`` .. ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """00:00 Beijing time of ``first``, as aware UTC."""
        return ensure_utc(datetime.combine(self.first, time(0), CST))

    @property
    def end(self) -> datetime:
        """00:00 Beijing time of the day after ``last`` (exclusive), as aware UTC."""
        return ensure_utc(datetime.combine(self.last + timedelta(days=1), time(0), CST))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def parse_day(text: str, what: str = "date") -> date:
    """A ``YYYY-MM-DD`` day; ConfigError names the bad value and where it came from."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ConfigError(f"{what}: not a date {text!r} (use YYYY-MM-DD, a Beijing day)") from None


def day_range(first: str, last: str, *, names: tuple[str, str] = ("--from", "--to")) -> DayRange:
    """The range between two ``YYYY-MM-DD`` Beijing days (both included), checked."""
    a, b = parse_day(first, names[0]), parse_day(last, names[1])
    if b < a:
        raise ConfigError(f"{names[1]} {b} is before {names[0]} {a}")
    if (b - a).days + 1 > MAX_DAYS:
        raise ConfigError(f"{names[0]}..{names[1]} spans more than {MAX_DAYS} days")
    return DayRange(a, b)


def beijing_day(at: datetime) -> date:
    """The Beijing calendar day an aware time falls on."""
    return ensure_utc(at).astimezone(CST).date()


def beijing_month(at: datetime) -> str:
    """``YYYY-MM`` of the Beijing month an aware time falls on."""
    return beijing_day(at).strftime("%Y-%m")


def today_beijing(now: datetime) -> date:
    return beijing_day(now)
