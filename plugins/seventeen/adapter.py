"""The 17网 adapter: import files and the ledger in, recorded manual steps out.

There is no API (no SDK, no documentation; only private site endpoints). Fetching reads the watched
import folder whole on every sync (both resources are snapshots: ``window=None``) and merges the
ledger of steps the merchant reported. ``perform`` checks a step against the case's state, appends
it to the ledger and returns the record as it now reads, with a later ``updated_at``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from hub.clock import ensure_utc, parse_iso
from hub.domain import AfterSale, MappedRecord, Order, RawRecord, Shop
from hub.errors import ActionError
from hub.kit import BaseAdapter
from hub.platform import (
    ActionAvailability,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    FetchProblem,
    Page,
    ResourceSpec,
    Window,
)
from hub.rules import action_availability

from . import snapshot as snap
from .chain import SALE_SHIP_SETTING, TRANSIT_SETTING
from .importer import KeepAlive
from .info import CAPABILITIES, INFO
from .ledger import LEDGER_NAME, Ledger
from .mapping import map_raw, order_facts_for_steps, return_state
from .rules import TABLE, check_duration_settings
from .state import MANUAL_ACTIONS, OrderFacts, ReturnState, check_step, state_from_case

log = structlog.get_logger("hub.plugins.seventeen")

PAGE_SIZE = 500


class SeventeenAdapter(BaseAdapter):
    info = INFO
    rules = TABLE

    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        self.shop = shop
        self.ctx = ctx
        self.settings: Mapping[str, str] = shop.settings
        configured = (shop.settings.get("import_dir") or "").strip()
        self.import_dir = Path(configured).expanduser() if configured else ctx.data_dir / "imports"
        self.ledger = Ledger(ctx.data_dir / LEDGER_NAME)

    # -- sync -------------------------------------------------------------------------------
    def resources(self) -> Sequence[ResourceSpec]:
        # a clock setting the rules cannot read fails this shop's sync, naming it
        check_duration_settings(self.settings, {TRANSIT_SETTING: False, SALE_SHIP_SETTING: False})
        return (
            ResourceSpec(name=snap.PURCHASE, window=None, overlap=timedelta(0)),
            ResourceSpec(name=snap.PURCHASE_RETURN, window=None, overlap=timedelta(0)),
        )

    async def platform_now(self) -> datetime:
        return ensure_utc(self.ctx.now())

    def _load(self) -> snap.Snapshot:
        self.import_dir.mkdir(parents=True, exist_ok=True)
        return snap.load(self.import_dir, self.ledger, self.settings)

    async def snapshot(self) -> snap.Snapshot:
        return await asyncio.to_thread(self._load)

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        """Every record of ``resource`` the folder and ledger hold (a snapshot: the window is not used).

        Malformed files come back as problems on the ``purchase`` pages only, so each is reported
        once per sync; the other files are imported all the same.
        """
        tick = self._keep_alive()
        records, problems = await asyncio.to_thread(self._open, resource, None, tick)
        problems = problems if resource == snap.PURCHASE else []
        for problem in problems:
            log.warning("import_problem", shop=self.shop.name, source=problem.source, message=problem.message)
        first = True
        while True:
            # the files are read as the pages are taken (in a thread: file reads block)
            batch = await asyncio.to_thread(_take, records, PAGE_SIZE)
            if not batch and not first:
                return
            yield Page(records=batch, problems=problems if first else [])
            first = False
            if len(batch) < PAGE_SIZE:
                return

    def _open(
        self, resource: str, only: Collection[str] | None, tick: KeepAlive | None = None
    ) -> tuple[Iterator[RawRecord], list[FetchProblem]]:
        self.import_dir.mkdir(parents=True, exist_ok=True)
        return snap.open_stream(self.import_dir, self.ledger, self.settings, resource, only, tick)

    def _keep_alive(self) -> KeepAlive:
        """The lease renewal of a sync's import: the files are read in threads, which ask the
        event loop to run ``ctx.keep_alive`` and wait for it (a lost lease raises there)."""
        loop = asyncio.get_running_loop()

        async def keep_alive() -> None:
            await self.ctx.keep_alive()

        def renew() -> None:
            asyncio.run_coroutine_threadsafe(keep_alive(), loop).result()

        return KeepAlive(renew, self.ctx.now)

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        records, _problems = await asyncio.to_thread(self._open, resource, {external_id})
        return await asyncio.to_thread(next, records, None)

    def map_record(self, raw: RawRecord) -> MappedRecord:
        return map_raw(raw.resource, raw.payload, raw.updated_at)

    # -- actions ----------------------------------------------------------------------------
    def available_actions(self, case: AfterSale, order: Order | None) -> Sequence[ActionAvailability]:
        state = state_from_case(case.facts, case.platform_status, case.return_waybill)
        facts = _order_facts(order, case)
        now = ensure_utc(self.ctx.now())
        return action_availability(
            CAPABILITIES, case, TABLE, lambda action: check_step(action, state, facts, {}, now)
        )

    async def perform(self, request: ActionRequest) -> ActionResult:
        action = request.action
        if action not in MANUAL_ACTIONS:
            cap = next((c for c in CAPABILITIES if c.action == action), None)
            raise ActionError(f"17网 cannot {action}: {cap.reason if cap else 'no such action'}")
        done = await asyncio.to_thread(self.ledger.find, request.idempotency_key)
        current = await self.snapshot()
        if done is not None:  # the core never repeats a key; a retried CLI call may
            record = current.records(done["resource"]).get(done["external_id"])
            return ActionResult(
                outcome=ActionOutcome.RECORDED,
                message="already recorded",
                response={"ledger_entry": done},
                refreshed=[record] if record else [],
            )
        params = _clean_params(action, request.params)
        now = ensure_utc(self.ctx.now())
        order_id = (request.order.external_id if request.order else None) or (
            request.case.order_external_id if request.case else None
        )
        order_payload: Mapping[str, Any] | None
        state: ReturnState | None
        if action == "extend_receipt":
            if not order_id or order_id not in current.purchases:
                raise ActionError(f"no 17网 order {order_id!r} in the imported exports")
            target_resource, target_id = snap.PURCHASE, order_id
            order_payload = current.purchases[order_id].payload
            state = None
        else:
            target_resource = snap.PURCHASE_RETURN
            target_id = request.case.external_id if request.case else str(params.get("return_id") or "")
            existing = current.returns.get(target_id) if target_id else None
            if existing is None and request.case is not None:
                raise ActionError(f"17网 return {target_id!r} is not in the imports or the ledger")
            if existing is None:
                if action not in ("apply_return", "daifa_signed"):
                    raise ActionError(f"{action} needs a 17网 return case: apply for the return first")
                if not order_id or order_id not in current.purchases:
                    raise ActionError(f"no 17网 order {order_id!r} in the imported exports")
                if not target_id:
                    n = 1 + sum(1 for r in current.returns.values() if r.payload.get("order_id") == order_id)
                    target_id = f"{order_id}-R{n}"
                    while target_id in current.returns:
                        n += 1
                        target_id = f"{order_id}-R{n}"
                order_payload = current.purchases[order_id].payload
                state = None
            else:
                order_id = existing.payload.get("order_id") or order_id
                order_payload = existing.payload.get("order") or (
                    current.purchases[order_id].payload if order_id in current.purchases else None
                )
                state = return_state(existing.payload)
        reason = check_step(action, state, order_facts_for_steps(order_payload), params, now)
        if reason:
            raise ActionError(reason)
        previous = current.records(target_resource).get(target_id)
        at = now
        if previous is not None and previous.updated_at is not None and at <= previous.updated_at:
            at = previous.updated_at + timedelta(seconds=1)  # a step is newer than what it changes
        entry = await asyncio.to_thread(
            self.ledger.append,
            {
                "at": at.isoformat(),
                "action": action,
                "resource": target_resource,
                "external_id": target_id,
                "order_id": order_id,
                "params": params,
                "actor": request.actor,
                "key": request.idempotency_key,
            },
        )
        log.info("step_recorded", shop=self.shop.name, action=action, target=target_id, actor=request.actor)
        after = await self.snapshot()
        refreshed = [after.records(target_resource)[target_id]]
        if target_resource == snap.PURCHASE:  # the returns embed their order: they changed too
            refreshed += [r for r in after.returns.values() if r.payload.get("order_id") == target_id]
        return ActionResult(
            outcome=ActionOutcome.RECORDED,
            message=f"recorded {action} for 17网 {target_id}: kept in the shop's ledger (17网 has no API)",
            response={"ledger_entry": entry},
            refreshed=refreshed,
        )


def _order_facts(order: Order | None, case: AfterSale) -> OrderFacts | None:
    """Order facts from the mapped order, or from what the case carries of it."""
    if order is not None:
        auto = order.facts.get("auto_confirm_at")
        return OrderFacts(
            order_id=order.external_id,
            status=order.status.value,
            outbound_waybill=order.waybill,
            shipped_at=order.shipped_at,
            auto_confirm_at=datetime.fromisoformat(auto) if auto else None,
            receipt_extended=bool(order.facts.get("receipt_extended")),
        )
    f = case.facts
    if not f.get("order_status"):
        return None
    auto = f.get("auto_confirm_at")
    return OrderFacts(
        order_id=case.order_external_id,
        status=str(f["order_status"]),
        outbound_waybill=f.get("outbound_waybill"),
        auto_confirm_at=datetime.fromisoformat(auto) if auto else None,
        receipt_extended=bool(f.get("receipt_extended")),
    )


def _clean_params(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The step's parameters, checked for form, JSON-safe, as the ledger keeps them."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[key] = value.strip() if isinstance(value, str) else value
    if action == "daifa_agreed" and not out.get("return_address"):
        raise ActionError("daifa_agreed needs return_address: the address 代发 gave for the return")
    if action == "enter_return_waybill":
        if not out.get("waybill"):
            raise ActionError("enter_return_waybill needs waybill: the return parcel's own tracking number")
        out["waybill"] = str(out["waybill"])
        out["mid_way_recall"] = _truthy(out.get("mid_way_recall"))
    if action == "stall_result":
        if "accepted" not in out:
            raise ActionError("stall_result needs accepted: did the stall take the goods back?")
        out["accepted"] = _truthy(out["accepted"])
        if out["accepted"]:
            try:
                out["refund_fen"] = int(out["refund_fen"])
            except (KeyError, TypeError, ValueError):
                raise ActionError(
                    "an accepted return needs refund_fen: the amount refunded, in fen"
                ) from None
            if out["refund_fen"] < 0:
                raise ActionError("refund_fen cannot be negative")
    if action == "extend_receipt":
        days = out.get("days", 7)
        if not str(days).isdigit() or not 1 <= int(days) <= 7:
            raise ActionError(
                f"days must be 1 to 7: 17网 extends receipt at most 7 days, once (got {days!r})"
            )
        out["days"] = int(days)
    if action == "daifa_signed" and "signed_at" in out:
        try:
            out["signed_at"] = parse_iso(str(out["signed_at"])).isoformat()
        except ValueError as err:
            raise ActionError(f"signed_at: {err}") from None
    if action == "apply_return" and "quantity" in out:
        if not str(out["quantity"]).isdigit() or int(out["quantity"]) <= 0:
            raise ActionError(f"quantity must be a positive number of pieces, got {out['quantity']!r}")
        out["quantity"] = str(int(out["quantity"]))
    return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "是", "accepted", "on")
    return bool(value)


def _take(records: Iterator[RawRecord], n: int) -> list[RawRecord]:
    return list(itertools.islice(records, n))


def factory(shop: Shop, ctx: AdapterContext) -> SeventeenAdapter:
    """The hub's adapter factory: no IO here (folders are made on the first fetch)."""
    return SeventeenAdapter(shop, ctx)
