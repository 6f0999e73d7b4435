"""The real demo in a real browser: ``python -m hub demo`` (the Taobao, Tmall, Pinduoduo and 17网
sandboxes, synced) serves the workbench; headless Chromium logs in as the demo admin and looks at
what an agent sees: the work list across platforms, a Taobao/Tmall case under 客服介入, and a buyer
return whose order was fulfilled by a 17网 purchase (the upstream steps and the conflicts).

Screenshots go to test-artifacts/ (demo-list.png, demo-dispute.png, demo-chain.png) and, with
HUB_UPDATE_SCREENSHOTS=1, to docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "screenshots"
#: the demo syncs four sandboxes before it serves: generous, the whole test stays well under 90 s
START_TIMEOUT = 60.0
WORKBENCH = re.compile(r"Workbench:\s*(?P<url>https?://\S+?)/?\s+—\s*log in as admin / (?P<password>\S+)")
#: a time as the API writes it: the pages give Beijing times instead (the raw record is folded away)
RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
BUYER_RETURN = re.compile(r"^Buyer return (?P<ext>\S+) \((?P<platform>\w+)/")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="browser tests need playwright (pip install -e '.[test]')",
    ),
]


def save(path: Path, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)
    if os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Demo:
    """The running ``hub demo``: where it serves, the admin's password, what it printed."""

    url: str
    password: str
    lines: list[str] = field(default_factory=list)

    def buyer_returns(self) -> list[tuple[str, str]]:
        """(external id, platform) of the "Buyer return ..." lines: sales with a 17网 chain."""
        return [(m["ext"], m["platform"]) for m in map(BUYER_RETURN.match, self.lines) if m]


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PLUGINS", "HUB_DISABLED_PLUGINS")}
    env.update(HUB_LOG_FORMAT="json", PYTHONUNBUFFERED="1", HUB_HOME=str(tmp_path / "hub-home"))
    stderr = (tmp_path / "demo.stderr").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "demo",
        "--home",
        str(tmp_path / "demo"),
        "--port",
        str(free_port()),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
    lines: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        assert proc.stdout is not None
        found: re.Match[str] | None = None

        async def until_workbench() -> re.Match[str] | None:
            assert proc.stdout is not None
            while raw := await proc.stdout.readline():
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                if m := WORKBENCH.search(line):
                    return m
            return None

        try:
            found = await asyncio.wait_for(until_workbench(), START_TIMEOUT)
        except TimeoutError:
            found = None
        if found is None:
            stderr.flush()
            tail = (tmp_path / "demo.stderr").read_text("utf-8", "replace")[-3000:]
            pytest.fail(
                f"hub demo printed no 'Workbench:' line within {START_TIMEOUT:.0f} s "
                f"(exit code {proc.returncode})\nstdout:\n" + "\n".join(lines[-40:]) + f"\nstderr:\n{tail}"
            )

        async def keep_draining() -> None:
            # the demo goes on printing (and logging); a full pipe must never block it
            assert proc.stdout is not None
            while raw := await proc.stdout.readline():
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

        drain = asyncio.create_task(keep_draining())
        yield Demo(url=found["url"].rstrip("/"), password=found["password"], lines=lines)
    finally:
        await _stop(proc)
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        stderr.close()


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


async def _api(page: Any, base: str, path: str, **params: str) -> Any:
    """A JSON API call with the page's session cookie."""
    response = await page.request.get(base + path, params=params)
    assert response.ok, f"GET {path} {params}: {response.status} {await response.text()}"
    return await response.json()


