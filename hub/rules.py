"""Rule tables and the next-action evaluator.

A plugin's rule table is data: each :class:`Rule` says, for the cases (or orders) it matches, who
acts next (the party, named from the merchant's side), what (the action), from which event the
clock starts (the anchors, tried in order), how long it runs (the duration, counted as elapsed
time or as natural days in Beijing time), what the platform does when it runs out (the on-expiry
effect and its consequence in words) and which published rule or shop policy says so. A row with
``duration=None`` declares a state with a next action but explicitly no clock, and says why. A
:class:`Constraint` says an action is not allowed in some state, and why.

:func:`next_action` gives a case's or order's one next action. A deadline the platform states
itself always wins over a computed one; it keeps the matching rule's id so the agent still sees
the rule. :func:`check_totality` lists the states of a table's ``states`` that wait on the
merchant without a clock or a no-clock row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from .clock import CST, ensure_utc, parse_duration
from .domain import (
    AWAITING,
    DEFAULT_ACTION,
    AfterSale,
    AfterSaleStatus,
    Deadline,
    DeadlineSource,
    NextAction,
    OnExpiry,
    Order,
    Party,
    Via,
)
from .money import percent_of
from .platform import ActionAvailability, Capability

#: Anchors every subject may have; ``fact:<name>`` reads an ISO time from the subject's facts.
#: ``status_since`` is when the case entered its current status: the platform's own field when
#: the plugin gives it as the fact ``status_since``, else the store's status history.
#: ``updated_at`` is deliberately not an anchor: a later message must never move a clock.
BUILTIN_ANCHORS = ("created_at", "paid_at", "shipped_at", "signed_at", "status_since")

#: Anchors every stored subject always has: a row anchored on one of them always has a clock.
SURE_ANCHORS = frozenset({"created_at", "status_since"})

COUNTINGS = ("elapsed", "natural_days")

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
    #: the case's dispute status values (``evidence_required`` ...); "none" matches no dispute
    dispute_statuses: frozenset[str] = frozenset()
    dispute_kinds: frozenset[str] = frozenset()  #: the case's dispute kind values

    @property
    def conditional(self) -> bool:
        """True when the row applies to only part of a (kind, status) state."""
        return bool(self.platform_statuses or self.facts or self.dispute_statuses or self.dispute_kinds)

    def covers(self, kind: str, status: str) -> bool:
        """Whether the row can apply to a case of this (kind, status)."""
        if self.subject != "after_sale":
            return False
        return (not self.statuses or status in self.statuses) and (not self.kinds or kind in self.kinds)

    def matches(self, subject: Subject) -> bool:
        if (self.subject == "order") != isinstance(subject, Order):
            return False
        if self.statuses and subject.status.value not in self.statuses:
            return False
        if self.kinds and (not isinstance(subject, AfterSale) or subject.kind.value not in self.kinds):
            return False
        if self.platform_statuses and subject.platform_status not in self.platform_statuses:
            return False
        if self.dispute_statuses or self.dispute_kinds:
            dispute = subject.dispute if isinstance(subject, AfterSale) else None
            dispute_status = dispute.status.value if dispute else "none"
            if self.dispute_statuses and dispute_status not in self.dispute_statuses:
                return False
            if self.dispute_kinds and (dispute is None or dispute.kind.value not in self.dispute_kinds):
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
    """One row of a platform's rule table: who acts next on matching subjects, what, by when.

    The clock starts at the first of ``anchor`` the subject has (``created_at``, ``paid_at``,
    ``shipped_at``, ``signed_at``, ``status_since`` or ``fact:<name>``); a row whose anchors are
    all missing gives no clock for now. ``counting="elapsed"`` gives start + duration;
    ``counting="natural_days"`` gives 00:00 Beijing time of (the start's Beijing date + 1 +
    duration's days): the clock runs whole days from the midnight after the start event.
    ``duration=None`` (with ``no_clock_reason`` and ``no_clock_reason_zh``) declares that the
    state has this next action but no clock, and why. ``policy=True`` marks a figure no platform
    publishes: a shop-policy default, overridable by ``setting``; its deadlines have source
    ``policy``. ``consequence_zh``/``consequence_en`` say what happens on expiry; when empty the
    core derives them from ``on_expiry`` (and the penalty).
    """

    id: str  #: "<platform>.<name>", stable: stored on every next action it produces
    match: Match
    party: Party  #: who acts, from the merchant's side (merchant, buyer, platform, supplier)
    action: str  #: reply, ship_return, confirm_receipt, ship, appeal, submit_evidence, hold ...
    on_expiry: OnExpiry
    source: str  #: a short citation, in words, of the published rule or procedure
    summary_zh: str
    summary_en: str
    anchor: str | tuple[str, ...] = "status_since"  #: tried in order; the first the subject has wins
    duration: timedelta | None = None  #: None: no clock (say why in no_clock_reason)
    counting: str = "elapsed"  #: "elapsed" or "natural_days" (from the next 00:00 Beijing time)
    start_event: str = ""  #: e.g. "buyer submits (or re-submits) the refund request"
    start_event_zh: str = ""
    no_clock_reason: str | None = None
    no_clock_reason_zh: str | None = None
    policy: bool = False  #: a shop-policy default, not a published platform figure
    consequence_zh: str = ""  #: e.g. "平台自动同意退款"
    consequence_en: str = ""  #: e.g. "the platform agrees the refund automatically"
    setting: str | None = None  #: a shop setting that overrides ``duration`` (shop policy), e.g. "72h"
    penalty: Penalty | None = None

    @property
    def anchors(self) -> tuple[str, ...]:
        """The anchors in the order they are tried."""
        return (self.anchor,) if isinstance(self.anchor, str) else tuple(self.anchor)

    @property
    def has_clock(self) -> bool:
        return self.duration is not None

    @property
    def always_timed(self) -> bool:
        """True when every stored subject the row matches gets a clock (a sure anchor)."""
        return self.duration is not None and any(a in SURE_ANCHORS for a in self.anchors)


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
    """A platform's rules and constraints, and ``states``: every (kind, status) pair the plugin's
    mapping can produce for after-sales (declared next to the mapping). The conformance suite
    checks that synced cases stay inside ``states`` and that :func:`check_totality` is empty."""

    platform: str
    rules: tuple[Rule, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    states: frozenset[tuple[str, str]] = frozenset()

    def rule(self, rule_id: str) -> Rule:
        for row in self.rules:
            if row.id == rule_id:
                return row
        raise KeyError(rule_id)

    def matching(self, subject: Subject) -> list[Rule]:
        return list(_matching(self, subject))


class _Matcher:
    """The rows of one table that match a subject, remembered per *shape* of subject.

    A row matches on the subject's type, status, kind, and (only when some row of the table asks)
    its platform status, its dispute and the facts the rows name. Those values are the key: a
    batch of thousands of records has a handful of shapes, so the rows are matched once per shape
    instead of once per record (the same answer :meth:`Match.matches` gives, which it calls)."""

    LIMIT = 2048  #: shapes kept per table (a fact with unbounded values must not grow it forever)

    def __init__(self, table: RuleTable) -> None:
        self.table = table
        matches = [r.match for r in table.rules]
        self.platform_status = any(m.platform_statuses for m in matches)
        self.dispute = any(m.dispute_statuses or m.dispute_kinds for m in matches)
        self.facts = tuple(sorted({k for m in matches for k in m.facts}))
        self.shapes: dict[tuple[Any, ...], tuple[Rule, ...]] = {}

    def rows(self, subject: Subject) -> tuple[Rule, ...]:
        case = isinstance(subject, AfterSale)
        dispute = subject.dispute if case and self.dispute else None  # type: ignore[union-attr]
        key = (
            case,
            subject.status,
            subject.kind if case else None,  # type: ignore[union-attr]
            subject.platform_status if self.platform_status else None,
            (dispute.status, dispute.kind) if dispute is not None else None,
            tuple([subject.facts.get(k) for k in self.facts]) if self.facts else (),
        )
        try:
            found = self.shapes.get(key)
        except TypeError:  # an unhashable fact value: match this subject directly
            return tuple(r for r in self.table.rules if r.match.matches(subject))
        if found is None:
            if len(self.shapes) >= self.LIMIT:
                self.shapes.clear()
            found = self.shapes[key] = tuple(r for r in self.table.rules if r.match.matches(subject))
        return found


#: one matcher per rule table, by identity (the table is kept, so its id is not reused)
_matchers: dict[int, _Matcher] = {}


def _matching(table: RuleTable, subject: Subject) -> tuple[Rule, ...]:
    matcher = _matchers.get(id(table))
    if matcher is None or matcher.table is not table:
        if len(_matchers) > 256:  # tables built per shop or per call must not grow it forever
            _matchers.clear()
        matcher = _matchers[id(table)] = _Matcher(table)
    return matcher.rows(subject)


def anchor_time(
    subject: Subject, anchor: str | tuple[str, ...], status_since: datetime | None = None
) -> datetime | None:
    """The time a rule counts from: the first of the anchors the subject has, else ``None``.

    ``status_since`` reads the platform's own field (the fact ``status_since``) first, then the
    store's record of when the status was first seen (the ``status_since`` argument). It never
    falls back to the record's modified time.
    """
    for name in (anchor,) if isinstance(anchor, str) else anchor:
        value = _one_anchor(subject, name, status_since)
        if value is not None:
            return value
    return None


def _one_anchor(subject: Subject, anchor: str, status_since: datetime | None) -> datetime | None:
    if anchor == "status_since":
        stated = _fact_time(subject, "status_since")
        if stated is not None:
            return stated
        return ensure_utc(status_since) if status_since is not None else None
    if anchor.startswith("fact:"):
        return _fact_time(subject, anchor[5:])
    if anchor not in BUILTIN_ANCHORS:
        known = ", ".join(BUILTIN_ANCHORS)
        raise ValueError(f"unknown anchor {anchor!r} (use one of {known} or fact:<name>)")
    value = getattr(subject, anchor, None)
    return ensure_utc(value) if isinstance(value, datetime) else None


def _fact_time(subject: Subject, name: str) -> datetime | None:
    raw = subject.facts.get(name)
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        return ensure_utc(raw)
    text = str(raw).strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"fact {name!r} of {subject.external_id}: not an ISO time: {raw!r}") from err
    if value.tzinfo is None:
        raise ValueError(f"fact {name!r} of {subject.external_id}: time {raw!r} has no timezone")
    return ensure_utc(value)


def rule_duration(rule: Rule, settings: Mapping[str, str] | None) -> timedelta | None:
    """The rule's duration, or the shop's own policy where the rule names a setting the shop set."""
    if rule.setting and settings and settings.get(rule.setting):
        return parse_duration(str(settings[rule.setting]))
    return rule.duration


def _overridden(rule: Rule, settings: Mapping[str, str] | None) -> bool:
    return bool(rule.setting and settings and settings.get(rule.setting))


def due_time(start: datetime, duration: timedelta, counting: str = "elapsed") -> datetime:
    """When a clock started at ``start`` runs out.

    ``elapsed``: start + duration. ``natural_days``: the clock counts whole days from 00:00
    Beijing time of the day after the start; due = 00:00 Beijing time of (start's Beijing date
    + 1 + duration's days). A duration that is not whole days is refused.
    """
    if counting == "elapsed":
        return ensure_utc(start) + duration
    if counting != "natural_days":
        raise ValueError(f"unknown counting {counting!r} (use one of {', '.join(COUNTINGS)})")
    if duration % timedelta(days=1):
        raise ValueError(f"natural_days counting needs whole days, got {duration}")
    day = ensure_utc(start).astimezone(CST).date() + timedelta(days=1 + duration.days)
    return datetime.combine(day, time(0), tzinfo=CST).astimezone(ensure_utc(start).tzinfo)


def consequence(rule_or_expiry: Rule | OnExpiry, penalty_fen: int | None = None) -> tuple[str, str]:
    """(zh, en) words for what happens when the clock runs out: the rule's own, else derived."""
    if isinstance(rule_or_expiry, Rule):
        expiry = rule_or_expiry.on_expiry
        zh = rule_or_expiry.consequence_zh or expiry.label("zh", penalty_fen)
        en = rule_or_expiry.consequence_en or expiry.label("en", penalty_fen)
        return zh, en
    return rule_or_expiry.label("zh", penalty_fen), rule_or_expiry.label("en", penalty_fen)


def _penalty(rule: Rule, subject: Subject) -> int | None:
    if rule.penalty is None:
        return None
    base = int(getattr(subject, rule.penalty.base, 0) or 0)
    return percent_of(base, rule.penalty.percent, rule.penalty.cap_fen)


def rule_action(
    rule: Rule,
    subject: Subject,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> NextAction:
    """The next action one row gives a subject: with a due time when the row has a clock and the
    subject has one of its anchors, else without one and with the reason."""
    penalty = _penalty(rule, subject)
    if penalty is None:
        # the fields that depend on the row alone are built once per row (the hot path of a
        # sync: one call per matching row of every record)
        cached = _bases.get(id(rule))
        if cached is not None and cached[0] is rule:
            base = cached[1]
        else:
            if len(_bases) > 4096:  # tables built per shop or per call must not grow it forever
                _bases.clear()
            base = _base_action(rule, None)
            _bases[id(rule)] = (rule, base)
    else:
        base = _base_action(rule, penalty)
    duration = rule_duration(rule, settings)
    if duration is None:
        return _replace(
            base,
            no_clock_reason=rule.no_clock_reason or "no clock applies in this state",
            no_clock_reason_zh=rule.no_clock_reason_zh or "此状态无时限",
        )
    start = anchor_time(subject, rule.anchor, status_since)
    if start is None:
        event = rule.start_event or " or ".join(rule.anchors)
        event_zh = rule.start_event_zh or event
        return _replace(
            base,
            no_clock_reason=f"the clock starts when: {event} (not known yet)",
            no_clock_reason_zh=f"计时起点尚未发生：{event_zh}",
        )
    source = DeadlineSource.POLICY if rule.policy or _overridden(rule, settings) else DeadlineSource.RULE
    return _replace(base, due_at=due_time(start, duration, rule.counting), source=source)


def _base_action(rule: Rule, penalty: int | None) -> NextAction:
    zh, en = consequence(rule, penalty)
    return NextAction(
        party=rule.party,
        action=rule.action,
        on_expiry=rule.on_expiry,
        consequence_zh=zh,
        consequence_en=en,
        rule_id=rule.id,
        rule_source=rule.source,
        summary=rule.summary_zh,
        summary_en=rule.summary_en,
        start_event=rule.start_event or None,
        penalty_fen=penalty,
    )


#: a row's next action before its clock (rows without a penalty), by row identity (rows are
#: frozen; a row holds a dict, so it is not hashable); the row is kept so its id is not reused
_bases: dict[int, tuple[Rule, NextAction]] = {}


def _replace(action: NextAction, **changes: Any) -> NextAction:
    # dataclasses.replace re-runs __init__ over every field (a third of next_action's time);
    # a copy of the frozen instance's fields with the changes is the same object, built directly
    copy = object.__new__(NextAction)
    fields = copy.__dict__
    fields.update(action.__dict__)
    fields.update(changes)
    return copy


def computed_deadline(
    rule: Rule,
    subject: Subject,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> Deadline | None:
    """The deadline one rule gives a subject, or ``None`` when it has no clock or no anchor yet."""
    return rule_action(rule, subject, status_since=status_since, settings=settings).as_deadline()


def default_action(subject: Subject, table: RuleTable, merchant_side: Party = Party.MERCHANT) -> NextAction:
    """The next action of an open case no row covers: the status's usual party and action,
    explicitly without a clock (a merchant-side one is a totality gap the conformance suite reports)."""
    if isinstance(subject, AfterSale):
        party = AWAITING[subject.status].from_side(merchant_side)
        action = DEFAULT_ACTION[subject.status]
    else:
        party, action = Party.NONE, "none"
    return NextAction(
        party=party,
        action=action,
        no_clock_reason=f"no row of the {table.platform} rule table covers this state",
        no_clock_reason_zh="规则表未覆盖此状态",
        consequence_zh=OnExpiry.NOTHING.label("zh"),
        consequence_en=OnExpiry.NOTHING.label("en"),
    )


def next_action(
    subject: Subject,
    table: RuleTable,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
    merchant_side: Party = Party.MERCHANT,
    via: Via | None = None,
) -> NextAction | None:
    """The subject's one next action, or ``None`` (a closed case; an order no row matches).

    Among the matching rows, the earliest due time wins (table order breaks ties); a row with a
    clock beats a row without one. With no due time at all, the first matching row gives the
    party and action and says why there is no clock. A deadline the platform states itself wins
    over any computed one (source ``platform``) and borrows the best row's rule id, party, action
    and effect where the platform does not say them. An open case no row matches gets
    :func:`default_action`. ``merchant_side`` names the merchant's side of the platform's cases
    (``buyer`` on a sourcing platform) for that fallback only: rule rows name parties from the
    merchant's side already.
    """
    if isinstance(subject, AfterSale) and not subject.status.is_open:
        return None
    rows = _matching(table, subject)
    actions = [rule_action(r, subject, status_since=status_since, settings=settings) for r in rows]
    timed = [a for a in actions if a.due_at is not None]
    # min() keeps the first of equal keys, so table order breaks ties.
    best = min(timed, key=lambda a: a.due_at or datetime.max, default=None)
    if best is None and actions:
        best = actions[0]
    stated = subject.platform_deadline
    if stated is not None:
        template = best
        if template is None and isinstance(subject, AfterSale):
            template = default_action(subject, table, merchant_side)
        expiry = stated.on_expiry or (template.on_expiry if template else OnExpiry.NOTHING)
        penalty = template.penalty_fen if template else None
        if template is not None and expiry == template.on_expiry and template.consequence_en:
            zh, en = template.consequence_zh, template.consequence_en
        else:
            zh, en = consequence(expiry, penalty)
        best = NextAction(
            party=stated.party or (template.party if template else Party.MERCHANT),
            action=stated.action or (template.action if template else "reply"),
            due_at=ensure_utc(stated.due_at),
            on_expiry=expiry,
            consequence_zh=zh,
            consequence_en=en,
            source=DeadlineSource.PLATFORM,
            rule_id=template.rule_id if template else None,
            rule_source=template.rule_source if template else None,
            summary=template.summary if template else None,
            summary_en=template.summary_en if template else None,
            start_event=template.start_event if template else None,
            penalty_fen=penalty,
        )
    if best is None:
        if isinstance(subject, AfterSale):
            best = default_action(subject, table, merchant_side)
        else:
            return None
    return _replace(best, via=via) if via is not None else best


def next_deadline(
    subject: Subject,
    table: RuleTable,
    *,
    status_since: datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> Deadline | None:
    """The next action's clock as a :class:`Deadline` (``None`` without one). Prefer :func:`next_action`."""
    action = next_action(subject, table, status_since=status_since, settings=settings)
    return action.as_deadline() if action else None


def check_totality(table: RuleTable, merchant_side: Party = Party.MERCHANT) -> list[tuple[str, str]]:
    """The states of ``table.states`` that wait on the merchant without an answer, sorted.

    A (kind, status) is answered when an unconditional row (no platform-status, fact or dispute
    condition) covers it and either has a clock on an anchor every stored case has
    (``created_at``, ``status_since``) or declares no clock with a reason. A state no such row
    covers is uncovered when a conditional row covering it names the merchant, or when, with no
    row at all, the status's usual party is the merchant (seen from ``merchant_side``).
    Terminal statuses are never uncovered.
    """
    uncovered: list[tuple[str, str]] = []
    for kind, status in sorted(table.states):
        try:
            st = AfterSaleStatus(status)
        except ValueError:
            uncovered.append((kind, status))
            continue
        if not st.is_open:
            continue
        rows = [r for r in table.rules if r.match.covers(kind, status)]
        if any(not r.match.conditional and (r.always_timed or _no_clock(r)) for r in rows):
            continue
        usual = AWAITING[st].from_side(merchant_side)
        unconditional = any(not r.match.conditional for r in rows)
        if any(r.party is Party.MERCHANT for r in rows) or (not unconditional and usual is Party.MERCHANT):
            uncovered.append((kind, status))
    return uncovered


def _no_clock(rule: Rule) -> bool:
    return rule.duration is None and bool(rule.no_clock_reason)


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
        for anchor in r.anchors:
            if anchor not in BUILTIN_ANCHORS and not anchor.startswith("fact:"):
                problems.append(f"{r.id}: unknown anchor {anchor!r}")
        if not r.anchors:
            problems.append(f"{r.id}: no anchor")
        if r.counting not in COUNTINGS:
            problems.append(f"{r.id}: unknown counting {r.counting!r}")
        elif r.counting == "natural_days" and r.duration is not None and r.duration % timedelta(days=1):
            problems.append(f"{r.id}: natural_days counting needs whole days")
        if r.duration is None and not (r.no_clock_reason and r.no_clock_reason_zh):
            problems.append(f"{r.id}: no duration and no no_clock_reason/no_clock_reason_zh")
        if r.policy and not r.setting:
            problems.append(f"{r.id}: a policy figure needs a setting the shop can change")
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
    "check_totality",
    "computed_deadline",
    "consequence",
    "default_action",
    "due_time",
    "next_action",
    "next_deadline",
    "rule_action",
    "status_since",
]
