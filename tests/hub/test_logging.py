"""Logs: JSON or console, shop and platform bound on sync lines, secrets never written."""

from __future__ import annotations

import io
import json

import structlog

import tests.testplatform as acme
from hub.logging import configure_logging, register_secrets
from hub.store.shops import add_shop
from hub.sync import sync_shops
from tests.testplatform.server import TOKEN, AcmeSandbox


def test_secret_keys_and_values_are_redacted():
    out = io.StringIO()
    configure_logging("json", "debug", stream=out)
    register_secrets(["s3cr3t-value-123"])
    log = structlog.get_logger("t")
    log.info(
        "call",
        app_secret="abc",
        sign="DEADBEEF",
        url="https://x/?session=s3cr3t-value-123",
        params={"access_token": "tok", "page": 2},
    )
    line = json.loads(out.getvalue())
    assert line["app_secret"] == "***" and line["sign"] == "***"
    assert "s3cr3t-value-123" not in out.getvalue()
    assert line["params"] == {"access_token": "***", "page": 2}


async def test_sync_logs_bind_shop_and_platform_and_never_the_token(make_hub):
    out = io.StringIO()
    configure_logging("json", "debug", stream=out)
    register_secrets([TOKEN])
    sandbox = AcmeSandbox()
    shops = await sandbox.start("")
    try:
        hub = make_hub(acme)
        await add_shop(hub.engine, hub.registry.info("acme"), "acme-1", dict(shops[0].settings))
        sandbox.server.inject("auth_expired")
        await sync_shops(hub)
    finally:
        await sandbox.stop()
    text = out.getvalue()
    assert TOKEN not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    sync_lines = [ln for ln in lines if ln["event"].startswith(("sync_", "needs_reauth"))]
    assert sync_lines and all(ln["shop"] == "acme-1" and ln["platform"] == "acme" for ln in sync_lines)


def test_console_format():
    out = io.StringIO()
    configure_logging("console", "info", stream=out)
    structlog.get_logger("t").info("hello", shop="s")
    assert "hello" in out.getvalue() and "shop" in out.getvalue()
