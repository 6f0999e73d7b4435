"""Batch work, my queue and exports through the paths agents and scripts take: the JSON API (token
and session with CSRF), the work list's toolbar form, and the ``hub`` command, on SQLite and
PostgreSQL (the world fixture runs on both)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from hub.batch import MAX_BATCH
from hub.cli import main
from hub.export import COLUMNS
from hub.store.models import AfterSaleRecord
from tests.hub.web.conftest import World, login


async def cases_in(world: World, shop: str, platform_status: str, n: int) -> list[tuple[int, str, int]]:
    """(id, external id, refund fen) of the first ``n`` open cases of ``shop`` in that status."""
    C = AfterSaleRecord.__table__
    async with world.hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(C.c.id, C.c.external_id, C.c.refund_fen)
                .where(
                    C.c.shop_id == world.shop_ids[shop],
                    C.c.platform_status == platform_status,
                    C.c.is_open.is_(True),
                )
                .order_by(C.c.id)
                .limit(n)
            )
        ).all()
    assert len(rows) == n, f"{shop} has fewer than {n} {platform_status} cases"
    return [(int(r.id), str(r.external_id), int(r.refund_fen)) for r in rows]


async def audit_of(world: World, kind: str) -> list[dict[str, Any]]:
    from hub.web.auth import audit_entries

    return await audit_entries(world.hub.engine, limit=1000, kind=kind)


async def test_api_batch_acts_once_per_case_reports_each_and_replays(world: World, client) -> None:
    (a1, _, _), (a2, _, _) = await cases_in(world, "shop-a", "NEW", 2)
    (agreed, _, _) = (await cases_in(world, "shop-a", "AGREED", 1))[0]
    other = await world.case_id("shop-b", "C50045")  # bob's shop: alice must learn nothing of it
    body = {"ids": [a1, a2, agreed, other, 987654], "action": "agree_refund", "key": "batch-test-0001"}
    resp = await client.post("/api/cases/batch", json=body, headers=world.auth("alice"))
    assert resp.status == 200, await resp.text()
    got = await resp.json()
    by_id = {r["id"]: r for r in got["results"]}
    assert [r["id"] for r in got["results"]] == body["ids"]
    assert by_id[a1]["outcome"] == by_id[a2]["outcome"] == "done"
    assert by_id[a1]["status"] == "done" and not by_id[a1]["replayed"]
    assert by_id[agreed]["outcome"] == "skipped" and by_id[agreed]["reason_zh"].startswith("当前不可执行")
    # another shop's case and a case that does not exist read the same: no glimpse
    assert by_id[other]["outcome"] == by_id[987654]["outcome"] == "skipped"
    assert by_id[other]["reason_zh"] == by_id[987654]["reason_zh"] == "没有这个售后单（或不在你负责的店铺）"
    assert by_id[other]["external_id"] is None and "C50045" not in await resp.text()
    assert got["counts"] == {"done": 2, "refused": 0, "skipped": 3}
    assert world.agree_calls("shop-a") == 2 and world.agree_calls("shop-b") == 0
    # the same batch again: nothing is sent twice, the stored results come back
    again = await (await client.post("/api/cases/batch", json=body, headers=world.auth("alice"))).json()
    assert {r["id"]: r["outcome"] for r in again["results"]}[a1] == "done"
    assert all(r["replayed"] for r in again["results"] if r["outcome"] == "done")
    assert world.agree_calls("shop-a") == 2
    # one audit entry per case acted on, and one for each batch
    actions = [e for e in await audit_of(world, "action") if e["actor"] == "alice"]
    assert sorted(e["case_id"] for e in actions) == sorted([a1, a2, a1, a2])
    batches = await audit_of(world, "batch")
    assert len(batches) == 2 and batches[0]["detail"]["counts"]["done"] == 2
    await _checks_like_the_single_action_api(world, client)


async def _checks_like_the_single_action_api(world: World, client) -> None:
    ids = [i for i, _, _ in await cases_in(world, "shop-a", "NEW", 2)]
    note = {"ids": ids, "action": "note", "params": {"note": "批量备注"}, "key": "batch-note-0001"}
    # a browser session needs the CSRF token, exactly as the single-case API
    csrf = await login(client, "alice")
    assert (await client.post("/api/cases/batch", json=note)).status == 403
    resp = await client.post("/api/cases/batch", json=note, headers={"X-CSRF-Token": csrf})
    assert resp.status == 200 and (await resp.json())["counts"]["done"] == 2
    # viewers read only
    viewer = await client.post("/api/cases/batch", json=note, headers=world.auth("vera"))
    assert viewer.status == 403
    # a cap, bad ids, unknown fields, bad keys: one clear 422 each
    for bad, needle in (
        ({**note, "ids": list(range(1, MAX_BATCH + 2))}, f"at most {MAX_BATCH} cases"),
        ({**note, "ids": []}, "non-empty list"),
        ({**note, "ids": ["1"]}, "positive whole numbers"),
        ({**note, "extra": 1}, "unknown field extra"),
        ({**note, "key": "x"}, "idempotency key"),
        ({**note, "params": []}, "params must be an object"),
    ):
        resp = await client.post("/api/cases/batch", json=bad, headers=world.auth("alice"))
        assert resp.status == 422, bad
        assert needle in (await resp.json())["error"]
    # parameters are checked per case: a missing one is a refusal with its reason
    refused = await (
        await client.post(
            "/api/cases/batch",
            json={"ids": ids, "action": "note", "key": "batch-note-0002"},
            headers=world.auth("alice"),
        )
    ).json()
    assert [r["outcome"] for r in refused["results"]] == ["refused", "refused"]
    assert "note is required" in refused["results"][0]["reason_zh"]


async def test_toolbar_confirms_the_total_then_shows_each_result(sqlite_only, world: World, client) -> None:
    picked = await cases_in(world, "shop-a", "NEW", 2)
    (agreed, _, _) = (await cases_in(world, "shop-a", "AGREED", 1))[0]
    csrf = await login(client, "alice")
    page = await (await client.get("/?mine=0&orders=0&limit=200")).text()
    assert 'class="batch-toolbar"' in page and page.count('class="row-select"') >= 3
    assert f'value="{picked[0][0]}" form="batch-form"' in page
    key = re.search(r'name="key" value="(batch-[0-9a-f]+)"', page)
    assert key
    form = [("_csrf", csrf), ("key", key.group(1)), ("action", "agree_refund"), ("back", "/")]
    form += [("id", str(i)) for i, _, _ in picked] + [("id", str(agreed))]
    first = await client.post("/cases/batch", data=form)
    text = await first.text()
    total = sum(fen for _, _, fen in picked)  # the agreed case will be skipped: not in the total
    yuan = f"{total // 100}.{total % 100:02d}"
    assert first.status == 200 and "确认批量操作" in text
    assert f"将对 2 个售后单执行「同意退款」，涉及退款合计 ¥{yuan}" in text and "将跳过：当前不可执行" in text
    assert world.agree_calls("shop-a") == 0  # nothing sent before the confirmation
    confirmed = await client.post(
        "/cases/batch", data=[*form, ("confirm", "yes"), ("confirm_total", str(total))]
    )
    text = await confirmed.text()
    assert confirmed.status == 200 and "完成 2 条，被拒绝 0 条，跳过 1 条" in text
    assert text.count("outcome-done") == 2 and "outcome-skipped" in text and "当前不可执行" in text
    assert world.agree_calls("shop-a") == 2
    # the browser's back button and a second click: the same key replays, nothing sent again
    again = await (
        await client.post("/cases/batch", data=[*form, ("confirm", "yes"), ("confirm_total", str(total))])
    ).text()
    assert "此前已执行" in again and world.agree_calls("shop-a") == 2
    # assigning needs no confirmation; nothing ticked is a clear message
    assign = [("_csrf", csrf), ("key", "batch-assign-0001"), ("action", "assign"), ("agent", "alice")]
    done = await (await client.post("/cases/batch", data=[*assign, ("id", str(picked[0][0]))])).text()
    assert "完成 1 条" in done
    empty = await client.post("/cases/batch", data=assign)
    assert empty.status == 422 and "请先勾选" in await empty.text()


async def test_my_queue_is_mine_plus_unassigned_and_the_agents_default(world: World, client) -> None:
    (mine, _, _), (theirs, _, _), (free, _, _) = await cases_in(world, "shop-a", "NEW", 3)
    for case_id, agent in ((mine, "alice"), (theirs, "admin")):
        resp = await client.post(
            "/api/cases/batch",
            json={
                "ids": [case_id],
                "action": "assign",
                "params": {"agent": agent},
                "key": f"assign-{case_id}-x",
            },
            headers=world.auth("admin"),
        )
        assert (await resp.json())["counts"]["done"] == 1
    queue = await (await client.get("/api/cases?mine=1&limit=200", headers=world.auth("alice"))).json()
    ids = {c["id"] for c in queue["items"] if c["item"] == "case"}
    assert mine in ids and free in ids and theirs not in ids
    assert {c["assignee"] for c in queue["items"] if c["item"] == "case"} <= {"alice", None}
    dues = [
        c["next_action"]["due_at"] for c in queue["items"] if c["next_action"] and c["next_action"]["due_at"]
    ]
    assert dues == sorted(dues)  # soonest first
    everything = await (await client.get("/api/cases?limit=200", headers=world.auth("alice"))).json()
    assert theirs in {c["id"] for c in everything["items"] if c["item"] == "case"}
    # an agent's list opens on 我的待办; the admin's on everything
    await login(client, "alice")
    home = await client.get("/", allow_redirects=False)
    assert home.status == 303 and "mine=1" in home.headers["Location"]
    page = await (await client.get("/?mine=1&limit=200")).text()
    assert (
        'aria-current="page">我的待办' in page
        and f'value="{theirs}"' not in page
        and f'value="{mine}"' in page
    )
    await login(client, "admin")
    assert (await client.get("/", allow_redirects=False)).status == 200


async def test_export_streams_the_filtered_list_in_both_formats(world: World, client) -> None:
    listing = await (await client.get("/api/cases?limit=200", headers=world.auth("alice"))).json()
    resp = await client.get("/api/cases/export?format=csv&limit=5", headers=world.auth("alice"))
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens the Chinese as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert len(rows) - 1 == listing["total"]  # every page, not the first five
    assert [int(r[0]) for r in rows[1:]] == [c["id"] for c in listing["items"]]  # the list's order
    assert {r[3] for r in rows[1:]} == {"shop-a"}  # alice's shops only
    first = listing["items"][0]
    money = first["refund_fen"] if first["item"] == "case" else first["paid_fen"]
    assert rows[1][COLUMNS.index("金额（元）")] == f"{money // 100}.{money % 100:02d}"
    assert rows[1][COLUMNS.index("平台")] == "测试平台"  # labels, not codes
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[1][COLUMNS.index("创建时间（北京时间）")])
    # the list's filters apply: a search narrows the export to it
    ext = next(c for c in listing["items"] if c["item"] == "case")["external_id"]
    one = await (
        await client.get(f"/api/cases/export?format=csv&q={ext}", headers=world.auth("alice"))
    ).read()
    assert [r[4] for r in csv.reader(io.StringIO(one.decode("utf-8-sig")))][1:] == [ext]
    # XLSX: the same rows, amounts as numbers
    resp = await client.get("/api/cases/export?format=xlsx", headers=world.auth("alice"))
    assert resp.status == 200 and "spreadsheetml" in resp.headers["Content-Type"]
    sheet = openpyxl.load_workbook(io.BytesIO(await resp.read()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(COLUMNS) and len(values) - 1 == listing["total"]
    assert values[1][COLUMNS.index("金额（元）")] == money / 100
    assert (await client.get("/api/cases/export?format=pdf", headers=world.auth("alice"))).status == 400
    exports = await audit_of(world, "export")
    assert exports[0]["actor"] == "alice" and exports[0]["detail"]["format"] == "xlsx"


def _cli(url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--database", url, *args])
    return code, out.getvalue()


async def test_cli_batch_queue_and_export(
    sqlite_only: None, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    monkeypatch.delenv("HUB_USER", raising=False)
    url = world.hub.settings.database_url
    (a1, _, _), (a2, _, _) = await cases_in(world, "shop-a", "NEW", 2)
    (agreed, _, _) = (await cases_in(world, "shop-a", "AGREED", 1))[0]
    ids = f"{a1},{a2},{agreed}"
    # the CLI runs in a thread (its own event loop) while the sandboxes serve on this one
    code, out = await asyncio.to_thread(
        _cli, url, "case", "act", ids, "agree_refund", "--key", "cli-batch-0001", "--json"
    )
    got = json.loads(out)
    assert code == 1  # one case skipped: partial
    assert [r["outcome"] for r in got["results"]] == ["done", "done", "skipped"]
    assert world.agree_calls("shop-a") == 2
    code, out = await asyncio.to_thread(
        _cli, url, "case", "act", f"{a1},{a2}", "agree_refund", "--key", "cli-batch-0001"
    )
    assert code == 0 and "2 done, 0 refused, 0 skipped" in out and "nothing sent" in out
    assert world.agree_calls("shop-a") == 2
    actions = [e for e in await audit_of(world, "action") if e["detail"].get("via") == "cli"]
    assert len(actions) == 4 and {e["actor"] for e in actions} == {"cli"}
    # bad usage: exit 2
    for bad in ("12,x", ",".join(str(i) for i in range(1, MAX_BATCH + 2))):
        code, _ = await asyncio.to_thread(_cli, url, "case", "act", bad, "note")
        assert code == 2
    # my queue: the acting user from --user or HUB_USER
    monkeypatch.setenv("HUB_USER", "alice")
    code, _ = await asyncio.to_thread(
        _cli, url, "case", "act", str(a1), "assign", "--param", "agent=bob", "--key", "cli-assign-001"
    )
    assert code == 0
    code, out = await asyncio.to_thread(_cli, url, "cases", "--mine", "--json")
    assert code == 0
    queue = json.loads(out)
    queued = {c["id"] for c in queue if c["item"] == "case"}
    assert {c["shop"] for c in queue} == {"shop-a"} and a1 not in queued and a2 in queued
    monkeypatch.delenv("HUB_USER")
    assert (await asyncio.to_thread(_cli, url, "cases", "--mine"))[0] == 2
    assert (await asyncio.to_thread(_cli, url, "cases", "--mine", "--user", "nobody"))[0] == 2
    # export: the same filters, to a file
    target = tmp_path / "queue.csv"
    code, out = await asyncio.to_thread(
        _cli, url, "cases", "--mine", "--user", "alice", "--export", str(target)
    )
    assert code == 0 and f"{len(queue)} rows exported" in out
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and len(data.decode("utf-8-sig").splitlines()) == len(queue) + 1
    assert (await asyncio.to_thread(_cli, url, "cases", "--export", str(tmp_path / "x.pdf")))[0] == 2
