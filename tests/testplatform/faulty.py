"""A buggy plugin ("faulty"): the acme adapter with one bug chosen by the shop's ``fault`` setting.

Registered in-process by tests, or in a subprocess through ``HUB_PLUGINS=tests.testplatform.faulty``,
to prove a plugin's bug stays in its shop. The bugs are the ones plugins really have: a missing
method, a plain string where an enum belongs, a naive datetime, a bad setting value, an exception
while fetching, and mapped values the database would refuse (NUL bytes, negative or fractional
money, over-long ids).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from hub import hookimpl
from hub.domain import AfterSale, MappedRecord, OnExpiry, Party, RawRecord, Shop
from hub.platform import AdapterContext, Page, PlatformInfo, PlatformRegister, SettingSpec, Window
from hub.rules import Match, Rule, RuleTable

from .adapter import INFO as ACME_INFO
from .adapter import RULES, AcmeAdapter

FAULTS = (
    "none",
    "missing_method",  # platform_now is not there (AttributeError)
    "fetch_raises",  # fetch_window raises a KeyError half-way
    "bad_setting",  # page_size=abc: int() fails inside the adapter
    "enum_as_str",  # map_record gives status "requested" (a str), not AfterSaleStatus
    "naive_datetime",  # map_record gives a naive updated_at
    "naive_raw",  # the RawRecord's updated_at is naive
    "negative_fen",  # refund_fen < 0
    "float_fen",  # refund_fen 12.5
    "int_id",  # order_external_id an int
    "nul",  # a NUL byte in the reason (PostgreSQL refuses it in text and JSON)
    "long_id",  # a 200-character order id (longer than the column)
    "bad_fact",  # a fact a deadline rule counts from is not a time
    "nul_error",  # fetch_window raises an error whose text holds a NUL byte
    "close_raises",  # close() fails after a good sync
)

INFO = PlatformInfo(
    id="faulty",
    name="Faulty (test plugin with bugs)",
    name_zh="故障测试平台",
    settings=(
        *ACME_INFO.settings,
        SettingSpec(name="fault", help="which bug to have", default="none", choices=FAULTS),
        # declared as plain text on purpose: the adapter itself reads it as a number (its bug)
        SettingSpec(name="page_size", help="rows per page", default="40", kind="string"),
        SettingSpec(name="bad_ids", help="comma-separated case ids the mapping bug hits (empty: all)"),
    ),
    rate_limits=ACME_INFO.rate_limits,
)


class FaultyAdapter(AcmeAdapter):
    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        super().__init__(shop, ctx)
        self.fault = shop.settings.get("fault") or "none"
        self.bad_ids = {i for i in (shop.settings.get("bad_ids") or "").split(",") if i}

    def __getattribute__(self, name: str) -> Any:
        if name == "platform_now" and object.__getattribute__(self, "fault") == "missing_method":
            raise AttributeError(f"'FaultyAdapter' object has no attribute {name!r}")
        return object.__getattribute__(self, name)

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        if self.fault == "bad_setting":
            int(self.shop.settings.get("page_size") or "abc")
        pages = 0
        async for page in super().fetch_window(resource, window):
            pages += 1
            if self.fault == "fetch_raises" and resource == "case" and pages == 1:
                raise KeyError("total")
            if self.fault == "nul_error" and resource == "case":
                raise RuntimeError("row 3 holds a \x00 byte")
            if self.fault == "naive_raw" and resource == "case":
                page = Page(
                    records=[
                        dataclasses.replace(r, updated_at=r.updated_at.replace(tzinfo=None))
                        if r.updated_at is not None and self._hits(r.external_id)
                        else r
                        for r in page.records
                    ]
                )
            yield page

    def _hits(self, external_id: str) -> bool:
        return not self.bad_ids or external_id in self.bad_ids

    def map_record(self, raw: RawRecord) -> MappedRecord:
        mapped = super().map_record(raw)
        if not isinstance(mapped, AfterSale) or not self._hits(mapped.external_id):
            return mapped
        bug: dict[str, Any] = {}
        if self.fault == "enum_as_str":
            bug["status"] = mapped.status.value
        elif self.fault == "naive_datetime":
            bug["updated_at"] = mapped.updated_at.replace(tzinfo=None)
        elif self.fault == "negative_fen":
            bug["refund_fen"] = -mapped.refund_fen - 1
        elif self.fault == "float_fen":
            bug["refund_fen"] = mapped.refund_fen + 0.5
        elif self.fault == "int_id":
            bug["order_external_id"] = int(mapped.order_external_id.lstrip("O"))
        elif self.fault == "nul":
            bug["reason"] = f"{mapped.reason}\x00"
        elif self.fault == "long_id":
            bug["order_external_id"] = "O" * 200
        elif self.fault == "bad_fact":
            bug["facts"] = {"promised_at": "next tuesday"}
        return dataclasses.replace(mapped, **bug) if bug else mapped

    def rule_table(self) -> RuleTable:
        promise = Rule(
            id="faulty.promise",
            match=Match(statuses=frozenset({"requested"})),
            anchor="fact:promised_at",
            duration=timedelta(hours=24),
            party=Party.SELLER,
            action="reply",
            on_expiry=OnExpiry.OVERDUE,
            source="tests/testplatform/faulty.py (test rule)",
            summary_zh="承诺时间后 24 小时",
            summary_en="24 h after the promised time",
        )
        return dataclasses.replace(RULES, platform="faulty", rules=(*RULES.rules, promise))

    async def close(self) -> None:
        if self.fault == "close_raises":
            raise RuntimeError("connection pool already closed")


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register the faulty test platform."""
    register(INFO, FaultyAdapter)