async def test_demo_in_the_browser(demo: Demo, browser: Any, tmp_path: Path) -> None:
    base = demo.url
    page = await (
        await browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
    ).new_page()
    page.set_default_timeout(15_000)

    # log in as the demo admin with the password the demo printed
    await page.goto(base + "/")
    assert "/login" in page.url
    await page.fill("input[name=name]", "admin")
    await page.fill("input[name=password]", demo.password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("table.cases tbody tr.row")

    # -- the work list: every platform's cases in one list, most urgent first -------------------
    table = await page.inner_text("table.cases")
    for name in ("淘宝", "天猫", "拼多多", "17网"):
        assert name in await page.inner_text("body"), f"{name} missing from the work list"
    shown = {p for p in ("淘宝", "天猫", "拼多多", "17网") if p in table}
    assert len(shown) >= 3, f"the first page shows cases of only {shown}"
    assert re.search(r"(剩余|已超时) ", table), "no countdown in the list"
    total = int(re.search(r"共 (\d+) 条", await page.inner_text("h1")).group(1))  # type: ignore[union-attr]
    assert total > 20
    shot = tmp_path / "demo-list.png"
    await page.screenshot(path=str(shot))
    save(shot, "demo-list.png")
    # On 17网 the merchant is the buyer: who must act reads from the merchant's side.
    await page.goto(base + "/?platform=seventeen")
    seventeen = await page.inner_text("table.cases")
    assert "我方（商家） ·" in seventeen and "供货方（档口/代发） ·" in seventeen, seventeen[:500]
    assert "买家 ·" not in seventeen
    # the consequence column says what happens on expiry, in Chinese; the list carries orders too
    assert "不退款" in seventeen or "自动" in seventeen
    await page.goto(base + "/")

    # -- a Taobao/Tmall case under 客服介入 ------------------------------------------------------
    disputes = (await _api(page, base, "/api/cases", platform="taobao", dispute="1", limit="50"))["items"]
    disputes = [c for c in disputes if c["dispute"] and c["dispute"]["kind"] == "intervention"]
    assert disputes, "the demo has no open Taobao/Tmall case under intervention"
    # the most telling one: a running clock if any, else one waiting for the merchant's evidence
    dispute = min(
        disputes,
        key=lambda c: (
            c["next_action"]["due_at"] is None,
            c["dispute"]["status"] != "evidence_required",
            c["id"],
        ),
    )
    await page.goto(f"{base}/cases/{dispute['id']}")
    head = await page.inner_text("section.case-head")
    # the platform's own code is in the folded 原始数据 panel, not in the header (its label is)
    assert dispute["external_id"] in head and dispute["platform_status"] not in head
    assert dispute["platform_status"] in (await page.text_content("#raw-data") or "")
    assert re.search(r"淘宝|天猫", head)
    block = await page.inner_text("section.dispute-card")
    assert "平台介入" in block and "纠纷单号" in block and "平台状态" in block, block
    main = await page.inner_text("main")
    assert not RAW_TIME.search(main), f"a raw ISO time on the page: {RAW_TIME.search(main)}"
    # one answer: the header's party is the next-action card's and the API's
    header_party = await page.get_attribute("dd.header-party", "data-party")
    card_party = await page.get_attribute("dd.card-party", "data-party")
    assert header_party == card_party == dispute["next_action"]["party"]
    if dispute["next_action"]["due_at"]:
        card = await page.inner_text("section.deadline-card")
        assert re.search(r"(剩余|已超时) ", card), card
        assert dispute["next_action"]["rule_id"] in card
        assert re.search(r"平台给出|平台规则|店铺策略", card) and "北京时间" in card
    shot = tmp_path / "demo-dispute.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "demo-dispute.png")

    # -- a buyer return fulfilled by a 17网 purchase: the chain and its conflicts ---------------
    returns = demo.buyer_returns()
    assert returns, "the demo printed no 'Buyer return' line:\n" + "\n".join(demo.lines[-60:])
    ext, platform = returns[0]
    assert platform in ("taobao", "pinduoduo")
    await page.goto(base + "/")
    await page.fill("input[name=q]", ext)
    await page.press("input[name=q]", "Enter")
    await page.wait_for_url(re.compile(r"[?&]q="))
    link = page.locator("a.case-link", has_text=ext)
    assert await link.count() == 1, f"searching {ext} did not find it in the list"
    found = (await _api(page, base, "/api/cases", q=ext))["items"]
    chain = next(c for c in found if c["external_id"] == ext)
    await link.click()
    await page.wait_for_url(f"**/cases/{chain['id']}")
    body = await page.inner_text("main")
    assert ext in body and chain["order_external_id"] in body
    assert not RAW_TIME.search(body), f"a raw ISO time on the page: {RAW_TIME.search(body)}"
    # the deadline card: countdown, rule id and where the deadline comes from (stated or computed)
    action = chain["next_action"]
    assert action["due_at"], chain
    card = await page.inner_text("section.deadline-card")
    assert re.search(r"(剩余|已超时) ", card) and action["rule_id"] in card, card
    assert re.search(r"平台给出|平台规则|店铺策略", card) and "北京时间" in card, card
    if action["via"]:  # the sooner upstream deadline, and the link it comes from
        assert "来自关联" in card and action["via"]["external_id"] in card, card
    # the insights: the 17网 purchase behind the sale, the upstream steps, a conflict warning
    insights = page.locator("ul.insights")
    text = await insights.inner_text()
    purchase = re.search(r"17网[^\n]*?(17\d{12})", text)
    assert purchase, text
    assert await page.locator("li.insight", has_text="上游步骤").count() >= 2, text
    assert "在17网线上申请退货" in text
    conflicts = page.locator("li.insight.lvl-danger, li.insight.lvl-warning")
    assert await conflicts.count() >= 1, text
    assert await conflicts.first.is_visible()
    assert "风险提示" in text
    # the linked 17网 purchase, with its own status, in the order card
    linked = await page.inner_text("div.linked")
    assert "17网" in linked and purchase.group(1) in linked, linked
    shot = tmp_path / "demo-chain.png"
    await page.screenshot(path=str(shot), full_page=True)
    save(shot, "demo-chain.png")
