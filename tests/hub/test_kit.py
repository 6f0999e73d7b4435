"""The plugin kit: typed settings, the client base, paging, the adapter defaults, the sandbox base,
plugin commands, and fault names that agree everywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import tests.testplatform as acme
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, Shop
from hub.errors import (
    ActionError,
    ConfigError,
    PlatformAuthError,
    PlatformConnectionError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from hub.kit import BaseAdapter, PageSlice, PlatformClient, paginate
from hub.platform import ActionRequest, AdapterContext, PlatformInfo, Sandbox, SettingSpec
from hub.ratelimit import RateLimiter
from hub.rules import RuleTable
from hub.settings import ShopSettings, check_value
from hub.store.shops import validate_settings
from hub.testing import fake_server, harness
from hub.testing.fake_server import FakeClock, FakePlatformServer

ROOT = Path(__file__).resolve().parents[2]


# -- typed settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "good", "bad", "why"),
    [
        ("duration", "36h", "banana", "must be a duration such as 90m, 24h or 3d"),
        ("integer", "30", "3.5", "must be a whole number"),
        ("number", "0.5", "fast", "must be a number"),
        ("bool", "true", "maybe", "must be true or false"),
        ("url", "https://api.jd.com/routerjson", "api.jd.com", "must be an http(s) or ws(s) URL"),
        ("path", "/srv/imports", "", "must be a file or folder path"),
        ("secret", "s3cr3t", "", "must not be empty"),
    ],
)
def test_each_kind_accepts_and_refuses(kind: str, good: str, bad: str, why: str) -> None:
    spec = SettingSpec(name="x", help="x", kind=kind)
    assert check_value(spec, good) is None
    assert check_value(spec, bad) == why
    assert check_value(spec, "env:SOME_VAR") is None  # read later, checked then


def test_choice_and_inferred_kinds() -> None:
    assert SettingSpec(name="m", help="m", choices=("md5", "hmac")).value_kind == "choice"
    assert (
        check_value(SettingSpec(name="m", help="m", choices=("md5", "hmac")), "sha1")
        == "must be one of md5, hmac"
    )
    assert SettingSpec(name="w", help="w", default="24h").value_kind == "duration"
    assert SettingSpec(name="n", help="n", default="30").value_kind == "number"
    assert SettingSpec(name="b", help="b", default="false").value_kind == "bool"
    assert SettingSpec(name="u", help="u", default="https://x.example").value_kind == "url"
    assert SettingSpec(name="s", help="s", secret=True).value_kind == "secret"
    assert SettingSpec(name="t", help="t", default="all").value_kind == "string"
    with pytest.raises(ValueError, match="kind 'colour' is not one of"):
        SettingSpec(name="c", help="c", kind="colour")


def test_validate_settings_names_every_bad_value_and_hides_secrets() -> None:
    info = PlatformInfo(
        id="demo",
        name="Demo",
        name_zh="演示",
        settings=(
            SettingSpec(name="reply_within", help="policy", default="24h"),
            SettingSpec(name="token", help="token", secret=True),
        ),
    )
    with pytest.raises(ConfigError) as err:
        validate_settings(info, {"reply_within": "banana", "token": "", "rate_limit": "lots"})
    text = str(err.value)
    assert "reply_within='banana' must be a duration" in text
    assert "token=*** must not be empty" in text
    assert "rate_limit='lots' must be a number" in text


def test_shop_settings_read_typed_with_defaults() -> None:
    info = PlatformInfo(
        id="demo",
        name="Demo",
        name_zh="演示",
        settings=(
            SettingSpec(name="w", help="w", default="2h"),
            SettingSpec(name="f", help="f", default="true"),
        ),
    )
    s = ShopSettings(info, {"n": "1.5"}, shop="main")
    assert s.duration("w") == timedelta(hours=2) and s.flag("f") and s.number("n") == 1.5
    with pytest.raises(ConfigError, match="demo shop 'main' setting missing is missing"):
        s.text("missing")


def _hub_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HUB_HOME": str(tmp_path / "home"),
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen",
        "HUB_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_shop_add_and_set_refuse_a_bad_value_with_one_line(tmp_path: Path) -> None:
    assert _hub_cli(tmp_path, "db", "upgrade").returncode == 0
    base = [
        f"{k}={v}"
        for k, v in {
            "app_key": "k",
            "app_secret": "s",
            "access_token": "t",
            "bu_id": "1",
            "operate_pin": "p",
            "operate_nick": "n",
        }.items()
    ]
    sets = [x for kv in base for x in ("--set", kv)]
    res = _hub_cli(tmp_path, "shop", "add", "jd", "main", *sets, "--set", "audit_within=banana")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == (
        "hub: error: jd: audit_within='banana' must be a duration such as 90m, 24h or 3d"
    ), res.stderr
    assert _hub_cli(tmp_path, "shop", "add", "jd", "main", *sets).returncode == 0
    res = _hub_cli(tmp_path, "shop", "set", "main", "--set", "request_timeout=soon")
    assert res.returncode == 2 and "request_timeout='soon' must be a number" in res.stderr, res.stderr


# -- the client base ---------------------------------------------------------------------------


@dataclass
class Script:
    """What the little server answers next: (status, body, headers) or "stall"."""

    answers: list[Any]
    hits: int = 0


@pytest.fixture
async def scripted(tmp_path: Path) -> AsyncIterator[tuple[Script, str, AdapterContext]]:
    script = Script(answers=[])

    async def handle(request: web.Request) -> web.StreamResponse:
        script.hits += 1
        answer = script.answers.pop(0)
        if answer == "stall":
            await __import__("asyncio").sleep(1)
            answer = (200, '{"ok": true}', {})
        status, body, headers = answer
        return web.Response(status=status, text=body, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/api", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with aiohttp.ClientSession() as session:
        ctx = AdapterContext(
            session=session,
            limiter=RateLimiter(1000),
            now=lambda: datetime.now(UTC),
            data_dir=tmp_path,
            sleep=sleep,
        )
        yield script, f"http://127.0.0.1:{port}/api", ctx
    await runner.cleanup()


class Client(PlatformClient):
    platform = "demo"


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        ((429, "{}", {"Retry-After": "7"}), PlatformRateLimitError, "demo items.list: throttled"),
        ((401, "{}", {}), PlatformAuthError, "credentials refused"),
        ((503, "busy", {}), PlatformConnectionError, "server error 503"),
        ((400, "{}", {}), PlatformRequestError, "refused (400)"),
        ((200, "<html>", {}), PlatformConnectionError, "unreadable answer"),
    ],
)
async def test_transport_answers_become_hub_errors(scripted, answer, error, text) -> None:
    script, url, ctx = scripted
    script.answers = [answer]
    with pytest.raises(error, match=re.escape(text)) as caught:
        await Client(ctx).request("items.list", "GET", url)
    if error is PlatformRateLimitError:
        assert caught.value.retry_after == 7.0


async def test_a_timeout_is_a_connection_error_and_reads_are_retried(scripted) -> None:
    script, url, ctx = scripted
    script.answers = ["stall", (200, '{"ok": true}', {})]
    response = await Client(ctx, timeout=0.2, retries=1, retry_wait=0.5).request("items.list", "GET", url)
    assert response.body == {"ok": True} and script.hits == 2
    assert ctx.sleep is not None
    script.answers = ["stall"]
    with pytest.raises(PlatformConnectionError, match=re.escape("demo items.create: no answer within 0.2 s")):
        await Client(ctx, timeout=0.2, retries=3).request("items.create", "POST", url, idempotent=False)


async def test_the_limiter_is_asked_for_every_call(scripted) -> None:
    script, url, ctx = scripted
    asked: list[str | None] = []

    class Limiter(RateLimiter):
        async def acquire(self, api: str | None = None) -> None:
            asked.append(api)

    ctx = AdapterContext(session=ctx.session, limiter=Limiter(), now=ctx.now, data_dir=ctx.data_dir)
    script.answers = [(200, "{}", {}), (200, "{}", {})]
    client = Client(ctx)
    await client.request("a", "GET", url)
    await client.request("b", "GET", url)
    assert asked == ["a", "b"]


# -- paging ------------------------------------------------------------------------------------


async def _pages(total: int, *, last_first: bool, with_total: bool = True) -> tuple[list[int], list[int]]:
    rows = list(range(total))
    asked: list[int] = []

    async def fetch(page: int) -> PageSlice[int]:
        asked.append(page)
        return PageSlice(items=rows[(page - 1) * 10 : page * 10], total=total if with_total else None)

    got = [i async for items in paginate(fetch, page_size=10, last_first=last_first) for i in items]
    return got, asked


async def test_paginate_forward_and_from_the_last_page() -> None:
    got, asked = await _pages(25, last_first=False)
    assert got == list(range(25)) and asked == [1, 2, 3]
    got, asked = await _pages(25, last_first=True)
    assert sorted(got) == list(range(25)) and asked == [1, 3, 2, 1]
    got, asked = await _pages(7, last_first=True)
    assert asked == [1]
    got, asked = await _pages(20, last_first=False, with_total=False)  # full pages: ask on
    assert got == list(range(20)) and asked == [1, 2, 3]


# -- adapter defaults --------------------------------------------------------------------------


async def test_base_adapter_defaults(tmp_path: Path) -> None:
    class Minimal(BaseAdapter):
        info = acme.INFO
        rules = RuleTable(platform="acme")

    async with aiohttp.ClientSession() as session:
        ctx = AdapterContext(
            session=session, limiter=RateLimiter(), now=lambda: datetime.now(UTC), data_dir=tmp_path
        )
        adapter = Minimal(
            Shop(name="m", platform="acme", settings={"api_url": "http://x", "token": "t"}), ctx
        )
        now = datetime.now(UTC)
        case = AfterSale(
            external_id="1",
            order_external_id="2",
            kind=AfterSaleKind.REFUND_ONLY,
            status=AfterSaleStatus.REQUESTED,
            platform_status="NEW",
            created_at=now,
            updated_at=now,
        )
        states = {a.action: a for a in adapter.available_actions(case, None)}
        assert states["agree_refund"].enabled and not states["refuse"].enabled
        assert states["refuse"].reason == "acme has no refuse API"
        assert adapter.rule_table() is Minimal.rules
        assert await adapter.fetch_hints() == [] and await adapter.close() is None
        with pytest.raises(ActionError, match="acme has no action 'agree_refund'"):
            await adapter.perform(
                ActionRequest(
                    action="agree_refund", case=case, order=None, params={}, idempotency_key="k", actor="a"
                )
            )


# -- the sandbox base --------------------------------------------------------------------------


async def test_a_fake_server_is_a_sandbox_and_its_post_init_runs() -> None:
    class Plain(FakePlatformServer):
        def __post_init__(self) -> None:
            self.ready = True

        def setup_routes(self, app: web.Application) -> None:
            app.router.add_get("/", lambda request: web.json_response({}))

        def demo_shops(self, workdir: str) -> list[Any]:
            from hub.platform import DemoShop

            return [DemoShop(name="demo", settings={"url": self.base_url})]

    server = Plain()
    assert server.ready and isinstance(server, Sandbox)
    [shop] = await server.start("")
    try:
        assert shop.settings["url"].startswith("http://127.0.0.1:") and server.port
    finally:
        await server.stop()
    assert abs(FakeClock().now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_fault_names_agree_between_harness_server_and_docs() -> None:
    assert harness.ALL_FAULTS == fake_server.FAULTS
    doc = (ROOT / "docs" / "writing-a-plugin.md").read_text()
    for fault in fake_server.FAULTS:
        assert f"`{fault}`" in doc, f"docs/writing-a-plugin.md does not name the fault {fault!r}"


# -- plugin commands ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_plugin_adds_a_command_and_a_clash_is_named(tmp_path: Path) -> None:
    (tmp_path / "greeter.py").write_text(
        textwrap.dedent(
            '''
            from hub import hookimpl

            async def hello(args):
                print(f"hello {args.name}")
                return 0

            @hookimpl
            def hub_register_commands(register):
                """Add `hub hello NAME`."""
                parser = register("hello", "say hello")
                parser.add_argument("name")
                parser.set_defaults(func=hello)
            '''
        )
    )
    (tmp_path / "clash.py").write_text(
        textwrap.dedent(
            '''
            from hub import hookimpl

            @hookimpl
            def hub_register_commands(register):
                """Take a core command's name."""
                register("sync", "not allowed")
            '''
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
        "HUB_PLUGINS": "greeter,clash",
        "HUB_HOME": str(tmp_path / "home"),
    }
    res = subprocess.run(
        [sys.executable, "-m", "hub", "hello", "world"], env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "hello world"
    assert "plugin 'clash' could not add its commands: plugin 'clash' adds the command 'sync'" in res.stderr
