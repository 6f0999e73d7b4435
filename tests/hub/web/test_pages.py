"""The server-rendered pages (SQLite): the work list with filters, counts and urgency, the case page
with its deadline rule, dispute, evidence and actions, sync status, metrics, language switch."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import FormData
from sqlalchemy import update

from hub.store.cases import CaseFilter, urgency_counts
from hub.store.models import QuarantineRecord, ShopRecord
from hub.sync import sync_shops
from tests.hub.web.conftest import World, login

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def form_key(page: str, action: str) -> str:
    block = page.split(f'data-action="{action}"', 1)[1]
    found = re.search(r'name="idempotency_key" value="([^"]+)"', block)
    assert found
    return found.group(1)


async def test_worklist_filters_counts_urgency_and_paging(sqlite_only: None, world: World, client) -> None:
    await login(client, "admin")
    page = await (await client.get("/")).text()
    total = int(re.search(r"共 (\d+) 条", page).group(1))  # type: ignore[union-attr]
    cards = dict(re.findall(r'class="ucard ucard-(\w+) [^"]*"[^>]*>\s*<span class="ucard-num">(\d+)<', page))
    urgent = {k: int(v) for k, v in cards.items()}
    assert total == sum(urgent.values())
    for key in ("breached", "lt_24h", "lt_72h"):
        assert f"ucard-{key} " in page
    # urgency colours, countdowns, who acts and what happens on expiry, platform terms beside ours
    assert "u-breached" in page and 'class="countdown" data-due="' in page
    # the consequence column says what happens on expiry, not the rule's summary
    assert "平台自动同意退款" in page and "我方（商家） · 回复处理" in page
    assert "72 小时未处理将自动同意退款" not in page
    # the platform's own code (NEW) is not shown on a Chinese page: its label is, or the unified status
    assert "待商家处理" in page and ">NEW<" not in page and "测试平台" in page
    assert page.count('class="row ') == 50 and 'rel="next"' in page
    # filters narrow the list and the counts follow
    page = await (await client.get("/?status=requested&shop=shop-a")).text()
    rows = re.findall(r'data-key="case(\d+):', page)
    assert rows and "买家已退货" not in page.split("<tbody>", 1)[1]
    assert re.search(r'count-shop-shop-a">(\d+)<', page).group(1) == str(len(rows))  # type: ignore[union-attr]
    page = await (await client.get("/?due=0h")).text()
    breached = len(re.findall(r'class="row u-breached ', page))
    assert breached == min(urgent["breached"], 50) and 'class="row u-lt_24h ' not in page
    assert "kind=teleport" not in page
    bad = await client.get("/?kind=teleport")
    assert bad.status == 400 and "teleport" in await bad.text()
    # a second page by cursor continues where the first stopped, without repeats
    first = await (await client.get("/api/cases?limit=50", headers=world.auth("admin"))).json()
    nxt = re.search(r'href="([^"]*cursor=[^"]+)" rel="next"', await (await client.get("/")).text())
    assert nxt
    page2 = await (await client.get(nxt.group(1).replace("&amp;", "&"))).text()
    ids2 = [(item, int(i)) for item, i in re.findall(r'data-key="(case|order)(\d+):', page2)]
    assert ids2 and not set(ids2) & {(c["item"], c["id"]) for c in first["items"]}


async def test_worklist_changes_show_up_through_the_version_poll(
    sqlite_only: None, world: World, client
) -> None:
    await login(client, "alice")
    v1 = (await (await client.get("/api/worklist/version")).json())["version"]
    assert (await (await client.get("/api/worklist/version")).json())["version"] == v1
    server = world.servers["shop-a"]
    now = server.clock.now()
    server.clock.advance(timedelta(minutes=5))
    server.orders["O88888"] = {
        "id": "O88888",
        "status": "PAID",
        "total": "9.90",
        "created": now.isoformat(),
        "modified": now.isoformat(),
    }
    server.cases["C88888"] = {
        "id": "C88888",
        "order_id": "O88888",
        "status": "NEW",
        "amount": "9.90",
        "reason": "size",
        "created": now.isoformat(),
        "modified": (now + timedelta(minutes=1)).isoformat(),
    }
    await sync_shops(world.hub)
    v2 = await (await client.get("/api/worklist/version")).json()
    assert v2["version"] != v1
    assert "C88888" in await (await client.get("/")).text()


async def test_case_page_shows_rule_dispute_and_acts_once_with_confirmation(
    sqlite_only: None, world: World, client
) -> None:
    csrf = await login(client, "alice")
    case_id, external = await world.first("shop-a", "NEW")
    page = await (await client.get(f"/cases/{case_id}")).text()
    # the rule links to its page (which cites the source); the case page names the source kind
    assert 'href="/rules/acme.reply_72h"' in page and "acme.reply_72h" in page and "平台规则" in page
    assert "72 小时未处理将自动同意退款" in page and "处理记录" in page and "原始数据" in page
    assert '"status": "NEW"' in page  # the raw record
    # the test platform words this reason in English only: a Chinese page says "not available now"
    assert "不可用：当前状态下不可用" in page and "acme has no refuse API" not in page
    key = form_key(page, "agree_refund")
    assert key != form_key(await (await client.get(f"/cases/{case_id}")).text(), "agree_refund")
    url = f"/cases/{case_id}/act/agree_refund"
    # money moves: no confirmation tick, nothing sent
    resp = await client.post(url, data={"_csrf": csrf, "idempotency_key": key}, allow_redirects=False)
    assert resp.status == 303 and "error=" in resp.headers["Location"]
    assert world.agree_calls() == 0
    # confirmed, then the same rendered form submitted again (double click / resubmit)
    first = await client.post(
        url, data={"_csrf": csrf, "idempotency_key": key, "confirm": "yes"}, allow_redirects=False
    )
    second = await client.post(
        url, data={"_csrf": csrf, "idempotency_key": key, "confirm": "yes"}, allow_redirects=False
    )
    assert first.status == second.status == 303
    assert "replayed=0" in first.headers["Location"] and "replayed=1" in second.headers["Location"]
    assert world.agree_calls() == 1
    shown = await (await client.get(first.headers["Location"])).text()
    assert 'id="result" class="alert alert-success"' in shown and "已完成" in shown and key in shown
    assert world.servers["shop-a"].cases[external]["status"] == "AGREED"
    after = await (await client.get(f"/cases/{case_id}")).text()
    assert "退款中" in after and "REFUNDING" not in after and "AGREED" in after


async def test_case_page_dispute_evidence_notes_and_assignment(
    sqlite_only: None, world: World, client
) -> None:
    csrf = await login(client, "alice")
    case_id, _ = await world.first("shop-a", "ESCALATED")
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert "平台介入" in page and "审核中" in page and "has-dispute" in page
    data = FormData()
    data.add_field("_csrf", csrf)
    data.add_field("file", PNG, filename="破损照片.png", content_type="image/png")
    data.add_field("description", "外包装破损")
    resp = await client.post(f"/cases/{case_id}/evidence", data=data, allow_redirects=False)
    assert resp.status == 303 and "error" not in resp.headers["Location"]
    bad = FormData()
    bad.add_field("_csrf", csrf)
    bad.add_field("file", b"#!/bin/sh", filename="x.sh", content_type="application/x-sh")
    resp = await client.post(f"/cases/{case_id}/evidence", data=bad, allow_redirects=False)
    assert "not+accepted" in resp.headers["Location"] or "not%20accepted" in resp.headers["Location"]
    page = await (await client.get(f"/cases/{case_id}")).text()
    href = re.search(rf'href="(/cases/{case_id}/evidence/\d+)">破损照片.png', page)
    assert href
    download = await client.get(href.group(1))
    assert download.status == 200 and await download.read() == PNG
    for action, fields in (
        ("note", {"note": "联系买家补充照片"}),
        ("assign", {"agent": "alice"}),
        ("record_appeal", {"note": "已在后台提交申诉", "subtype": "damage"}),
    ):
        key = (
            form_key(page, action)
            if action == "record_appeal"
            else re.search(
                rf'act/{action}">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" '
                r'name="idempotency_key" value="([^"]+)"',
                page,
            ).group(1)
        )  # type: ignore[union-attr]
        resp = await client.post(
            f"/cases/{case_id}/act/{action}",
            data={"_csrf": csrf, "idempotency_key": key, **fields},
            allow_redirects=False,
        )
        assert "replayed=0" in resp.headers["Location"], resp.headers["Location"]
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert "联系买家补充照片" in page and "登记的纠纷 / 申诉" in page and "已在后台提交申诉" in page
    assert '<option value="alice" selected>' in page
    pack = await client.get(f"/cases/{case_id}/pack")
    assert pack.status == 200 and pack.content_type == "application/zip"


async def test_sync_page_shows_lag_errors_quarantine_and_reauth(
    sqlite_only: None, world: World, client
) -> None:
    server = world.servers["shop-a"]
    server.clock.advance(timedelta(hours=2))
    bad = next(iter(server.cases))
    server.touch(bad, amount="12.3.4")
    await sync_shops(world.hub)
    world.servers["shop-b"].inject("auth_expired")
    server.clock.advance(timedelta(hours=1))
    await sync_shops(world.hub)
    await login(client, "admin")
    page = await (await client.get("/sync")).text()
    assert "需要重新授权" in page and "token_expired" in page
    assert "隔离记录 (1)" in page and "12.3.4" in page and "amount" in page
    assert "3 小时 00 分" in page  # shop-b's checkpoints stopped 3 hours ago, when it lost its authorisation
    status = await (await client.get("/api/sync", headers=world.auth("admin"))).json()
    by = {s["shop"]: s for s in status["shops"]}
    assert by["shop-b"]["needs_reauth"] and by["shop-b"]["last_run"]["status"] == "reauth"
    assert by["shop-a"]["quarantined"] == 1 and by["shop-a"]["last_success_at"]
    assert status["quarantined"][0]["payload"]["amount"] == "12.3.4"
    # the quarantined record is one alice (shop-a) sees and bob (shop-b) does not
    assert (await (await client.get("/api/sync", headers=world.auth("bob"))).json())["quarantined"] == []
    async with world.hub.engine.begin() as conn:
        await conn.execute(update(QuarantineRecord.__table__).values(resolved_at=world.hub.now()))
        await conn.execute(update(ShopRecord.__table__).values(needs_reauth=False))


async def test_metrics_in_prometheus_format(sqlite_only: None, world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    await client.post(f"/api/cases/{case_id}/actions/agree_refund", json={}, headers=world.auth("alice"))
    assert (await client.get("/metrics", headers=world.auth("alice"))).status == 403
    resp = await client.get("/metrics", headers=world.auth("admin"))
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    for family in (
        "hub_sync_runs_total",
        "hub_sync_records_total",
        "hub_sync_errors_total",
        "hub_sync_lag_seconds",
        "hub_open_cases",
        "hub_actions_total",
        "hub_quarantined_records",
        "hub_http_requests_total",
    ):
        assert f"# TYPE {family} " in text
    assert 'hub_sync_runs_total{shop="shop-a",platform="acme",status="ok"} 1' in text
    assert 'hub_sync_records_total{shop="shop-b",platform="acme",result="new"} 120' in text
    assert 'hub_actions_total{action="agree_refund",result="done"} 1' in text
    urgent = await urgency_counts(world.hub.engine, world.hub.now())
    for key, value in urgent.items():
        assert f'hub_open_cases{{urgency="{key}"}} {value}' in text
    assert 'hub_sync_lag_seconds{shop="shop-a",platform="acme",resource="case"} 0' in text
    for line in text.splitlines():
        assert line.startswith("#") or re.match(r"^[a-z_]+(\{.*\})? -?[0-9.e+]+$", line), line


async def test_english_on_request_and_platform_names(sqlite_only: None, world: World, client) -> None:
    await login(client, "alice")
    resp = await client.get("/lang/en?next=/", allow_redirects=False)
    assert resp.status == 303 and "hub_lang=en" in resp.headers["Set-Cookie"]
    page = await (await client.get("/")).text()
    assert "Open cases" in page and "Acme (test platform)" in page and "requested" in page
    # consequences in the reader's language: English here, Chinese on the zh-CN page
    assert "the platform agrees the refund automatically" in page and "平台自动同意退款" not in page
    assert (await client.get("/lang/fr", allow_redirects=False)).status == 404
    evil = await client.get("/lang/zh?next=//evil.example", allow_redirects=False)
    assert evil.headers["Location"] == "/"
    assert CaseFilter  # the filter type the page and API share


async def test_one_scan_summary_matches_the_core_facet_counts(sqlite_only: None, world: World) -> None:
    from hub.store.cases import facet_counts
    from hub.web.service import summary

    now = world.hub.now()
    for f in (
        CaseFilter(now=now),
        CaseFilter(now=now, shop_ids=[world.shop_ids["shop-a"]]),
        CaseFilter(now=now, statuses=["requested", "closed"], platforms=["acme"]),
        CaseFilter(now=now, due_within=timedelta(hours=24), shops=["shop-b"]),
        CaseFilter(now=now, search="C50045", shop_ids=[world.shop_ids["shop-a"]]),
    ):
        got = await summary(world.hub, f, fresh=True)
        core = await facet_counts(world.hub.engine, f)
        assert got.facets == {k: v for k, v in core.items()}, f
        assert got.total == sum(core["status"].values())


async def test_scoped_urgency_matches_the_core(sqlite_only: None, world: World) -> None:
    from hub.web.service import urgency

    for shop_ids in (
        [world.shop_ids["shop-a"]],
        [world.shop_ids["shop-b"]],
        list(world.shop_ids.values()),
        [],
    ):
        for shift in (timedelta(0), timedelta(hours=30), timedelta(days=9)):
            now = world.hub.now() + shift
            assert await urgency(world.hub, now, shop_ids) == await urgency_counts(
                world.hub.engine, now, shop_ids
            )
