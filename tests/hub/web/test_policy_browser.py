"""The policy and auto-rule pages in a real headless Chromium: an admin sets a shop policy and
sees the case's deadline name it; the auto-rule page shows the rule's dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.auto.repo import save_rule
from hub.web import create_app
from tests.hub.web import test_browser
from tests.hub.web.conftest import PASSWORD, World
from tests.hub.web.test_browser import CHROMIUM, save

browser = test_browser.browser  # the headless Chromium fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


async def test_admin_sets_a_policy_and_reads_the_auto_rules_in_the_browser(
    sqlite_only: None,
    world: World,
    aiohttp_server: Any,
    browser: Any,
    tmp_path: Path,
) -> None:
    hub = world.hub
    await save_rule(
        hub.engine,
        name="small-refunds",
        shops=["shop-a"],
        condition='status == "requested" and refund_yuan <= 200',
        action="agree_refund",
        params={},
        daily_cap_fen=30000,
        actor="admin",
        now=hub.now(),
    )
    server = await aiohttp_server(create_app(hub, owns_hub=False))
    base = str(server.make_url("/")).rstrip("/")
    page = await (
        await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    ).new_page()
    await page.goto(base + "/login")
    await page.fill("input[name=name]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.cases")

    await page.click("nav.mainnav a[href='/policy']")
    await page.wait_for_selector("#shop-shop-a")
    section = page.locator("#shop-shop-a")
    assert "未发货退款处理时限" in await section.inner_text()
    await section.locator("input[name=unshipped_refund_within]").fill("10h")
    await section.locator("button[type=submit]").click()
    await page.wait_for_selector("#result")
    assert "unshipped_refund_within=10h" in await page.inner_text("#result")
    row = page.locator("#shop-shop-a tr[data-key=unshipped_refund_within]")
    assert (await row.locator(".policy-value").inner_text()).strip() == "10 小时"
    assert "已设置" in await row.inner_text()

    case_id, _ = await world.first("shop-a", "NEW")
    await page.goto(f"{base}/cases/{case_id}")
    note = await page.inner_text(".policy-note")
    assert "未发货退款处理时限：10 小时" in note and "unshipped_refund_within" in note
    shot = tmp_path / "policy-case.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "policy-case.png")

    await page.click("nav.mainnav a[href='/auto']")
    await page.wait_for_selector("#rule-small-refunds")
    text = await page.inner_text("#rule-small-refunds")
    assert "试运行" in text and "未启用" in text
    assert await page.locator("#rule-small-refunds table.dry-run tbody tr a").count() > 0
    await page.click("#rule-small-refunds button:has-text('启用')")
    await page.wait_for_selector("#rule-small-refunds .tag-ok")
    assert "已启用" in await page.inner_text("#rule-small-refunds")
    shot = tmp_path / "auto.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "auto.png")
