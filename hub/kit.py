"""The plugin kit: what every platform plugin would otherwise write for itself.

- :class:`BaseAdapter`: the :class:`hub.platform.PlatformAdapter` defaults. A plugin sets
  ``info`` and ``rules`` (module constants) and writes ``resources``, ``platform_now``,
  ``fetch_window``, ``fetch_one``, ``map_record`` and, when it has actions, ``perform`` and
  ``state_reason``. ``fetch_hints`` (none), ``close`` (nothing held), ``rule_table`` and
  ``available_actions`` (through :func:`hub.rules.action_availability`) are given.
- :class:`PlatformClient`: one HTTP request the way the core wants it: the shop's rate limiter,
  a timeout, retries of transport failures on reads, and transport errors (timeouts, refused
  connections, 429, 5xx, unreadable answers) mapped to :mod:`hub.errors`. A plugin overrides
  :meth:`PlatformClient.classify` for its own envelope's error codes only.
- :func:`paginate`: page through a list, forward or from the last page back.

The core (not the plugin) gates actions on closed cases and re-fetches a case after an action
that reports no refreshed records (:mod:`hub.actions`).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import aiohttp

from .domain import AfterSale, Order, Shop
from .errors import (
    ActionError,
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from .platform import (
    ActionAvailability,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Hint,
    PlatformInfo,
)
from .rules import RuleTable, action_availability
from .settings import ShopSettings

T = TypeVar("T")


class BaseAdapter:
    """Defaults of the adapter contract. Subclass it and set the two class attributes::

        class JdAdapter(BaseAdapter):
            info = INFO      # the PlatformInfo the plugin registers
            rules = RULES    # the platform's RuleTable (a module constant)

    ``self.shop``, ``self.ctx`` and ``self.config`` (the settings read typed: ``self.config.duration(name)``)
    are set by ``__init__``; a subclass that needs more calls ``super().__init__(shop, ctx)``.
    """

    info: ClassVar[PlatformInfo]
    rules: ClassVar[RuleTable]

    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        self.shop = shop
        self.ctx = ctx
        self.config = ShopSettings(self.info, shop.settings, shop=shop.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shop={self.shop.name!r})"

    def rule_table(self) -> RuleTable:
        """The platform's rule table (the class's ``rules``)."""
        return self.rules

    def state_reason(self, action: str, case: AfterSale, order: Order | None) -> str | None:
        """Why the case's platform state forbids ``action`` now, or ``None`` when it allows it.

        Override for the platform's own state checks; constraint rows of the rule table and
        unsupported capabilities are already handled, and the core disables every platform action
        on a closed or succeeded case."""
        return None

    def available_actions(self, case: AfterSale, order: Order | None) -> Sequence[ActionAvailability]:
        """Every capability, enabled or with its reason (capability, :meth:`state_reason`, constraints)."""
        return action_availability(
            self.info.capabilities, case, self.rules, lambda action: self.state_reason(action, case, order)
        )

    async def perform(self, request: ActionRequest) -> ActionResult:
        """No platform actions by default."""
        raise ActionError(f"{self.info.id} has no action {request.action!r}")

    async def fetch_hints(self) -> Sequence[Hint]:
        """No push channel by default: polling is the source of truth."""
        return []

    async def close(self) -> None:
        """Nothing to release by default (the HTTP session is the hub's)."""
        return None


@dataclass(frozen=True, kw_only=True)
class Response:
    """One platform answer as :meth:`PlatformClient.request` hands it to :meth:`PlatformClient.classify`."""

    api: str  #: the API name the call was made for (rate limits and messages use it)
    status: int  #: the HTTP status
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""  #: the body as received
    body: Any = None  #: the body parsed as JSON, or ``None`` when it is not JSON


class PlatformClient:
    """Base of a platform's HTTP client: rate limiting, timeouts, retries and transport errors.

    :param ctx: the adapter context (the hub's session, the shop's limiter, ``sleep``).
    :param timeout: seconds one request may take before it counts as a connection error.
    :param retries: how many times a *read* (``idempotent=True``) is re-sent after a connection
        error before the error reaches the sync engine (which retries the whole window). Writes
        are never re-sent: the core's idempotency key guards them.
    :param retry_wait: seconds before the first re-send, doubled each time.
    """

    platform: ClassVar[str] = ""  #: the platform id, put on every error

    def __init__(
        self, ctx: AdapterContext, *, timeout: float = 30.0, retries: int = 0, retry_wait: float = 0.5
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.ctx = ctx
        self.timeout = timeout
        self.retries = retries
        self.retry_wait = retry_wait

    async def request(
        self,
        api: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Response:
        """Send one request after the rate limiter allows ``api``; return the classified answer.

        Raises :class:`hub.errors.PlatformError` subclasses only: never a bare ``aiohttp`` or
        ``TimeoutError``. Messages name the API, never the parameters (they hold secrets).
        """
        attempt = 0
        while True:
            try:
                response = await self._send(api, method, url, params, data, json_body, headers)
                error = self.classify(response)
                if error is not None:
                    raise error
                return response
            except PlatformRateLimitError:
                raise  # the engine waits the platform's retry_after
            except PlatformConnectionError:
                if not idempotent or attempt >= self.retries:
                    raise
            await self.ctx.sleep(self.retry_wait * (2**attempt))
            attempt += 1

    async def _send(
        self,
        api: str,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Any,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> Response:
        await self.ctx.limiter.acquire(api)
        try:
            async with self.ctx.session.request(
                method,
                url,
                params=params,
                data=data,
                json=json_body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                text = await resp.text()
                status, resp_headers = resp.status, dict(resp.headers)
        except TimeoutError as err:
            raise PlatformConnectionError(
                f"{self.platform} {api}: no answer within {self.timeout:g} s", platform=self.platform
            ) from err
        except aiohttp.ClientError as err:
            raise PlatformConnectionError(
                f"{self.platform} {api}: cannot reach the platform: {type(err).__name__}: {err}",
                platform=self.platform,
            ) from err
        body: Any = None
        if text.strip()[:1] in ("{", "["):
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        return Response(api=api, status=status, headers=resp_headers, text=text, body=body)

    def classify(self, response: Response) -> PlatformError | None:
        """The error this answer means, or ``None`` for a usable answer.

        The default reads HTTP alone: 429 → rate limit (``Retry-After`` honoured), 401/403 →
        credentials, 5xx → connection, other 4xx → request, a 2xx body that is not JSON →
        connection (an unreadable answer is transient). Override it for the platform's own error
        envelope and call ``super().classify(response)`` for the rest.
        """
        where = f"{self.platform} {response.api}"
        if response.status == 429:
            after = response.headers.get("Retry-After")
            wait = float(after) if after and after.replace(".", "", 1).isdigit() else None
            return PlatformRateLimitError(f"{where}: throttled", retry_after=wait, platform=self.platform)
        if response.status in (401, 403):
            return PlatformAuthError(f"{where}: credentials refused", platform=self.platform)
        if response.status >= 500:
            return PlatformConnectionError(f"{where}: server error {response.status}", platform=self.platform)
        if response.status >= 400:
            return PlatformRequestError(f"{where}: refused ({response.status})", platform=self.platform)
        if response.body is None:
            return PlatformConnectionError(f"{where}: unreadable answer", platform=self.platform)
        return None


@dataclass(frozen=True, kw_only=True)
class PageSlice(Generic[T]):
    """One page as the platform answered it: its items and what it says about the rest."""

    items: Sequence[T]
    total: int | None = None  #: the count of all items, when the platform gives it
    has_next: bool | None = None  #: whether more pages follow, when the platform says so


async def paginate(
    fetch: Callable[[int], Awaitable[PageSlice[T]]], *, page_size: int, last_first: bool = False
) -> AsyncIterator[Sequence[T]]:
    """Yield the items of every page ``fetch(page_no)`` returns (pages count from 1).

    Forward (default): page 1, 2, … while the platform says there is more (``has_next``, or
    ``total`` not yet reached, or a full page when it says neither). ``last_first=True`` (TOP and
    PDD ask for it: rows modified during the read move to the end, never past the reader): page 1
    only learns ``total``, then pages N..1 are read, page 1 again last. Without a ``total`` it can
    only go forward.
    """
    if page_size <= 0:
        raise ValueError("page_size must be positive")
    first = await fetch(1)
    if last_first and first.total is not None:
        pages = max(1, math.ceil(first.total / page_size))
        if pages == 1:
            yield first.items
            return
        for page_no in range(pages, 0, -1):
            yield (await fetch(page_no)).items
        return
    page, page_no = first, 1
    while True:
        yield page.items
        if page.has_next is not None:
            more = page.has_next
        elif page.total is not None:
            more = page_no * page_size < page.total
        else:
            more = len(page.items) >= page_size
        if not more or not page.items:
            return
        page_no += 1
        page = await fetch(page_no)


__all__ = ["BaseAdapter", "PageSlice", "PlatformClient", "Response", "paginate"]
