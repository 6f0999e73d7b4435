"""The write path's fast paths give exactly the answers of the generic code they shortcut.

``check_mapped`` first asks a per-type predicate and runs the field-naming checker only when it
says no; ``next_action`` matches rows once per shape of subject; ``bulk`` builds parameter tuples
with a generated function. Each is compared here with the generic code on sound and broken input.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Evidence,
    EvidenceKind,
    OnExpiry,
    Order,
    OrderRole,
    OrderStatus,
    Party,
    PlatformDeadline,
)
from hub.errors import MappingError
from hub.rules import Match, Rule, RuleTable, next_action
from hub.store import bulk
from hub.store.upsert import CASES
from hub.store.validate import _after_sale_ok, _Checker, check_mapped

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


def _case(**changes: Any) -> AfterSale:
    base = AfterSale(
        external_id="R1",
        order_external_id="O1",
        line_external_id="L1",
        kind=AfterSaleKind.REFUND_ONLY,
        status=AfterSaleStatus.REQUESTED,
        platform_status="WAIT_SELLER_AGREE",
        created_at=T0,
        updated_at=T0 + timedelta(hours=1),
        reason="七天无理由",
        refund_fen=1200,
        paid_fen=1500,
        buyer="buyer",
        version=3,
        facts={"opened": "2026-03-01T04:00:00+00:00", "n": 1, "nested": {"a": [1, "x", None]}},
    )
    return dataclasses.replace(base, **changes)


SOUND = [
    _case(),
    _case(line_external_id=None, paid_fen=None, buyer=None, version=None, facts={}),
    _case(platform_deadline=PlatformDeadline(due_at=T0, action="reply", party=Party.MERCHANT)),
    _case(dispute=Dispute(kind=DisputeKind.INTERVENTION, status=DisputeStatus.OPEN, updated_at=T0)),
    _case(warnings=("unknown status",), facts={"opened": T0, "ok": True, "f": 1.5}),
]
BROKEN = [
    _case(external_id=""),
    _case(external_id="  "),
    _case(external_id="x" * 500),
    _case(external_id=5),
    _case(order_external_id="O\x00"),
    _case(line_external_id=""),
    _case(kind="refund_only"),
    _case(status="requested"),
    _case(platform_status=None),
    _case(platform_status="s" * 500),
    _case(created_at=datetime(2026, 3, 1)),
    _case(updated_at=None),
    _case(refund_fen=-1),
    _case(refund_fen=True),
    _case(refund_fen=1.5),
    _case(refund_fen=2**64),
    _case(paid_fen="12"),
    _case(buyer="b" * 500),
    _case(description="a\x00b"),
    _case(version=True),
    _case(version=2**70),
    _case(reason=3),
    _case(facts={"k\x00": 1}),
    _case(facts={"k": "v\x00"}),
    _case(facts={"k": [{"x": "\x00"}]}),
    _case(facts={"k": math.nan}),
    _case(facts={"opened": "yesterday"}),
    _case(facts={"opened": "2026-03-01T04:00:00"}),
    _case(facts={"opened": datetime(2026, 3, 1)}),
    _case(facts=[("a", 1)]),
    _case(warnings="one"),
    _case(warnings=("ok", None)),
    _case(platform_deadline=PlatformDeadline(due_at=datetime(2026, 3, 1))),
    _case(platform_deadline=PlatformDeadline(due_at=T0, on_expiry="auto_agree")),
    _case(platform_deadline=T0),
    _case(dispute=Dispute(kind=DisputeKind.INTERVENTION, status="open")),
    _case(dispute=Dispute(kind=DisputeKind.INTERVENTION, status=DisputeStatus.OPEN, appeal_open=1)),
    _case(
        dispute=Dispute(
            kind=DisputeKind.INTERVENTION,
            status=DisputeStatus.OPEN,
            evidence=(Evidence(kind=EvidenceKind.PHOTO, name="a", description="b", size=-1),),
        )
    ),
]


def _generic(obj: AfterSale, facts: frozenset[str]) -> str | None:
    try:
        _Checker(facts).after_sale(obj)
    except MappingError as err:
        return f"{err.field}: {err}"
    return None


@pytest.mark.parametrize("case", SOUND)
def test_sound_cases_take_the_fast_path(case: AfterSale) -> None:
    facts = frozenset({"opened"})
    assert _generic(case, facts) is None
    assert _after_sale_ok(case, facts)
    assert check_mapped(case, facts) is case


@pytest.mark.parametrize("case", BROKEN)
def test_broken_cases_get_the_checkers_error(case: AfterSale) -> None:
    facts = frozenset({"opened"})
    expected = _generic(case, facts)
    assert expected is not None  # the list holds only broken cases
    assert not _after_sale_ok(case, facts)
    with pytest.raises(MappingError) as err:
        check_mapped(case, facts)
    assert f"{err.value.field}: {err.value}" == expected


TABLE = RuleTable(
    platform="t",
    rules=(
        Rule(
            id="t.reply",
            match=Match(statuses=frozenset({"requested"}), facts={"no_reason": True}),
            anchor="created_at",
            duration=timedelta(hours=48),
            party=Party.MERCHANT,
            action="reply",
            on_expiry=OnExpiry.AUTO_AGREE,
            source="s",
            summary_zh="z",
            summary_en="e",
        ),
        Rule(
            id="t.reply_slow",
            match=Match(statuses=frozenset({"requested"}), platform_statuses=frozenset({"SLOW"})),
            anchor=("fact:opened", "status_since"),
            duration=timedelta(days=3),
            counting="natural_days",
            party=Party.MERCHANT,
            action="reply",
            on_expiry=OnExpiry.AUTO_AGREE,
            source="s",
            summary_zh="z",
            summary_en="e",
            setting="reply_days",
        ),
        Rule(
            id="t.evidence",
            match=Match(dispute_statuses=frozenset({"evidence_required"})),
            anchor="status_since",
            duration=timedelta(days=1),
            party=Party.MERCHANT,
            action="submit_evidence",
            on_expiry=OnExpiry.AUTO_REFUND,
            source="s",
            summary_zh="z",
            summary_en="e",
        ),
        Rule(
            id="t.wait",
            match=Match(statuses=frozenset({"awaiting_return"}), kinds=frozenset({"return_refund"})),
            party=Party.BUYER,
            action="ship_return",
            on_expiry=OnExpiry.NOTHING,
            source="s",
            summary_zh="z",
            summary_en="e",
            no_clock_reason="r",
            no_clock_reason_zh="r",
        ),
        Rule(
            id="t.order",
            match=Match(subject="order", statuses=frozenset({"paid"})),
            anchor="paid_at",
            duration=timedelta(hours=48),
            party=Party.MERCHANT,
            action="ship",
            on_expiry=OnExpiry.PENALTY,
            source="s",
            summary_zh="z",
            summary_en="e",
        ),
    ),
)


def _subjects() -> list[AfterSale | Order]:
    out: list[AfterSale | Order] = []
    for status in (
        AfterSaleStatus.REQUESTED,
        AfterSaleStatus.AWAITING_RETURN,
        AfterSaleStatus.PLATFORM_REVIEW,
    ):
        for kind in (AfterSaleKind.REFUND_ONLY, AfterSaleKind.RETURN_REFUND):
            for pstatus in ("SLOW", "FAST"):
                for facts in (
                    {},
                    {"no_reason": True},
                    {"no_reason": 0, "opened": "2026-03-02T01:00:00+08:00"},
                ):
                    for dispute in (None, DisputeStatus.EVIDENCE_REQUIRED, DisputeStatus.OPEN):
                        out.append(
                            _case(
                                status=status,
                                kind=kind,
                                platform_status=pstatus,
                                facts=facts,
                                dispute=Dispute(kind=DisputeKind.INTERVENTION, status=dispute)
                                if dispute
                                else None,
                            )
                        )
    out.append(_case(facts={"no_reason": ["unhashable"]}))
    order = Order(
        external_id="O1",
        role=OrderRole.SALE,
        status=OrderStatus.PAID,
        platform_status="PAID",
        created_at=T0,
        updated_at=T0,
        paid_at=T0,
        total_fen=100,
        paid_fen=100,
    )
    out += [order, dataclasses.replace(order, status=OrderStatus.SHIPPED)]
    return out


@pytest.mark.parametrize("settings", [{}, {"reply_days": "5d"}])
def test_next_action_per_shape_matches_every_row_walk(settings: dict[str, str]) -> None:
    for subject in _subjects() * 2:  # the second round answers from the shape cache
        direct = [r for r in TABLE.rules if r.match.matches(subject)]
        assert TABLE.matching(subject) == direct
        got = next_action(subject, TABLE, status_since=T0, settings=settings)
        again = next_action(subject, TABLE, status_since=T0, settings=settings)
        assert got == again
        if got is not None and got.rule_id:
            rule = TABLE.rule(got.rule_id)
            assert rule in direct or subject.platform_deadline is not None
            assert (got.party, got.action, got.summary_en) == (rule.party, rule.action, rule.summary_en)


def test_generated_params_equal_the_column_by_column_conversion() -> None:
    cols = ["shop_id", "external_id", "created_at", "is_open", "data", "work_due_at", "deadline_via"]
    stmt = bulk.Statement(CASES, cols, "sqlite")
    rows = [
        {
            "shop_id": 1,
            "external_id": f"R{i}",
            "created_at": T0 + timedelta(seconds=i),
            "is_open": i % 2 == 0,
            "data": {"a": i},
            "work_due_at": None if i % 3 else T0,
            "deadline_via": None,
            "_id": i,
        }
        for i in range(5)
    ]
    expected = [
        (
            *(
                None if row[c] is None else (f(row[c]) if f else row[c])
                for c, f in zip(cols, stmt.converters, strict=True)
            ),
            row["_id"],
        )
        for row in rows
    ]
    assert stmt.params(rows, extra="_id") == expected
    assert expected[0][2] == "2026-03-01 04:00:00.000000"
    assert expected[1][3] == 0 and expected[0][4] == '{"a":0}'


async def test_gc_paused_restores_the_collector() -> None:
    @bulk.gc_paused
    async def inner() -> bool:
        return gc.isenabled()

    assert gc.isenabled()
    assert await inner() is False
    assert gc.isenabled()
    gc.disable()
    try:
        assert await inner() is False
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
