"""What a platform plugin registers: its :class:`PlatformInfo` and an adapter factory.

The adapter is where everything async and platform-specific lives: fetching raw pages for a time
window, mapping raw records (pure), the rule table, the actions. The core owns the HTTP session,
the database and the clock; the adapter never touches the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .domain import AfterSale, MappedRecord, Order, Party, RawRecord, Shop

if TYPE_CHECKING:
    import argparse

    import aiohttp

    from .ratelimit import RateLimiter
    from .rules import RuleTable


#: The kinds of value a shop setting may hold; ``hub shop add/set`` checks each value against its kind.
SETTING_KINDS = ("string", "duration", "integer", "number", "bool", "path", "url", "choice", "secret")


@dataclass(frozen=True, kw_only=True)
class SettingSpec:
    """One shop setting a platform needs (``hub shop add P NAME --set name=value``).

    ``kind`` is checked at ``hub shop add/set`` (``reply_within=banana`` is refused there, not at
    the next sync). Left ``None`` it is inferred: ``secret`` → secret, ``choices`` → choice, else
    from the default (``24h`` → duration, ``30`` → number, ``true`` → bool, ``https://…`` → url).
    """

    name: str  #: ``prefix.*`` declares a family of settings (``column.<field>``)
    help: str  #: one line for ``hub plugins`` and the shop form
    required: bool = False  #: ``hub shop add`` refuses a shop without it
    secret: bool = False  #: never logged or shown; may be given as ``env:VAR``
    default: str | None = None  #: filled in at ``hub shop add`` when not given
    choices: tuple[str, ...] = ()  #: the only values allowed (kind ``choice``)
    kind: str | None = None  #: one of :data:`SETTING_KINDS`; ``None``: inferred (see above)
    #: the smallest value allowed, written as the kind writes values (``1m``, ``0``)
    minimum: str | None = None
    #: the largest value allowed (``1d`` for a window the platform caps at one day)
    maximum: str | None = None
    #: kind ``path``: the file or folder must exist when the shop is added or changed
    must_exist: bool = False

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in SETTING_KINDS:
            known = ", ".join(SETTING_KINDS)
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {known}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"setting {self.name}: kind 'choice' needs choices")

    @property
    def value_kind(self) -> str:
        """The declared kind, or the one inferred from ``secret``, ``choices`` and ``default``."""
        if self.kind is not None:
            return self.kind
        if self.secret:
            return "secret"
        if self.choices:
            return "choice"
        from .settings import infer_kind

        return infer_kind(self.default)


#: The kinds of action parameter. ``amount`` is money: integer fen in the API and the CLI, typed in
#: 元 with two decimals on the workbench's forms (converted to fen once, by the form).
PARAM_TYPES = ("string", "text", "integer", "amount", "file", "boolean", "choice")


@dataclass(frozen=True, kw_only=True)
class Choice:
    """One value an action parameter may take, with what the agent reads (e.g. a return address)."""

    value: str
    label: str


@dataclass(frozen=True, kw_only=True)
class ParamSpec:
    """One parameter of an action (shown as a form field and in the API schema).

    ``label_zh``/``help_zh`` are what the workbench's Chinese form shows (``help`` is the English,
    for the API schema and the CLI). ``choices`` lists fixed values; ``dynamic_choices=True`` says
    the shop's own values (its return addresses, say) come from the adapter's optional
    ``param_choices(action, param)`` method: the form offers them as a select, and falls back to a
    text field when the adapter offers none (or cannot reach the platform).
    """

    name: str
    help: str
    type: str = "string"  #: one of PARAM_TYPES; ``amount`` is fen (元 on the forms)
    required: bool = False
    label_zh: str = ""  #: the field's Chinese label (default: the name)
    help_zh: str = ""  #: one line of Chinese help under the field
    choices: tuple[str, ...] = ()  #: fixed values (type ``choice``)
    dynamic_choices: bool = False  #: the adapter's ``param_choices`` offers the shop's values

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            known = ", ".join(PARAM_TYPES)
            raise ValueError(f"parameter {self.name}: type {self.type!r} is not one of {known}")


@dataclass(frozen=True, kw_only=True)
class Capability:
    """An action and whether this platform supports it; when not, ``reason`` says why."""

    action: str  #: agree_refund, refuse, agree_return, confirm_receipt, refuse_return, appeal, ...
    label: str
    label_zh: str
    supported: bool = True
    reason: str | None = None
    money_moves: bool = False  #: asks for confirmation on the page
    params: tuple[ParamSpec, ...] = ()
    api: str | None = None  #: the platform API it calls, for the docs


@dataclass(frozen=True, kw_only=True)
class ActionAvailability:
    """Whether an action can be taken on one case now; a disabled one says why."""

    action: str
    enabled: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResourceSpec:
    """One kind of record a platform syncs, and how its windows are cut.

    ``window`` is the largest span of modified time one fetch may cover (``None``: the resource is
    a snapshot, e.g. import files, fetched whole every sync). ``overlap`` is re-read at each
    window's start, ``lag`` keeps a window's end behind the platform's clock.
    """

    name: str
    window: timedelta | None
    overlap: timedelta = timedelta(minutes=5)
    lag: timedelta = timedelta(0)
    initial_lookback: timedelta = timedelta(days=30)


@dataclass(frozen=True, kw_only=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class FetchProblem:
    """Something a fetch could not read (a malformed import file), reported, never silently dropped."""

    source: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Page:
    records: Sequence[RawRecord]
    problems: Sequence[FetchProblem] = ()


@dataclass(frozen=True, kw_only=True)
class Hint:
    """A push message taken as a hint: re-fetch this record now. Polling stays the source of truth."""

    resource: str
    external_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ActionRequest:
    action: str
    case: AfterSale | None
    order: Order | None
    params: Mapping[str, Any]
    idempotency_key: str
    actor: str


class ActionOutcome(StrEnum):
    DONE = "done"
    NEEDS_VERIFICATION = "needs_verification"  #: e.g. Taobao's SMS code step
    FAILED = "failed"
    RECORDED = "recorded"  #: no platform API: hub recorded what the merchant did in the backend


@dataclass(frozen=True, kw_only=True)
class ActionResult:
    outcome: ActionOutcome
    message: str = ""
    response: Mapping[str, Any] = field(default_factory=dict)  #: the platform's answer, stored
    refreshed: Sequence[RawRecord] = ()  #: new versions of records the action changed


@runtime_checkable
class PlatformAdapter(Protocol):
    """One shop's connection to its platform. Made by the plugin's factory; must not do IO on creation."""

    def resources(self) -> Sequence[ResourceSpec]:
        """The record kinds this platform syncs, in the order they should be synced."""
        ...

    async def platform_now(self) -> datetime:
        """The platform's clock (the engine keeps windows behind it by each resource's ``lag``)."""
        ...

    def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        """Yield the raw pages of ``resource`` modified within ``window``, in the platform's page order."""
        ...

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        """Fetch one record now (after an action, or for a push hint). ``None`` if it is gone."""
        ...

    def map_record(self, raw: RawRecord) -> MappedRecord:
        """Map a raw record to an Order or AfterSale. Pure; raises :class:`hub.errors.MappingError`."""
        ...

    def rule_table(self) -> RuleTable:
        """The platform's deadline rules, as data."""
        ...

    def available_actions(self, case: AfterSale, order: Order | None) -> Sequence[ActionAvailability]:
        """Which actions this case allows now, and why not for the rest. Pure."""
        ...

    async def perform(self, request: ActionRequest) -> ActionResult:
        """Perform an action on the platform. Raise a PlatformError or ActionError when it fails."""
        ...

    async def fetch_hints(self) -> Sequence[Hint]:
        """Consume and confirm pending push messages; return them as hints. ``[]`` when none."""
        ...

    async def close(self) -> None:
        """Release what the adapter holds (never the shared HTTP session)."""
        ...


