"""The /reports and /ledger pages and their API twins on the seeded store: the same figures as the
CLI, Chinese labels and inline SVG, and shop scoping (an agent sees only their shops; the ledger is
for admins and viewers)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import plugins.pinduoduo as pinduoduo
import plugins.seventeen as seventeen
import plugins.taobao as taobao
from hub.cli import main
from hub.runtime import Hub
from hub.web import create_app
from hub.web.auth import create_token, ensure_user
from tests.hub.reports_seed import seed

NOW = datetime(2025, 3, 12, 4, 0, tzinfo=UTC)
RANGE = "from=2025-03-10&to=2025-03-11"
USERS = {"admin": ("admin", []), "alice": ("agent", ["tb"]), "fin": ("viewer", ["pdd", "s17"])}


@pytest.fixture
async def site(
    make_hub: Callable[..., Hub], aiohttp_client: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[TestClient, dict[str, dict[str, str]]]:
    hub = make_hub(taobao, pinduoduo, seventeen)
    hub.now = lambda: NOW
    await seed(hub.engine)
    headers = {}
    for name, (role, shops) in USERS.items():
        await ensure_user(hub, name, role, shops, "correct horse battery")
        headers[name] = {"Authorization": f"Bearer {await create_token(hub.engine, name, now=NOW)}"}
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    return await aiohttp_client(create_app(hub, owns_hub=False)), headers


async def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    assert await asyncio.to_thread(main, [*argv, "--from", "2025-03-10", "--to", "2025-03-11", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


async def test_api_returns_what_the_cli_prints_within_scope(
    site: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client, auth = site
    api = await (await client.get(f"/api/reports?{RANGE}", headers=auth["admin"])).json()
    cli = await _cli_json(capsys, "report")
    assert api.pop("as_of") == NOW.isoformat()
    cli.pop("as_of")
    assert api == cli and api["deadlines"]["auto_agreed"] == {"cases": 1, "money_lost_fen": 5000}
    api = await (await client.get(f"/api/ledger?{RANGE}", headers=auth["admin"])).json()
    assert api == await _cli_json(capsys, "ledger") and len(api["rows"]) == 5

    # scoping: an agent reads their shops only; the ledger is for admins and viewers
    mine = await (await client.get(f"/api/reports?{RANGE}", headers=auth["alice"])).json()
    assert mine["shops"] == ["tb"] and mine["cases"]["opened"] == 3
    assert [a["agent"] for a in mine["agents"]] == ["alice", "bob"]  # actions on tb's cases only
    assert mine["late_shipment"]["at_risk"]["orders"] == 0  # pdd's orders are not hers
    other = await client.get(f"/api/reports?{RANGE}&shop=pdd", headers=auth["alice"])
    assert other.status == 400 and "unknown shop" in (await other.json())["error"]
    assert (await client.get(f"/api/ledger?{RANGE}", headers=auth["alice"])).status == 403
    assert (await client.get(f"/ledger?{RANGE}", headers=auth["alice"])).status == 403
    fin = await (await client.get(f"/api/ledger?{RANGE}", headers=auth["fin"])).json()
    assert {r["shop"] for r in fin["rows"]} == {"pdd", "s17"}
    both = await (await client.get(f"/api/ledger?{RANGE}&shop=s17,pdd", headers=auth["fin"])).json()
    assert both == fin
    assert (await client.get(f"/api/ledger?{RANGE}&shop=pdd,tb", headers=auth["fin"])).status == 400
    bad = await client.get("/api/reports?from=2025-13-01&to=2025-03-11", headers=auth["admin"])
    assert bad.status == 400 and "from" in (await bad.json())["error"]


def _visible(html: str) -> str:
    """The page's text without tags, scripts, attributes or the SVG's markup."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def page_site(db_url: str, request: pytest.FixtureRequest) -> Any:
    """The site, on SQLite only (skipped before anything is built on PostgreSQL)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("page tests run on SQLite; the API test covers PostgreSQL")
    return request.getfixturevalue("site")


async def test_pages_in_chinese_with_charts_tables_and_download(page_site: Any) -> None:
    client, auth = page_site
    resp = await client.get(f"/reports?{RANGE}", headers=auth["admin"])
    assert resp.status == 200
    html = await resp.text()
    assert html.count("<svg") == 6 and "cdn" not in html.lower()
    text = _visible(html)
    for words in (
        "售后报表",
        "按店铺",
        "按平台",
        "按售后原因",
        "首次响应时长中位数",
        "1小时0分",
        "平台自动同意",
        "延迟发货",
        "客服处理量",
    ):
        assert words in text, words
    assert "淘宝" in text and "拼多多" in text  # platforms by their Chinese names
    assert re.search(r'data-figure="money_lost">\s*50\.00', html)
    assert re.search(r'data-figure="incurred">\s*5\.00', html)
    assert "auto_agree" not in text and "refunding" not in text  # codes shown as labels
    assert 'href="/reports"' in html and 'href="/ledger"' in html
    agent = await (await client.get(f"/reports?{RANGE}", headers=auth["alice"])).text()
    assert 'href="/ledger"' not in agent and "pdd" not in _visible(agent)

    # the ledger page: every column of a row, the totals, lost parcels, the download
    html = await (await client.get(f"/ledger?{RANGE}", headers=auth["admin"])).text()
    assert "售后账" in html and "<svg" in html
    row = re.search(r'<tr data-day="2025-03-10" data-shop="tb">(.*?)</tr>', html, flags=re.S)
    assert row is not None
    cells = dict(re.findall(r'data-col="(\w+)">([\d.]+)', row.group(1)))
    assert cells == {
        "refunds": "180.00",
        "compensation": "0.00",
        "postage": "12.00",
        "late_shipment": "0.00",
        "upstream_refunds": "0.00",
        "goods_cost": "24.00",
    }
    assert re.search(r'data-total="upstream_refunds">\s*<b>30\.00', html)
    assert "2025-03" in _visible(html) and "丢件" in html
    csv = await client.get(f"/ledger/export?format=csv&{RANGE}", headers=auth["fin"])
    body = await csv.read()
    assert csv.status == 200 and body.startswith(b"\xef\xbb\xbf") and b",tb," not in body
    assert (await client.get(f"/ledger/export?format=pdf&{RANGE}", headers=auth["fin"])).status == 400
