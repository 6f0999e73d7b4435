"""Chinese throughout: every agent page of the demo (Taobao, Tmall, Pinduoduo, JD and a 17网 chain),
rendered in zh-CN, has no English outside the allow-list of tests/hub/web/zh_scan.py — once over
the HTML the server sends (fast), once in headless Chromium as an agent sees it.

The world is ``hub demo --no-serve`` (every sandbox synced into one SQLite file), run once for the
module, plus one action taken from the command line so the audit log has a CLI entry.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from hub.config import Settings
from hub.runtime import Hub
from hub.store.cases import CaseFilter, all_cases
from hub.web import create_app
from hub.web.auth import create_token, ensure_user
from hub.web.rules_pages import rule_tables, rule_urls
from tests.hub.web.zh_scan import english_in_text, english_on_page, visible_text

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow  # one `hub demo` subprocess for the module
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
NOTE = "已电话联系买家，等待回复"


@dataclass
class Demo:
    db: str
    home: Path
    cli_case: int  #: the case the command line acted on


def _run(home: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PLUGINS", "HUB_DISABLED_PLUGINS")}
    env.update(HUB_HOME=str(home), HUB_LOG_FORMAT="json", HUB_LOG_LEVEL="warning")
    if db:
        env["HUB_DATABASE_URL"] = db
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("zh-demo")
    res = _run(home, "demo", "--no-serve", "--home", str(home / "demo"))
    assert res.returncode == 0, res.stderr[-3000:]
    db = f"sqlite+aiosqlite:///{home / 'demo' / 'hub.db'}"
    import json

    cases = json.loads(_run(home, "cases", "--json", "--platform", "taobao", db=db).stdout)
    target = next(c["id"] for c in cases if c.get("item", "case") == "case")
    # an action from the command line: it must reach the audit log like the workbench's
    for args in (("note", "--param", f"note={NOTE}"), ("assign", "--param", "agent=admin")):
        res = _run(home, "case", "act", str(target), *args, db=db)
        assert res.returncode == 0, res.stderr[-2000:]
    return Demo(db=db, home=home / "demo", cli_case=int(target))


@pytest.fixture
async def demo_hub(demo: Demo) -> AsyncIterator[Hub]:
    env = {k: os.environ.pop(k) for k in ("HUB_DISABLED_PLUGINS", "HUB_PLUGINS") if k in os.environ}
    try:
        hub = Hub.open(Settings.from_env(database_url=demo.db, home=demo.home))
        await ensure_user(hub, "admin", "admin", [], PASSWORD)
        yield hub
        await hub.close()
    finally:
        os.environ.update(env)


async def agent_pages(hub: Hub) -> tuple[list[str], list[str]]:
    """(pages every agent walks, the names the world gives: shops and users)."""
    from hub.clock import utcnow

    items = await all_cases(hub.engine, CaseFilter(now=utcnow()))
    shops = sorted({c["shop"] for c in items})
    seen: set[tuple[str, str, str]] = set()
    cases: list[str] = []
    for c in items:
        key = (c["platform"], c["kind"], c["status"])
        if key not in seen:
            seen.add(key)
            cases.append(f"/cases/{c['id']}")
    tables = await rule_tables(hub)
    pages = [
        "/",
        *(f"/?platform={p}" for p in sorted({c["platform"] for c in items})),
        "/?due=24h&dispute=1",
        *cases,
        "/rules",
        *(f"/rules/{p}" for p in tables),
        *rule_urls(tables),
        "/sync",
        "/audit",
        "/reports",
        "/ledger",
        "/policy",
        "/auto",
        "/parcels",
        "/cases/999999",
        "/no-such-page",
        "/rules/taobao.no_such_rule",
    ]
    # names the merchant gives: shops, users, ERP sinks, auto-rules
    async with hub.engine.connect() as conn:
        sinks = [r[0] for r in await conn.execute(text("SELECT name FROM erp_sinks"))]
        rules = [r[0] for r in await conn.execute(text("SELECT name FROM auto_rules"))]
    return pages, [*shops, "admin", *sinks, *rules]


def test_the_scanner_finds_english_and_allows_ids_and_raw_data() -> None:
    """The check can fail: codes and English words are found; ids, units and raw panels are not."""
    assert english_in_text("不可用：no appeal API") == ["appeal", "no"]
    assert english_in_text("状态 WAIT_SELLER_AGREE") == ["AGREE", "SELLER", "WAIT"]
    assert english_in_text("申诉事项：late_shipment") == ["late", "shipment"]
    assert english_in_text("操作：agree_refund 已完成") == ["agree", "refund"]
    assert english_in_text("售后单 TH26110900001308 · 规则 taobao.refund_reply_72h · 10 MB") == []
    html = '<p>退款</p><details data-raw><pre>{"cs_status": 10}</pre><p>raw words</p></details><p>chat</p>'
    assert visible_text(html) == "退款\nchat"
    assert english_on_page(html) == {"chat": ["chat"]}


async def test_every_agent_page_is_chinese(demo: Demo, demo_hub: Hub, aiohttp_client: Any) -> None:
    hub = demo_hub
    client: TestClient = await aiohttp_client(create_app(hub, owns_hub=False))
    token = await create_token(hub.engine, "admin", now=hub.now())
    headers = {"Authorization": f"Bearer {token}"}
    pages, names = await agent_pages(hub)
    assert len([p for p in pages if p.startswith("/cases/")]) >= 10
    found: dict[str, dict[str, list[str]]] = {}
    html: dict[str, str] = {}
    for path in pages:
        resp = await client.get(path, headers=headers)
        assert resp.status in (200, 404), (path, resp.status)
        html[path] = await resp.text()
        english = english_on_page(html[path], names)
        if english:
            found[path] = english
    login = await client.get("/login")
    english = english_on_page(await login.text(), names)
    if english:
        found["/login"] = english
    assert not found, "English on Chinese pages:\n" + "\n".join(
        f"{p}: {w} | {line}" for p, lines in found.items() for line, w in lines.items()
    )

    # platform codes: Chinese labels on the page, the code itself only in the raw-data panel
    def platform_of(path: str) -> str | None:
        m = re.search(r'class="case-head.*?pbadge p-(\w+)', html[path], re.S)
        return m.group(1) if m else None

    taobao = next(p for p in pages if p.startswith("/cases/") and platform_of(p) == "taobao")
    code = re.search(r"<dt>平台状态码 · 售后状态</dt><dd><code>([^<]+)</code>", html[taobao])
    assert code, "the raw-data panel names the platform's status code"
    if re.fullmatch(r"[A-Z_]+", code.group(1)):  # a word code (Tmall's exchange codes are digits)
        assert code.group(1) not in visible_text(html[taobao])
    assert 'id="raw-data" data-raw' in html[taobao] and "原始数据" in html[taobao]

    # a deadline's source links to its rule page, which says the rule in Chinese
    link = re.search(r'href="/rules/([a-z0-9_]+\.[a-z0-9_]+)"', html[taobao])
    assert link, "the deadline card links to its rule"
    rule = visible_text(html[f"/rules/{link.group(1)}"])
    for words in ("规则编号", "待处理方", "时限", "超时后果", "时限来源", "依据"):
        assert words in rule, (words, rule[:400])
    assert "计时起点" in rule or "无时限" in rule
    index = visible_text(html["/rules"])
    assert "淘宝 / 天猫" in index and "拼多多" in index and "17网" in index

    # a 17网 chain: a sale whose order a 17网 purchase fulfils shows its upstream steps in Chinese
    chain = [p for p in pages if p.startswith("/cases/") and "上游步骤" in html[p]]
    assert chain, "no case page shows a 17网 chain"

    # the 404 page speaks Chinese, the server's English message folded away
    assert "找不到该页面或售后单" in visible_text(html["/cases/999999"])
    assert "no case 999999" not in visible_text(html["/cases/999999"])

    # the audit log: the command line's actions, named, with what they changed
    audit = visible_text(html["/audit"])
    assert "命令行" in audit and "添加备注" in audit and "分配客服" in audit
    assert "负责人" in audit and "admin" in audit and NOTE in audit
    assert "案件数据无变化" in audit  # the note changed no audited field


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM}")
async def test_every_agent_page_is_chinese_in_the_browser(
    demo: Demo, demo_hub: Hub, aiohttp_server: Any
) -> None:
    from playwright.async_api import async_playwright

    hub = demo_hub
    server = await aiohttp_server(create_app(hub, owns_hub=False, poll_ms=60_000))
    base = str(server.make_url("/")).rstrip("/")
    pages, names = await agent_pages(hub)
    # every page but the rule pages (a few of those: the HTML test reads them all)
    rules = [p for p in pages if p.startswith("/rules/") and "." in p.rsplit("/", 1)[-1]]
    walk = [p for p in pages if p not in rules] + rules[:3]
    visible_js = """() => {
        const body = document.body.cloneNode(true);
        // the raw panels are allowed; the avatar is the user's initial beside the name
        body.querySelectorAll('[data-raw], script, style, template, .avatar').forEach(e => e.remove());
        body.querySelectorAll('details:not([open]) > :not(summary)').forEach(e => e.remove());
        return body.innerText;
    }"""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await (
                await chromium.new_context(
                    viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
                )
            ).new_page()
            page.set_default_timeout(15_000)
            await page.goto(base + "/")
            assert "/login" in page.url
            problems: dict[str, list[str]] = {}
            words = english_in_text(await page.evaluate(visible_js), names)
            if words:
                problems["/login"] = words
            await page.fill("input[name=name]", "admin")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_selector("table.cases tbody tr.row")
            for path in walk:
                await page.goto(base + path)
                text = await page.evaluate(visible_js)
                words = sorted({w for line in text.splitlines() for w in english_in_text(line, names)})
                if words:
                    problems[path] = words
            assert not problems, f"English an agent reads in the browser: {problems}"
            # the deadline card's rule link opens the rule, in Chinese
            case = next(p for p in walk if p.startswith("/cases/"))
            await page.goto(base + case)
            if await page.locator("a.rule-link").count():
                await page.locator("a.rule-link").first.click()
                await page.wait_for_url(re.compile(r"/rules/"))
                assert "超时后果" in await page.inner_text("main")
        finally:
            await chromium.close()
