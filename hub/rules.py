"""Rule tables and the deadline evaluator.

A plugin's rule table is data: each :class:`Rule` says, for the cases it matches, from which time
(the anchor) how long (the duration) someone (the party) has to do something (the action), what
the platform does when that time passes (the on-expiry effect), and which document says so. A
:class:`Constraint` says an action is not allowed in some state, and why.

:func:`next_deadline` picks a case's next deadline. A deadline the platform states itself always
wins over a computed one; it keeps the matching rule's id so the agent still sees the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import ensure_utc, parse_duration
from .domain import AfterSale, Deadline, DeadlineSource, OnExpiry, Order, Party
from .money import percent_of
from .platform import ActionAvailability, Capability

#: Anchors every subject has; ``fact:<name>`` reads an ISO time from the subject's facts and
#: ``status_since`` is when the case entered its current status, from its own history.
BUILTIN_ANCHORS = ("created_at", "updated_at", "paid_at", "shipped_at", "signed_at", "status_since")

Subject = AfterSale | Order


@dataclass(frozen=True, kw_only=True)
class Penalty:
    """A penalty computed on a deadline: ``percent`` % of the subject's ``base`` amount, capped."""

    percent: str
    cap_fen: int | None = None
    base: str = "paid_fen"


@dataclass(frozen=True, kw_only=True)
class Match:
    """Which subjects a row applies to. An empty set matches anything.

    ``facts`` compares the subject's facts: a value must equal, a tuple lists allowed values,
    ``True`` means present and truthy, ``None`` means absent or empty.
    """

    subject: str = "after_sale"  #: "after_sale" or "order"
    statuses: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    platform_statuses: frozenset[str] = frozenset()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, subject: Subject) -> bool:
        if (self.subject == "order") != isinstance(subject, Order):
            return False
        if self.statuses and subject.status.value not in self.statuses:
            return False
        if self.kinds and (not isinstance(subject, AfterSale) or subject.kind.value not in self.kinds):
            return False
        if self.platform_statuses and subject.platform_status not in self.platform_statuses:
            return False
        return all(_fact_matches(subject.facts.get(k), want) for k, want in self.facts.items())


def _fact_matches(value: Any, want: Any) -> bool:
    if want is True:
        return bool(value)
    if want is None:
        return value in (None, "", False)
    if isinstance(want, tuple):
        return value in want
    return bool(value == want)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One deadline row of a platform's rule table."""

    id: str  #: "<platform>.<name>", stable: stored on every deadline it produces
    match: Match
    anchor: str  #: one of BUILTIN_ANCHORS or "fact:<name>"
    duration: timedelta
    party: Party
    action: str  #: reply, ship_return, confirm_receipt, ship, appeal, extend_receipt, claim_return ...
    on_expiry: OnExpiry
    source: str  #: the document (and section) the rule comes from
    summary_zh: str
    summary_en: str
    setting: str | None = None  #: a shop setting that overrides ``duration`` (shop policy), e.g. "72h"
    penalty: Penalty | None = None


@dataclass(frozen=True, kw_only=True)
class Constraint:
    """An action the platform does not allow for matching cases, with the reason shown to the agent."""

    id: str
    action: str
    match: Match
    reason_zh: str
    reason_en: str
    source: str


@dataclass(frozen=True, kw_only=True)
class RuleTable:
    platform: str
    rules: tuple[Rule, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for row in self.rules:
            if row.id == rule_id:
                return row
        raise KeyError(rule_id)

    def matching(self, subject: Subject) -> list[Rule]:
        return [row for row in self.rules if row.match.matches(subject)]


def anchor_time(subject: Subject, anchor: str, status_since: datetime | None = None) -> datetime | None:
    """The time a rule counts from, or ``None`` when the subject does not have it (yet)."""
    if anchor == "status_since":
        return status_since or subject.updated_at
    if anchor.startswith("fact:"):
        raw = subject.facts.get(anchor[5:])
        if raw in (None, ""):
            return None
        return ensure_utc(raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw)))
    if anchor not in BUILTIN_ANCHORS:
        raise ValueError(f"unknown anchor {anchor!r}")
    value = getattr(subject, anchor, None)
    return value if isinstance(value, datetime) else None


def rule_duration(rule: Rule, settings: Mapping[str, str] | None) -> timedelta:
    """The rule's duration, or the shop's own policy where the rule names a setting."""
    if rule.setting and settings and settings.get(rule.setting):
        return parse_duration(str(settings[rule.setting]))
    return rule.duration


