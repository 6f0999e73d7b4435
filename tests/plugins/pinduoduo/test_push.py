"""PMC push: pending messages read from the sandbox websocket, ACKed, turned into hints;
duplicates and disorder change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from hub.errors import PlatformAuthError
from hub.platform import Hint
from plugins.pinduoduo.adapter import PddAdapter
from plugins.pinduoduo.push import PushMessage, digest, hints_for, parse_frame
from plugins.pinduoduo.sandbox import FakePddServer

from .conftest import build_adapter


def test_digest_matches_the_sdk_recipe() -> None:
    import base64
    import hashlib

    hexed = hashlib.md5(b"cid1700000000000secret").hexdigest()
    assert digest("cid", "secret", 1700000000000) == base64.b64encode(hexed.encode()).decode()


def test_message_types_become_hints() -> None:
    refund = PushMessage(
        id="1",
        type="pdd_refund_RefundCreated",
        mall_id=1,
        send_time=0,
        content={"refund_id": 7381745730, "tid": "210707-339507978993455", "refund_fee": 1990},
    )
    assert hints_for(refund) == [
        Hint(resource="after_sale", external_id="7381745730", message_id="1"),
        Hint(resource="order", external_id="210707-339507978993455", message_id="1"),
    ]
    trade = PushMessage(
        id="2", type="pdd_trade_TradeSellerShip", mall_id=1, send_time=0, content={"tid": "x"}
    )
    assert hints_for(trade) == [Hint(resource="order", external_id="x", message_id="2")]
    assert (
        hints_for(
            PushMessage(id="3", type="pdd_chat_Something", mall_id=1, send_time=0, content={"tid": "x"})
        )
        == []
    )


def test_frames() -> None:
    frame = {
        "id": 5,
        "commandType": "Common",
        "sendTime": 1,
        "message": {"type": "pdd_refund_RefundClosed", "mallID": 9, "content": json.dumps({"refund_id": 1})},
    }
    msg = parse_frame(frame)
    assert msg is not None and msg.content == {"refund_id": 1} and msg.mall_id == 9
    assert parse_frame({"commandType": "HeartBeat"}) is None
    junk = parse_frame({"id": 6, "commandType": "Common", "message": {"type": "x", "content": "{not json"}})
    assert junk is not None and junk.content == {}


async def test_agree_pushes_hints_and_they_are_acked(server: FakePddServer, adapter: PddAdapter) -> None:
    server.pending.clear()
    c = next(c for c in server.cases.values() if c.status == 2)
    server._move(c, 4, server.clock.now(), role=2)
    hints = await adapter.fetch_hints()
    assert Hint(resource="after_sale", external_id=str(c.id), message_id="1") in hints
    assert any(h.resource == "order" and h.external_id == c.order_sn for h in hints)
    assert server.pending == {} and sorted(server.acked) == [1, 2]
    assert await adapter.fetch_hints() == []
    # The hint's case can be fetched at once: the message taught the adapter its order_sn.
    raw = await adapter.fetch_one("after_sale", str(c.id))
    assert raw is not None and raw.payload["after_sales_status"] == 4


async def test_duplicates_and_disorder_change_nothing(server: FakePddServer, adapter: PddAdapter) -> None:
    server.pending.clear()
    c = next(c for c in server.cases.values() if c.status == 2)
    newer = {
        "id": 42,
        "commandType": "Common",
        "sendTime": 2,
        "message": {
            "type": "pdd_refund_RefundAgreeAgreement",
            "mallID": 1,
            "content": json.dumps({"refund_id": c.id, "tid": c.order_sn, "modified": 2}),
        },
    }
    older = {
        "id": 41,
        "commandType": "Common",
        "sendTime": 1,
        "message": {
            "type": "pdd_refund_RefundCreated",
            "mallID": 1,
            "content": json.dumps({"refund_id": c.id, "tid": c.order_sn, "modified": 1}),
        },
    }
    for frame in (newer, older, newer, {"commandType": "HeartBeat"}, {"id": 43, "commandType": "Common"}):
        server.push_frame(frame)
    hints = await adapter.fetch_hints()
    assert sorted((h.resource, h.external_id) for h in hints) == [
        ("after_sale", str(c.id)),
        ("order", c.order_sn),
    ]
    first = await adapter.fetch_one("after_sale", str(c.id))
    second = await adapter.fetch_one("after_sale", str(c.id))
    assert first is not None and second is not None
    assert adapter.map_record(first) == adapter.map_record(second)


async def test_unacked_messages_are_redelivered(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A reader that dies before ACKing gets the message again on its next connection."""
    from plugins.pinduoduo.push import connect_url

    server.pending.clear()
    c = next(iter(server.cases.values()))
    server._push_refund("pdd_refund_RefundCreated", c, server.clock.now())
    url = connect_url(server.push_url, server.client_id, server.client_secret, 1700000000000)
    async with session.ws_connect(url) as ws:
        frame = await ws.receive_json(timeout=2)  # read, never ACKed
        assert frame["message"]["type"] == "pdd_refund_RefundCreated"
    adapter = build_adapter(server, session, tmp_path)
    hints = await adapter.fetch_hints()
    assert any(h.external_id == str(c.id) for h in hints) and server.pending == {}
    await adapter.close()


async def test_wrong_secret_is_refused(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    adapter = build_adapter(server, session, tmp_path, client_secret="wrong")
    with pytest.raises(PlatformAuthError):
        await adapter.fetch_hints()
    await adapter.close()
