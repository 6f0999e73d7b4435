"""The TOP protocol: signature vectors, envelopes and error classification (TOP's documentation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from plugins.taobao.adapter import TaobaoAdapter
from plugins.taobao.client import ban_seconds, classify_error, response_key, sign, unwrap_list
from plugins.taobao.sandbox import TaobaoSandbox

# The official example of open.taobao.com docId=101617 (TOP's signature).
OFFICIAL = {
    "method": "taobao.item.seller.get",
    "app_key": "12345678",
    "session": "test",
    "timestamp": "2016-01-01 12:00:00",
    "format": "json",
    "v": "2.0",
    "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num",
    "num_iid": "11223344",
}


def test_md5_signature_matches_the_official_vector() -> None:
    assert sign(OFFICIAL, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def test_hmac_signature_vector() -> None:
    params = {**OFFICIAL, "sign_method": "hmac"}
    assert sign(params, "helloworld", "hmac") == "D56D7858309C31B6251083A874D48273"


def test_hmac_sha256_signature_vector() -> None:
    params = {**OFFICIAL, "sign_method": "hmac-sha256"}
    assert sign(params, "helloworld", "hmac-sha256") == (
        "04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8"
    )


def test_sign_leaves_out_sign_and_empty_values() -> None:
    with_extra = {**OFFICIAL, "sign": "XYZ", "empty": ""}
    assert sign(with_extra, "helloworld") == "66987CB115214E59E6EC978214934FB8"


def test_unknown_sign_method_is_refused() -> None:
    with pytest.raises(ValueError):
        sign(OFFICIAL, "helloworld", "sha1")


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("taobao.trades.sold.increment.get", "trades_sold_increment_get_response"),
        ("taobao.rp.refunds.agree", "rp_refunds_agree_response"),
        ("tmall.dispute.receive.get", "tmall_dispute_receive_get_response"),
    ],
)
def test_response_key(method: str, key: str) -> None:
    assert response_key(method) == key


def test_lists_in_both_json_shapes() -> None:
    assert unwrap_list({"trade": [{"tid": 1}]}, "trade") == [{"tid": 1}]
    assert unwrap_list([{"tid": 1}], "trade") == [{"tid": 1}]
    assert unwrap_list({"trade": {"tid": 1}}, "trade") == [{"tid": 1}]  # a lone object
    assert unwrap_list(None, "trade") == []
    assert unwrap_list({}, "trade") == []


# -- error classification (real TOP error answers) -----------------------------------------------


def test_rate_limit_ban_gives_retry_after() -> None:
    err = classify_error(
        {
            "code": 7,
            "msg": "App Call Limited",
            "sub_code": "accesscontrol.limited-by-app-access-count",
            "sub_msg": "This ban will last for 31062 more seconds",
        },
        method="taobao.trades.sold.get",
    )
    assert isinstance(err, PlatformRateLimitError)
    assert err.retry_after == 31062
    assert err.code == "7"


def test_rate_limit_as_string_code() -> None:
    err = classify_error(
        {"code": "7", "msg": "App Call Limited", "sub_msg": "This ban will last for 2 more seconds"},
        method="m",
    )
    assert isinstance(err, PlatformRateLimitError) and err.retry_after == 2


def test_ban_seconds_absent() -> None:
    assert ban_seconds("App Call Limited") is None


@pytest.mark.parametrize(
    "error",
    [
        {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"},
        {"code": 27, "msg": "Invalid session:session-expired", "sub_code": "session-expired"},
        {"code": 26, "msg": "Missing Session"},
        {"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-sessionkey"},
    ],
)
def test_session_errors_need_reauthorisation(error: dict[str, Any]) -> None:
    assert isinstance(classify_error(error, method="m"), PlatformAuthError)


@pytest.mark.parametrize(
    "error",
    [
        {"code": 15, "msg": "Remote service error", "sub_code": "isp.top-remote-connection-timeout"},
        {"code": 15, "msg": "Remote service error", "sub_code": "isp.service-unavailable"},
        {"code": 10, "msg": "Service Currently Unavailable"},
    ],
)
def test_platform_trouble_is_retried(error: dict[str, Any]) -> None:
    err = classify_error(error, method="m")
    assert type(err) is PlatformConnectionError


def test_isv_errors_are_bad_requests_with_the_platform_message() -> None:
    err = classify_error(
        {
            "code": 15,
            "msg": "Remote service error",
            "sub_code": "isv.invalid-parameter",
            "sub_msg": "start_modified 与 end_modified 的跨度不能超过一天",
        },
        method="taobao.trades.sold.increment.get",
    )
    assert type(err) is PlatformRequestError
    assert "跨度不能超过一天" in str(err) and err.sub_code == "isv.invalid-parameter"


# -- the client against the fake gateway ---------------------------------------------------------


async def test_wrong_secret_is_an_invalid_signature(sandbox: TaobaoSandbox, make_adapter: Any) -> None:
    assert sandbox.taobao is not None
    adapter = make_adapter(sandbox.taobao, app_secret="not-the-secret")
    with pytest.raises(PlatformRequestError) as info:
        await adapter.platform_now()
    assert info.value.code == "25"


async def test_hmac_shop_signs_accepted(tmall: TaobaoAdapter) -> None:
    assert tmall.client.sign_method == "hmac"
    assert await tmall.platform_now() is not None


async def test_timestamp_off_by_more_than_ten_minutes_relearns_the_clock_and_retries_once(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    taobao.client.clock_offset = timedelta(minutes=11)
    # the gateway refuses the timestamp (code 31); the client relearns its clock with
    # taobao.time.get and sends the call once more
    inner = await taobao.client.call("taobao.refunds.receive.get", {"fields": "refund_id,modified"})
    assert "refunds" in inner
    assert taobao.client.clock_offset == timedelta(0)
    assert [c.api for c in sandbox.gateway.calls[-3:]] == [
        "taobao.refunds.receive.get",
        "taobao.time.get",
        "taobao.refunds.receive.get",
    ]
    # a gateway whose clock cannot be matched (it keeps refusing) fails after that one retry
    sandbox.gateway.inject("bad_timestamp", count=2)
    with pytest.raises(PlatformRequestError) as info:
        await taobao.client.call("taobao.refunds.receive.get", {"fields": "refund_id,modified"})
    assert info.value.code == "31"


async def test_simplified_json_is_read_too(sandbox: TaobaoSandbox, make_adapter: Any) -> None:
    assert sandbox.taobao is not None
    adapter = make_adapter(sandbox.taobao, simplify="true")
    inner = await adapter.client.call(
        "taobao.refunds.receive.get", {"fields": "refund_id,modified", "type": "fixed,guarantee_trade"}
    )
    assert isinstance(inner["refunds"], list)  # no {"refund": [...]} wrapper
    assert len(unwrap_list(inner["refunds"], "refund")) == min(40, len(sandbox.taobao.refunds))


async def test_http_5xx_timeout_and_garbage_are_connection_errors(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    sandbox.gateway.inject("http_500")
    with pytest.raises(PlatformConnectionError):
        await taobao.platform_now()
    sandbox.gateway.inject("timeout", seconds=0.8)  # the test shop waits 0.5 s
    with pytest.raises(PlatformConnectionError, match="timed out"):
        await taobao.platform_now()
    sandbox.gateway.inject("malformed", api="taobao.time.get")
    with pytest.raises(PlatformConnectionError, match="unreadable JSON"):
        await taobao.platform_now()
    assert await taobao.platform_now() is not None


async def test_secrets_never_reach_the_logs(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    sandbox.gateway.inject("auth_expired", api="taobao.refund.get")
    with capture_logs() as logs:
        await taobao.client.call("taobao.time.get", with_session=False)
        with pytest.raises(PlatformAuthError):
            await taobao.client.call("taobao.refund.get", {"fields": "refund_id", "refund_id": "1"})
    text = repr(logs) + repr(taobao.client) + repr(taobao)
    assert logs, "the client logs its calls"
    for secret in (sandbox.taobao.secret, sandbox.taobao.session):
        assert secret not in text
    assert "sign" not in {k for entry in logs for k in entry}