@runtime_checkable
class ChoiceSource(Protocol):
    """Optional on an adapter: the values a ``dynamic_choices`` parameter may take for this shop.

    ``param_choices("agree_return", "address_id")`` returns the shop's return addresses, for
    instance. Return ``[]`` for a parameter the adapter has no choices for; raise a
    :class:`hub.errors.PlatformError` when the platform cannot be asked (the form then falls back
    to a text field). The core caches the answer per shop for :data:`hub.choices.CHOICES_TTL`.
    """

    async def param_choices(self, action: str, param: str) -> Sequence[Choice]:
        """The values ``param`` of ``action`` may take for this shop, as the agent should read them."""
        ...
async def _no_keep_alive() -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class AdapterContext:
    """What the hub hands an adapter factory: shared resources the adapter must not create itself."""

    session: aiohttp.ClientSession  #: the hub's one HTTP session (never closed by the adapter)
    limiter: RateLimiter  #: this shop's rate limiter: ``await limiter.acquire(api_name)`` before each call
    now: Callable[[], datetime]  #: the hub's clock (tests move it)
    data_dir: Path  #: a folder for this shop's files (imports, evidence)
    #: how the adapter waits (a client's retry back-off); tests replace it to run without waiting
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    #: renew the shop's sync lease during one long step (a big import): call it every so often;
    #: it raises :class:`hub.sync.leases.LeaseLost` when another process took the shop over, which
    #: must stop the step. Outside a sync (and by default) it does nothing
    keep_alive: Callable[[], Awaitable[None]] = field(default=_no_keep_alive)


