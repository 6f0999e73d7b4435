"""The JOS protocol: the md5 signature, the envelope spellings, the error envelope, the sandbox's checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from hub_jd.client import JosClient, envelope_key, sign, timestamp
from hub_jd.sandbox import FakeJosServer

from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from hub.kit import Response
from hub.platform import AdapterContext
from hub.ratelimit import RateLimiter


def test_signature_matches_the_worked_example():
    """md5 over secret + sorted key/value pairs + secret, upper-case hex (computed by hand from the
    algorithm the official SDKs implement)."""
    business = (
        '{"buId":"10001","operatePin":"pin","operateNick":"nick","updateTimeBegin":"2024-01-01 00:00:00",'
        '"updateTimeEnd":"2024-01-01 01:00:00","pageNumber":1,"pageSize":50}'
    )
    params = {
        "method": "jingdong.asc.query.list",
        "app_key": "TESTAPPKEY",
        "access_token": "TESTTOKEN",
        "timestamp": "2024-01-02 03:04:05.000+0800",
        "v": "2.0",
        "format": "json",
        "360buy_param_json": business,
    }
    assert sign(params, "test_secret_123") == "21C51D0975C88E31FBCD03B005C72968"
    assert sign({**params, "sign": "ignored"}, "test_secret_123") == "21C51D0975C88E31FBCD03B005C72968"


def test_timestamp_is_beijing_time_with_offset():
    assert timestamp(datetime(2024, 1, 1, 19, 4, 5, tzinfo=UTC)) == "2024-01-02 03:04:05.000+0800"


def test_envelope_is_spelt_responce():
    assert envelope_key("jingdong.asc.query.list") == "jingdong_asc_query_list_responce"


@pytest.fixture
async def client(jd_server: FakeJosServer, tmp_path: Path):
    async with aiohttp.ClientSession() as session:
        ctx = AdapterContext(
            session=session, limiter=RateLimiter(1000), now=jd_server.clock.now, data_dir=tmp_path
        )
        yield JosClient(
            ctx,
            app_key=jd_server.app_key,
            app_secret=jd_server.app_secret,
            access_token=jd_server.access_token,
            gateway_url=jd_server.gateway_url,
            timeout=0.5,
        )


def _answer(body: object) -> Response:
    return Response(api="jingdong.asc.query.list", status=200, body=body)


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ({"code": "74", "zh_desc": "调用频率超过限制"}, PlatformRateLimitError),
        ({"code": "19", "zh_desc": "access_token 已过期"}, PlatformAuthError),
        ({"code": "25", "zh_desc": "签名无效"}, PlatformAuthError),
        ({"code": "66", "zh_desc": "系统繁忙"}, PlatformConnectionError),
        ({"code": "6", "zh_desc": "接口不存在"}, PlatformRequestError),
    ],
)
def test_error_response_is_classified(client: JosClient, error: dict[str, str], cls: type) -> None:
    found = client.classify(_answer({"error_response": error}))
    assert type(found) is cls
    assert f"code {error['code']}" in str(found)


def test_both_envelope_spellings_are_read(client: JosClient) -> None:
    assert client.classify(_answer({"jingdong_asc_query_list_responce": {"code": "0"}})) is None
    assert client.classify(_answer({"jingdong_asc_query_list_response": {"code": "0"}})) is None
    assert isinstance(client.classify(_answer({"something_else": {}})), PlatformConnectionError)


async def test_sandbox_refuses_a_wrong_signature(client: JosClient) -> None:
    client._secret = "not-the-secret"
    with pytest.raises(PlatformAuthError, match="签名无效"):
        await client.call("jingdong.asc.audit.count", {"buId": "10001"})


async def test_sandbox_throttles_and_the_client_says_so(client: JosClient, jd_server: FakeJosServer) -> None:
    jd_server.calls_per_second = 2
    await client.call("jingdong.asc.audit.count", {"buId": "10001"})
    await client.call("jingdong.asc.audit.count", {"buId": "10001"})
    with pytest.raises(PlatformRateLimitError):
        await client.call("jingdong.asc.audit.count", {"buId": "10001"})


async def test_a_timeout_is_a_connection_error_naming_the_api(
    client: JosClient, jd_server: FakeJosServer
) -> None:
    jd_server.inject("timeout", seconds=2)
    with pytest.raises(PlatformConnectionError, match=r"jingdong.asc.audit.count: no answer within 0.5 s"):
        await client.call("jingdong.asc.audit.count", {"buId": "10001"})


async def test_a_wrong_clock_is_corrected_from_jds_date(client: JosClient, jd_server: FakeJosServer) -> None:
    client.ctx = AdapterContext(
        session=client.ctx.session,
        limiter=client.ctx.limiter,
        now=lambda: datetime(2020, 1, 1, tzinfo=UTC),
        data_dir=client.ctx.data_dir,
    )
    inner = await client.call("jingdong.asc.audit.count", {"buId": "10001"})
    assert inner["code"] == "0"
    assert (
        abs((datetime(2020, 1, 1, tzinfo=UTC) + client.clock_offset) - jd_server.clock.now()).total_seconds()
        < 2
    )
