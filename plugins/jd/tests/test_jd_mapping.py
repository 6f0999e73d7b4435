"""Service orders in the unified vocabulary: kinds, statuses, times, amounts, bad records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hub_jd.mapping import map_service

from hub.errors import MappingError

BASE = {
    "serviceId": 700000001,
    "orderId": 250000000001,
    "skuId": 100001,
    "customerExpect": 20,
    "serviceStatus": 10001,
    "afsApplyTime": "2026-11-30 10:00:00",
    "updateTime": "2026-11-30 11:00:00",
    "applyRefundSum": 0,
    "sysVersion": 3,
}


def case(**changes):
    return map_service({**BASE, **changes})


def test_an_exchange_waiting_for_review():
    c = case()
    assert (c.kind.value, c.status.value, c.awaiting.value) == ("exchange", "requested", "merchant")
    assert c.external_id == "700000001" and c.order_external_id == "250000000001"
    assert c.platform_status == "10001 待审核" and c.version == 3
    assert c.updated_at == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Beijing time → UTC


@pytest.mark.parametrize(
    ("expect", "status", "waybill", "unified"),
    [
        (20, 10005, "", "awaiting_return"),
        (20, 10005, "JDV1", "return_shipped"),
        (20, 10007, "", "awaiting_reship"),
        (10, 10007, "", "return_shipped"),
        (20, 10009, "", "reshipped"),
        (10, 10041, "", "refunding"),
        (10, 10004, "", "closed"),
        (10, 10011, "", "closed"),
        (20, 10010, "", "succeeded"),
        (30, 12000, "", "awaiting_reship"),
    ],
)
def test_statuses(expect, status, waybill, unified):
    assert case(customerExpect=expect, serviceStatus=status, expressCode=waybill).status.value == unified


def test_unknown_codes_are_kept_raw_and_warned():
    c = case(serviceStatus=19999, customerExpect=999)
    assert c.status.value == "requested" and c.platform_status == "19999"
    assert len(c.warnings) == 2


def test_epoch_milliseconds_are_read_too():
    assert case(updateTime=1764471600000).updated_at == datetime(2025, 11, 30, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("applyRefundSum", "12.5元"),
        ("updateTime", "yesterday"),
        ("serviceStatus", None),
        ("updateTime", None),
    ],
)
def test_a_bad_record_names_its_field(field, value):
    with pytest.raises(MappingError, match=field):
        case(**{field: value})