def computed_deadline(
    rule: Rule,
    subject: Subject,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> Deadline | None:
    """The deadline one rule gives a subject, or ``None`` when its anchor is unknown."""
    start = anchor_time(subject, rule.anchor, status_since)
    if start is None:
        return None
    penalty = None
    if rule.penalty is not None:
        base = int(getattr(subject, rule.penalty.base, 0) or 0)
        penalty = percent_of(base, rule.penalty.percent, rule.penalty.cap_fen)
    return Deadline(
        due_at=start + rule_duration(rule, settings),
        party=rule.party,
        action=rule.action,
        on_expiry=rule.on_expiry,
        source=DeadlineSource.RULE,
        rule_id=rule.id,
        rule_source=rule.source,
        summary=rule.summary_zh,
        penalty_fen=penalty,
    )


def next_deadline(
    subject: Subject,
    table: RuleTable,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> Deadline | None:
    """The subject's next deadline.

    The platform's own deadline wins whenever the subject carries one; the first matching rule
    (by due time, then table order) lends it its rule id, party, action and effect where the
    platform does not say them. Otherwise the earliest computed deadline of the matching rows.
    Closed and succeeded cases have none.
    """
    if isinstance(subject, AfterSale) and not subject.status.is_open:
        return None
    candidates = [
        d
        for d in (
            computed_deadline(r, subject, status_since=status_since, settings=settings)
            for r in table.matching(subject)
        )
        if d is not None
    ]
    # min() keeps the first of equal keys, so table order breaks ties.
    best = min(candidates, key=lambda d: d.due_at, default=None)
    stated = subject.platform_deadline
    if stated is None:
        return best
    matched = best or _first_match_template(subject, table)
    party = stated.party or (matched.party if matched else _default_party(subject))
    return Deadline(
        due_at=ensure_utc(stated.due_at),
        party=party,
        action=stated.action or (matched.action if matched else "reply"),
        on_expiry=stated.on_expiry or (matched.on_expiry if matched else OnExpiry.NOTHING),
        source=DeadlineSource.PLATFORM,
        rule_id=matched.rule_id if matched else None,
        rule_source=matched.rule_source if matched else None,
        summary=matched.summary if matched else None,
        penalty_fen=matched.penalty_fen if matched else None,
    )


def _first_match_template(subject: Subject, table: RuleTable) -> Deadline | None:
    rows = table.matching(subject)
    if not rows:
        return None
    r = rows[0]
    return Deadline(
        due_at=subject.updated_at,
        party=r.party,
        action=r.action,
        on_expiry=r.on_expiry,
        source=DeadlineSource.RULE,
        rule_id=r.id,
        rule_source=r.source,
        summary=r.summary_zh,
    )


def _default_party(subject: Subject) -> Party:
    return subject.awaiting if isinstance(subject, AfterSale) else Party.SELLER


def blocked_actions(subject: Subject, table: RuleTable, lang: str = "zh") -> dict[str, str]:
    """Actions a constraint forbids for this subject, each with its reason (first constraint wins)."""
    out: dict[str, str] = {}
    for c in table.constraints:
        if c.action not in out and c.match.matches(subject):
            out[c.action] = (c.reason_zh if lang == "zh" else c.reason_en) + f" [{c.source}]"
    return out


def action_availability(
    capabilities: Iterable[Capability],
    subject: Subject,
    table: RuleTable,
    state_reason: Callable[[str], str | None] = lambda _action: None,
) -> list[ActionAvailability]:
    """Every capability for one case: unsupported ones with their reason; supported ones enabled
    unless ``state_reason(action)`` (the platform's own state checks) or a constraint row says why
    not. What a plugin's ``available_actions`` usually returns."""
    blocked = blocked_actions(subject, table)
    out: list[ActionAvailability] = []
    for cap in capabilities:
        if not cap.supported:
            out.append(ActionAvailability(action=cap.action, enabled=False, reason=cap.reason))
            continue
        reason = state_reason(cap.action) or blocked.get(cap.action)
        out.append(ActionAvailability(action=cap.action, enabled=reason is None, reason=reason))
    return out


def status_since(history: Iterable[tuple[datetime, str | None]], current: str) -> datetime | None:
    """When the case entered ``current``, from its (time, status) history in time order."""
    since: datetime | None = None
    previous: str | None = None
    for at, status in history:
        if status is None:
            continue
        if status == current and previous != current:
            since = at
        previous = status
    return since if previous == current else None


def check_table(table: RuleTable) -> list[str]:
    """Problems in a rule table: duplicate ids, unknown anchors, rows without a source."""
    problems: list[str] = []
    seen: set[str] = set()
    rows: list[Rule | Constraint] = [*table.rules, *table.constraints]
    for row in rows:
        if row.id in seen:
            problems.append(f"{row.id}: duplicate rule id")
        seen.add(row.id)
        if not row.source.strip():
            problems.append(f"{row.id}: no source")
    for r in table.rules:
        if r.anchor not in BUILTIN_ANCHORS and not r.anchor.startswith("fact:"):
            problems.append(f"{r.id}: unknown anchor {r.anchor!r}")
    return problems


__all__: Sequence[str] = [
    "Constraint",
    "Match",
    "Penalty",
    "Rule",
    "RuleTable",
    "action_availability",
    "blocked_actions",
    "check_table",
    "computed_deadline",
    "next_deadline",
    "status_since",
]
