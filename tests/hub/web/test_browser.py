"""The workbench in a real headless Chromium (Debian's, driven by Playwright): log in, filter, open a
case, act on the acme sandbox, watch a new case appear without a reload, and see another shop's case
stay invisible. Screenshots go to test-artifacts/ (and to docs/screenshots/ with
HUB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.sync import sync_shops
from hub.web import create_app
from tests.hub.web.conftest import PASSWORD, World

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
# a 1x1 PNG: evidence photos only need to be real images of the accepted type
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


def save(path: Path, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)
    if os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_agent_works_a_case_in_the_browser(
    sqlite_only: None, world: World, aiohttp_server: Any, browser: Any, tmp_path: Path
) -> None:
    hub = world.hub
    # the case page shown in the README: an escalated (intervention) case with evidence and notes
    dispute_id, _dispute_ext = await world.first("shop-a", "ESCALATED")
    from hub.actions import add_evidence, perform_action

    await add_evidence(
        hub,
        dispute_id,
        name="开箱视频截图.png",
        content=PNG,
        content_type="image/png",
        actor="alice",
        description="包裹外箱完好，商品无破损",
    )
    await perform_action(
        hub, dispute_id, "note", {"note": "买家称商品破损，已联系仓库调取发货称重记录。"}, actor="alice"
    )
    await perform_action(hub, dispute_id, "assign", {"agent": "alice"}, actor="admin")
    server = await aiohttp_server(create_app(hub, owns_hub=False, poll_ms=300))
    base = str(server.make_url("/")).rstrip("/")
    page = await (
        await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    ).new_page()

    # log in: the list is behind the login page
    await page.goto(base + "/")
    assert "/login" in page.url
    await page.fill("input[name=name]", "alice")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.cases tbody tr.row")
    rows = await page.locator("tr.row").count()
    open_a = int(re.search(r"共 (\d+) 条", await page.inner_text("h1")).group(1))  # type: ignore[union-attr]
    assert rows == min(open_a, 50) and open_a > 0
    text = await page.inner_text("body")
    assert "待处理售后" in text and "测试平台" in text
    # shop-b's own cases (C50040-C50059) never show, not even through the search box
    assert "C50045" not in text and "shop-b" not in text
    shot = tmp_path / "list.png"
    await page.screenshot(path=str(shot))
    save(shot, "list.png")

    await page.fill("input[name=q]", "C50045")
    await page.press("input[name=q]", "Enter")
    await page.wait_for_load_state("load")
    assert "没有符合条件的售后单" in await page.inner_text("section.list")

    # filter: disputes only (the checkbox applies at once)
    await page.goto(base + "/")
    await page.check("input[name=dispute]")
    await page.wait_for_url("**dispute=1**")
    tags = await page.locator("tr.row .tag-dispute").count()
    assert tags == await page.locator("tr.row").count() > 0

    # the dispute case page
    await page.goto(f"{base}/cases/{dispute_id}")
    body = await page.inner_text("body")
    # the platform's code ESCALATED is in the folded 原始数据 panel, not in what the agent reads
    assert "平台介入" in body and "ESCALATED" not in body and "开箱视频截图.png" in body
    assert "ESCALATED" in (await page.text_content("#raw-data") or "")
    shot = tmp_path / "case.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "case.png")

    # act on a requested case: confirm (money moves), double-click; the sandbox is asked once
    case_id, case_ext = await world.first("shop-a", "NEW")
    await page.goto(f"{base}/cases/{case_id}")
    form = page.locator("form[data-action=agree_refund]")
    await form.locator("input[name=confirm]").check()
    await form.locator("button[type=submit]").dblclick()
    await page.wait_for_selector("#result.alert-success")
    assert "已完成" in await page.inner_text("#result")
    assert world.servers["shop-a"].cases[case_ext]["status"] == "AGREED"
    assert world.agree_calls() == 1
    # resubmitting the same rendered form (history back + submit) replays, never acts twice
    await page.go_back()
    await page.wait_for_load_state("load")
    if await page.locator("form[data-action=agree_refund] button[type=submit]:not([disabled])").count():
        await page.locator("form[data-action=agree_refund] input[name=confirm]").check()
        await page.locator("form[data-action=agree_refund] button[type=submit]").click()
        await page.wait_for_load_state("load")
    assert world.agree_calls() == 1

    # a new case appears in the open list without a reload
    await page.goto(base + "/")
    await page.wait_for_selector("tr.row")
    server_a = world.servers["shop-a"]
    now = server_a.clock.now()
    server_a.clock.advance(timedelta(minutes=5))
    server_a.orders["O99999"] = {
        "id": "O99999",
        "status": "PAID",
        "total": "88.00",
        "created": now.isoformat(),
        "modified": now.isoformat(),
    }
    server_a.cases["C77777"] = {
        "id": "C77777",
        "order_id": "O99999",
        "status": "NEW",
        "amount": "88.00",
        "reason": "damaged",
        "created": (now - timedelta(hours=70)).isoformat(),
        "modified": (now + timedelta(minutes=1)).isoformat(),
    }
    await sync_shops(hub)
    await page.wait_for_selector("text=C77777", timeout=10_000)

    # shop-b's case is a 404 page, not a glimpse of it
    other = await world.case_id("shop-b", "C50045")
    response = await page.goto(f"{base}/cases/{other}")
    assert response is not None and response.status == 404
    main_text = await page.inner_text("main")
    assert "C50045" not in main_text and "shop-b" not in main_text and "404" in main_text
