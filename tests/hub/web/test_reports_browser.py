"""The reports and ledger pages in a real headless Chromium, on a laptop and a phone: the charts
are drawn, nothing of the pages' own content runs off the screen. Screenshots go to
test-artifacts/ (and to docs/screenshots/ with HUB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import plugins.pinduoduo as pinduoduo
import plugins.seventeen as seventeen
import plugins.taobao as taobao
from hub.runtime import Hub
from hub.web import create_app
from hub.web.auth import ensure_user
from tests.hub.reports_seed import seed
from tests.hub.web.test_browser import CHROMIUM, browser, save  # noqa: F401 (the browser fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need chromium at {CHROMIUM}"),
]

#: the right edge of every card on the page, and the viewport's width
OVERFLOW = """() => [window.innerWidth, Math.max(
  ...[...document.querySelectorAll('main section.card')].map(e => e.getBoundingClientRect().right))]"""


async def test_reports_and_ledger_on_laptop_and_phone(
    sqlite_only: None,
    make_hub: Callable[..., Hub],
    aiohttp_server: Any,
    browser: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    hub = make_hub(taobao, pinduoduo, seventeen)
    hub.now = lambda: datetime(2025, 3, 12, 4, 0, tzinfo=UTC)
    await seed(hub.engine)
    await ensure_user(hub, "admin", "admin", [], "correct horse battery")
    server = await aiohttp_server(create_app(hub, owns_hub=False))
    base = str(server.make_url("/")).rstrip("/")
    for name, viewport in (("", {"width": 1366, "height": 768}), ("-phone", {"width": 390, "height": 844})):
        page = await (await browser.new_context(viewport=viewport, locale="zh-CN")).new_page()
        await page.goto(base + "/login")
        await page.fill("input[name=name]", "admin")
        await page.fill("input[name=password]", "correct horse battery")
        await page.click("button[type=submit]")
        await page.wait_for_load_state("load")
        await page.goto(base + "/reports?from=2025-03-10&to=2025-03-11")
        body = await page.inner_text("body")
        assert "售后报表" in body and "平台自动同意" in body
        box = await page.locator("#by_shop svg").bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40
        width, right = await page.evaluate(OVERFLOW)
        assert right <= width + 1, (name, width, right)
        shot = tmp_path / f"reports{name}.png"
        await page.screenshot(path=str(shot), full_page=True)
        save(shot, f"reports{name}.png")

        await page.goto(base + "/ledger?from=2025-03-10&to=2025-03-11")
        assert "180.00" in await page.inner_text("table.ledger-table")
        width, right = await page.evaluate(OVERFLOW)
        assert right <= width + 1, (name, width, right)
        shot = tmp_path / f"ledger{name}.png"
        await page.screenshot(path=str(shot), full_page=True)
        save(shot, f"ledger{name}.png")
        await page.context.close()
