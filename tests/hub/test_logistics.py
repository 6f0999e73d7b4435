"""The logistics watch: the 快递100 client against its sandbox (signing, refusals), and the watch
through the command line: parcels found from cases, states read, case actions, unmatched returns."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from hub.logistics.kuaidi100 import Kuaidi100Tracker, main_state, parse_answer
from hub.logistics.sandbox import Kuaidi100Sandbox
from hub.logistics.tracker import TrackingError
from tests.hub.erp_seed import K, S, case, env, hub, order, put
from tests.hub.erp_seed import case_ids as read_case_ids


async def test_client_signs_and_reads_the_sandbox():
    box = Kuaidi100Sandbox()
    await box.serve()
    box.add_parcel(
        "YT1",
        "yuantong",
        [(timedelta(0), "1", "【杭州】已揽收"), (timedelta(hours=5), "0", "运输中")],
        start=box.clock.now() - timedelta(hours=6),
        area="浙江,杭州市",
    )
    box.add_parcel(
        "ZT2",
        "zhongtong",
        [(timedelta(0), "0", "运输中"), (timedelta(hours=1), "207", "收件地址超区，无法派送")],
        start=box.clock.now() - timedelta(hours=2),
    )
    box.add_parcel(
        "SF3",
        "shunfeng",
        [(timedelta(0), "301", "已签收，本人签收")],
        start=box.clock.now() - timedelta(hours=1),
        phone="13800001234",
    )
    async with aiohttp.ClientSession() as http:
        good = Kuaidi100Tracker(http, box.customer, box.key, box.url)
        t = await good.track("yuantong", "YT1")
        assert (t.code, t.state, t.final) == ("0", "in_transit", False)
        assert [x.context for x in t.traces] == ["运输中", "【杭州】已揽收"]  # newest first
        assert t.traces[0].area == "浙江,杭州市" and t.traces[0].at is not None
        t = await good.track("zhongtong", "ZT2")
        assert t.state == "out_of_area" and not t.final
        t = await good.track("shunfeng", "SF3", "13800001234")
        assert (t.state, t.final) == ("signed", True)
        with pytest.raises(TrackingError) as e:
            await good.track("shunfeng", "SF3")  # 顺丰 asks for the phone's last four digits
        assert e.value.code == "408"
        with pytest.raises(TrackingError) as e:
            await good.track("yunda", "NOPE")
        assert e.value.no_result and "查询无结果" in str(e.value)
        box.inject("rate_limit")
        with pytest.raises(TrackingError) as e:
            await good.track("yuantong", "YT1")
        assert e.value.retry_after and e.value.code == "502"
        with pytest.raises(TrackingError) as e:
            await Kuaidi100Tracker(http, box.customer, "wrong-key", box.url).track("yuantong", "YT1")
        assert e.value.code == "503" and "签名" in str(e.value)
    # what went over the wire: the documented form fields, param JSON with strings
    call = box.calls_to("query")[0]
    assert set(call.params) == {"customer", "param", "sign"}
    assert json.loads(call.params["param"]) == {"com": "yuantong", "num": "YT1", "resultv2": "1"}
    assert call.params["sign"].isupper() and len(call.params["sign"]) == 32
    await box.stop()


def test_states_and_answers():
    assert [main_state(c) for c in ("0", "1001", "207", "301", "14", "6")] == ["0", "0", "2", "3", "14", "6"]
    t = parse_answer(
        {
            "message": "ok",
            "state": "6",
            "ischeck": "0",
            "status": "200",
            "data": [{"time": "2026-11-30 10:00:00", "context": "退回中"}],
        }
    )
    assert t.state == "returned" and not t.final
    t = parse_answer({"message": "ok", "state": 2, "ischeck": 0, "data": [{"context": "快件超区，转第三方"}]})
    assert t.state == "out_of_area"  # numbers where strings are documented are read too
    with pytest.raises(TrackingError):
        parse_answer({"result": False, "returnCode": "601", "message": "key已过期"})


@pytest.fixture
def sandbox() -> Iterator[Kuaidi100Sandbox]:
    """The sandbox on its own loop in a thread, as a remote service would be."""
    loop = asyncio.new_event_loop()
    box = Kuaidi100Sandbox()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(box.serve(), loop).result(10)
    yield box
    asyncio.run_coroutine_threadsafe(box.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_watch_through_the_cli(db_url: str, tmp_path: Path, monkeypatch, capsys, sandbox):
    env(monkeypatch, tmp_path)
    monkeypatch.setenv("HUB_KUAIDI100_URL", sandbox.url)
    monkeypatch.setenv("HUB_KUAIDI100_CUSTOMER", sandbox.customer)
    monkeypatch.setenv("HUB_KUAIDI100_KEY", sandbox.key)
    monkeypatch.setenv("HUB_PARCEL_COMPANY", "zhongtong")
    monkeypatch.setenv("HUB_PARCEL_STALL_HOURS", "48")
    assert hub(capsys, db_url, "db", "upgrade")[0] == 0
    now = sandbox.clock.now()
    fresh = now - timedelta(hours=1)  # the 72 h reply clock is later than the logistics action's 24 h
    asyncio.run(
        put(
            db_url,
            "shop1",
            [
                order("O1"),
                order("O2", waybill="ZT2"),
                order("O3", waybill="ZT3"),
                case(
                    "R1",
                    "O1",
                    K.RETURN_REFUND,
                    S.RETURN_SHIPPED,
                    1,
                    return_waybill="YT1",
                    facts={"return_company": "圆通速递"},
                ),
                case(
                    "R2",
                    "O2",
                    K.REFUND_ONLY,
                    S.REQUESTED,
                    1,
                    reason="未收到货",
                    created_at=fresh,
                    updated_at=fresh,
                ),
                case(
                    "R3",
                    "O3",
                    K.REFUND_ONLY,
                    S.REQUESTED,
                    1,
                    reason="物流一直不动",
                    created_at=fresh,
                    updated_at=fresh,
                ),
            ],
        )
    )
    ids = asyncio.run(read_case_ids(db_url))
    sandbox.add_parcel(
        "YT1",
        "yuantong",
        [(timedelta(0), "0", "运输中"), (timedelta(hours=2), "3", "已签收，仓库代收")],
        start=now - timedelta(hours=3),
    )
    sandbox.add_parcel(
        "ZT2",
        "zhongtong",
        [(timedelta(0), "0", "运输中"), (timedelta(hours=1), "2", "收件地址超区，无法派送")],
        start=now - timedelta(hours=2),
    )
    sandbox.add_parcel(
        "ZT3", "zhongtong", [(timedelta(0), "0", "到达【义乌转运中心】")], start=now - timedelta(days=3)
    )
    sandbox.add_parcel(
        "YD9",
        "yunda",
        [(timedelta(0), "0", "运输中"), (timedelta(hours=1), "6", "收件人拒收，退回寄件人")],
        start=now - timedelta(hours=2),
    )
    code, out, err = hub(capsys, db_url, "parcels", "add", "YD9", "--company", "yunda")
    assert code == 0, err

    code, out, err = hub(capsys, db_url, "parcels", "watch", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["found"] == 3 and res["polled"] == 4 and res["errors"] == []
    code, out, _ = hub(capsys, db_url, "parcels", "list", "--all", "--json")
    by = {p["waybill"]: p for p in json.loads(out)}
    assert (by["YT1"]["role"], by["YT1"]["state"], by["YT1"]["final"]) == ("return", "signed", True)
    assert by["YT1"]["action"] == "confirm_return_receipt"
    assert (by["ZT2"]["role"], by["ZT2"]["state"], by["ZT2"]["action"]) == (
        "outbound",
        "out_of_area",
        "arrange_other_courier",
    )
    assert (by["ZT3"]["state"], by["ZT3"]["action"]) == ("stalled", "follow_up_courier")
    assert (by["YD9"]["state"], by["YD9"]["case_id"]) == ("returned", None)

    # the case shows its logistics state, and the logistics action as its next action
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["R1"]), "--json")
    detail = json.loads(out)
    assert detail["parcels"][0]["state"] == "signed"
    code, out, _ = hub(capsys, db_url, "cases", "--json")
    actions = {c["external_id"]: c["next_action"]["action"] for c in json.loads(out) if c["item"] == "case"}
    assert actions["R2"] == "arrange_other_courier" and actions["R3"] == "follow_up_courier"
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["R2"]))
    assert "logistics:" in out and "ZT2  zhongtong  outbound  out_of_area" in out

    # a parcel in a final state is not queried again; the others wait for their poll interval
    calls = len(sandbox.calls_to("query"))
    hub(capsys, db_url, "parcels", "watch")
    assert len(sandbox.calls_to("query")) == calls

    # the stalled parcel moves again: its case gets its rule-based next action back
    sandbox.parcels["ZT3"].events.append((now, "0", "离开【义乌转运中心】，发往【杭州】", ""))
    assert hub(capsys, db_url, "parcels", "add", "ZT3")[0] == 0  # query it on the next pass
    hub(capsys, db_url, "parcels", "watch")
    code, out, _ = hub(capsys, db_url, "cases", "--json")
    actions = {c["external_id"]: c["next_action"]["action"] for c in json.loads(out) if c["item"] == "case"}
    assert actions["R3"] == "reply" and actions["R2"] == "arrange_other_courier"

    # a returned parcel with no case is listed, then matched by waybill
    code, out, _ = hub(capsys, db_url, "parcels", "unmatched")
    assert "YD9  yunda" in out and "returned" in out
    code, out, err = hub(capsys, db_url, "parcels", "match", "YD9", str(ids["R3"]))
    assert code == 0, err
    code, out, _ = hub(capsys, db_url, "parcels", "unmatched")
    assert "no unmatched returned parcels" in out
    code, out, _ = hub(capsys, db_url, "parcels", "list", "--all", "--json")
    yd9 = next(p for p in json.loads(out) if p["waybill"] == "YD9")
    assert (
        yd9["case_id"] == ids["R3"]
        and yd9["action"] == "handle_returned_parcel"
        and yd9["matched_by"] == "cli"
    )
    code, _, err = hub(capsys, db_url, "parcels", "match", "NOPE", str(ids["R3"]))
    assert code != 0 and "no watched parcel with waybill 'NOPE'" in err


def test_rate_limit_stops_the_pass(tmp_path: Path, monkeypatch, capsys, sandbox):
    env(monkeypatch, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("HUB_KUAIDI100_URL", sandbox.url)
    monkeypatch.setenv("HUB_KUAIDI100_CUSTOMER", sandbox.customer)
    monkeypatch.setenv("HUB_KUAIDI100_KEY", "not-the-key")
    assert hub(capsys, url, "db", "upgrade")[0] == 0
    for wb in ("A1", "A2"):
        assert hub(capsys, url, "parcels", "add", wb, "--company", "yunda")[0] == 0
    code, out, _ = hub(capsys, url, "parcels", "watch", "--json")
    errors = json.loads(out)["errors"]
    # a refused account stops the pass: the other parcel is not queried to be refused too
    assert len(errors) == 1 and "503" in errors[0] and "验证签名失败" in errors[0]
    assert "pass stops" in errors[0]
    assert len(sandbox.calls_to("query")) == 1
    monkeypatch.setenv("HUB_KUAIDI100_KEY", sandbox.key)
    sandbox.inject("rate_limit")
    code, out, _ = hub(capsys, url, "parcels", "watch", "--json")
    res = json.loads(out)
    assert len(res["errors"]) == 1 and "the pass stops" in res["errors"][0] and res["polled"] == 0
    assert len(sandbox.calls_to("query")) == 2
    # both stay due: the next pass queries them (nothing known yet: 查询无结果)
    code, out, _ = hub(capsys, url, "parcels", "watch", "--json")
    assert len(sandbox.calls_to("query")) == 4
    code, out, _ = hub(capsys, url, "parcels", "list", "--json")
    assert {p["state"] for p in json.loads(out)} == {"no_trace"}
    code, _, err = hub(capsys, url, "parcels", "add", "A3", "--role", "sideways")
    assert code == 2 and "argument --role: invalid choice: 'sideways'" in err
