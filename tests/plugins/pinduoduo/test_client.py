"""The PDD protocol: the sign (official vector), envelopes, error classes, clock alignment."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from hub.clock import utcnow
from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformRateLimitError,
    PlatformRequestError,
    PlatformStopError,
)
from plugins.pinduoduo.client import PddClient, classify, param_text, sign
from plugins.pinduoduo.sandbox import FakePddServer

from .conftest import SpyLimiter


def test_official_sign_vector() -> None:
    """PDD's documented example signs to E4DE3ED21002510DED352819E7AE6775."""
    params = {
        "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
        "client_id": "1",
        "data_type": "XML",
        "order_status": "1",
        "page": "1",
        "page_size": "10",
        "timestamp": "1480411125",
        "type": "pdd.order.number.list.get",
    }
    assert sign(params, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"
    assert sign({**params, "sign": "ignored"}, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_object_params_are_json_before_signing() -> None:
    req = {"after_sales_id": 10, "order_sn": "180410-1", "operate_desc": "同意"}
    text = json.dumps(req, ensure_ascii=False, separators=(",", ":"))
    expected = hashlib.md5(f"s{'request'}{text}typepdd.refund.agrees".encode()).hexdigest().upper()
    assert param_text(req) == text
    assert sign({"type": "pdd.refund.agree", "request": req}, "s") == expected
    assert param_text(True) == "true" and param_text(False) == "false"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (52101, PlatformRateLimitError),
        (70031, PlatformRateLimitError),
        (70036, PlatformRateLimitError),
        (10019, PlatformAuthError),
        (20032, PlatformAuthError),
        (50000, PlatformConnectionError),
        (50001, PlatformConnectionError),
        (50002, PlatformConnectionError),
        (52001, PlatformConnectionError),
        (52002, PlatformConnectionError),
        (52102, PlatformConnectionError),
        (52103, PlatformConnectionError),
        (70032, PlatformStopError),
        (70033, PlatformStopError),
        (70034, PlatformStopError),
        (70035, PlatformStopError),
        (10000, PlatformRequestError),
        (10001, PlatformRequestError),
        (20004, PlatformRequestError),
        (20031, PlatformRequestError),
        (52004, PlatformRequestError),
    ],
)
def test_error_codes_classified_once(code: int, cls: type) -> None:
    err = classify(
        "pdd.x", {"error_code": code, "error_msg": "平台说明", "sub_msg": "细节", "sub_code": None}
    )
    assert type(err) is cls
    assert err.code == str(code) and "平台说明" in str(err) and "细节" in str(err)


def test_rate_limit_reads_stated_seconds() -> None:
    err = classify("pdd.x", {"error_code": 52101, "error_msg": "当前接口被限流", "sub_msg": "请2.5秒后重试"})
    assert isinstance(err, PlatformRateLimitError) and err.retry_after == 2.5
    bare = classify("pdd.x", {"error_code": 70031, "error_msg": "调用过于频繁"})
    assert isinstance(bare, PlatformRateLimitError) and bare.retry_after is None


def _client(server: FakePddServer, session: aiohttp.ClientSession, **kw: object) -> PddClient:
    args: dict = {
        "session": session,
        "limiter": SpyLimiter(),
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "access_token": server.access_token,
        "gateway_url": server.gateway_url,
        "now": server.clock.now,
        "timeout": 0.5,
    }
    args.update(kw)
    return PddClient(**args)


async def test_unwrapped_detail_and_wrapped_list(
    server: FakePddServer, session: aiohttp.ClientSession
) -> None:
    client = _client(server, session)
    case = next(iter(server.cases.values()))
    detail = await client.call(
        "pdd.refund.information.get", {"order_sn": case.order_sn, "after_sales_id": case.id}
    )
    assert detail["id"] == case.id and "after_sales_reason" in detail  # no *_response wrapper
    addresses = await client.call("pdd.refund.address.list.get")
    assert len(addresses["refund_address_list"]) == 2


def test_unwrap_variants() -> None:
    c = PddClient.__new__(PddClient)
    assert c._unwrap("pdd.refund.information.get", {"id": 1}) == {"id": 1}
    assert c._unwrap("pdd.some.new.api", {"some_new_response": {"a": 1}}) == {"a": 1}
    with pytest.raises(PlatformRequestError):
        c._unwrap(
            "pdd.refund.returngoods.agree", {"response": {"error_code": 10000, "error_msg": "参数错误"}}
        )
    with pytest.raises(PlatformConnectionError):
        c._unwrap("pdd.refund.list.increment.get", {"unexpected": 1, "other": 2})


async def test_every_call_asks_the_limiter(server: FakePddServer, session: aiohttp.ClientSession) -> None:
    limiter = SpyLimiter()
    client = _client(server, session, limiter=limiter)
    await client.call("pdd.time.get", auth=False)
    await client.call("pdd.refund.address.list.get")
    assert limiter.asked == ["pdd.time.get", "pdd.refund.address.list.get"]


async def test_secrets_are_checked_by_the_sandbox(
    server: FakePddServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PlatformRequestError, match="20004"):
        await _client(server, session, client_secret="wrong").call("pdd.refund.address.list.get")
    with pytest.raises(PlatformAuthError, match="20032"):
        await _client(server, session, access_token="wrong").call("pdd.refund.address.list.get")


async def test_timestamp_follows_pdd_clock(server: FakePddServer, session: aiohttp.ClientSession) -> None:
    """Our clock is 40 days off PDD's: the first call is refused (10001 timestamp), the Date header
    re-aligns the offset, and the retry passes."""
    client = _client(server, session, now=lambda: utcnow() + timedelta(days=40))
    body = await client.call("pdd.refund.address.list.get")
    assert body["refund_address_list"]
    calls = server.calls_to("pdd.refund.address.list.get")
    assert len(calls) == 2
    sent = int(calls[-1].params["timestamp"])
    assert abs(sent - server.clock.now().timestamp()) < 5


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        ("rate_limit", PlatformRateLimitError),
        ("auth_expired", PlatformAuthError),
        ("server_error", PlatformConnectionError),
        ("timeout", PlatformConnectionError),
        ("malformed", PlatformConnectionError),
        ("http_500", PlatformConnectionError),
        ("stop", PlatformStopError),
    ],
)
async def test_faults_become_hub_errors(
    server: FakePddServer, session: aiohttp.ClientSession, fault: str, cls: type
) -> None:
    server.inject(fault, seconds=0.8 if fault == "timeout" else 0.05)
    client = _client(server, session, timeout=0.3)
    with pytest.raises(cls) as info:
        await client.call("pdd.refund.address.list.get")
    assert type(info.value) is cls
    if fault == "rate_limit":
        assert isinstance(info.value, PlatformRateLimitError) and info.value.retry_after is not None


async def test_no_secret_in_logs(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    from structlog.testing import capture_logs

    server.inject("auth_expired")
    with capture_logs() as logs:
        with pytest.raises(PlatformAuthError):
            await _client(server, session).call("pdd.refund.address.list.get")
    text = json.dumps(logs, default=str)
    assert logs and server.client_secret not in text and server.access_token not in text