AdapterFactory = Callable[[Shop, AdapterContext], PlatformAdapter]


@dataclass(frozen=True, kw_only=True)
class PlatformInfo:
    """A platform as a plugin registers it."""

    id: str  #: lowercase, equals the plugin folder and entry-point name; stored in the database
    name: str
    name_zh: str
    settings: tuple[SettingSpec, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    #: API name -> calls/s, or (calls, per seconds) for a windowed quota; "*": the shop's total calls/s
    rate_limits: Mapping[str, float | tuple[int, float]] = field(default_factory=dict)
    #: which side of this platform's cases the merchant is on: ``merchant`` (the seller) on a
    #: sales platform, ``buyer`` on a sourcing one (17网). Parties in rule rows and next actions
    #: are named from the merchant's side already; this names the usual party of a state no row
    #: covers (the platform's "seller" is then the ``supplier``)
    merchant_side: Party = Party.SELLER
    docs: str | None = None  #: the plugin README

    def capability(self, action: str) -> Capability | None:
        return next((c for c in self.capabilities if c.action == action), None)

    @property
    def secret_settings(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings if s.secret)


@dataclass(frozen=True, kw_only=True)
class DemoShop:
    """A shop a sandbox offers for ``hub demo``: its name and settings pointing at the sandbox."""

    name: str
    settings: Mapping[str, str]


@runtime_checkable
class Sandbox(Protocol):
    """A fake platform a plugin provides for demos and tests, on loopback."""

    async def start(self, workdir: str) -> Sequence[DemoShop]:
        """Start serving (on 127.0.0.1, a free port) and return the demo shops to add."""
        ...

    async def stop(self) -> None:
        """Stop serving and release the port."""
        ...


SandboxFactory = Callable[[], Sandbox]
#: ``register(name, help)`` -> the ``argparse.ArgumentParser`` of the new ``hub NAME`` command
CommandRegister = Callable[[str, str], "argparse.ArgumentParser"]
PlatformRegister = Callable[[PlatformInfo, AdapterFactory], None]
SandboxRegister = Callable[[str, SandboxFactory], None]


@dataclass(frozen=True, kw_only=True)
class CaseContext:
    """What an insight hook sees of a case: the case, its order, and the orders linked to it."""

    shop: Shop
    case: AfterSale | None
    order: Order | None
    linked: Sequence[LinkedOrder] = ()
    now: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class LinkedOrder:
    """An order linked to the case's order (a 17网 purchase behind a sale, or the reverse)."""

    shop: Shop
    order: Order
    cases: Sequence[AfterSale] = ()
