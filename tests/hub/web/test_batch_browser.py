"""Batch work in a real headless Chromium: an agent's list opens on 我的待办, "select all on this
page" ticks every case and counts them, a money-moving batch asks for confirmation with its total in
元, and the results page shows each case's outcome in Chinese. The screenshot of the results goes to
test-artifacts/ (docs/screenshots/ with HUB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hub.web import create_app
from tests.hub.web.conftest import PASSWORD, World
from tests.hub.web.test_browser import browser, pytestmark, save

__all__ = ["browser", "pytestmark"]


async def test_agent_selects_all_and_runs_a_confirmed_batch(
    sqlite_only: None, world: World, aiohttp_server: Any, browser: Any, tmp_path: Path
) -> None:
    server = await aiohttp_server(create_app(world.hub, owns_hub=False, poll_ms=300))
    base = str(server.make_url("/")).rstrip("/")
    page = await (
        await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    ).new_page()
    await page.goto(base + "/login")
    await page.fill("input[name=name]", "alice")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.cases tbody tr.row")
    assert "mine=1" in page.url and "我的待办" in await page.inner_text("nav.queue-switch")
    # only the cases on this page that can take the action: the ones asking for a refund
    await page.goto(base + "/?mine=1&q=&status=requested")
    await page.wait_for_selector("input.row-select")
    boxes = await page.locator("input.row-select").count()
    assert boxes > 1
    await page.check("input.select-all")
    assert await page.locator("input.row-select:checked").count() == boxes
    assert await page.inner_text(".batch-count") == f"已选 {boxes} 条"
    await page.uncheck("input.row-select >> nth=0")
    assert await page.inner_text(".batch-count") == f"已选 {boxes - 1} 条"
    assert await page.locator("input.select-all").evaluate("el => el.indeterminate")
    await page.check("input.row-select >> nth=0")
    await page.select_option("select.batch-action", "agree_refund")
    shot = tmp_path / "batch-select.png"
    await page.screenshot(path=str(shot))
    save(shot, "batch-select.png")
    await page.click(".batch-toolbar button[type=submit]")
    await page.wait_for_selector(".batch-total")
    total = await page.inner_text(".batch-total")
    assert re.search(rf"将对 {boxes} 个售后单执行「同意退款」，涉及退款合计 ¥\d+\.\d\d", total), total
    assert world.agree_calls("shop-a") == 0
    await page.click("form.batch-confirm button[type=submit]")
    await page.wait_for_selector("table.batch-results")
    assert f"完成 {boxes} 条，被拒绝 0 条，跳过 0 条" in await page.inner_text("#result")
    assert await page.locator("tr.outcome-done").count() == boxes
    assert world.agree_calls("shop-a") == boxes
    shot = tmp_path / "batch.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "batch.png")
