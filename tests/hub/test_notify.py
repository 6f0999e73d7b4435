"""超时预警 alerts: deadlines entering a channel's window are announced once, to a DingTalk robot
(signed), a WeCom robot or a JSON webhook; failures are retried, recorded, never fatal to a sync.
Against a local fake robot server; the once-per-deadline promise through `hub sync` twice."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.cli import main
from hub.notify import announce
from hub.notify.channels import add_channel
from hub.notify.models import AlertChannelRecord, AlertSentRecord
from hub.store.cases import CaseFilter, all_cases
from hub.store.models import AfterSaleRecord, WorkerTaskRecord
from hub.store.shops import add_shop, get_shop_row, shop_from_row
from hub.sync.engine import sync_one_shop
from tests import testplatform
from tests.testplatform.server import TOKEN, AcmeServer

from .fakerobot import FakeRobots
from .workerkit import run_hub

SENT = AlertSentRecord.__table__
CHANNELS = AlertChannelRecord.__table__
WINDOW = timedelta(days=3)


@pytest.fixture
async def robots() -> Any:
    r = FakeRobots()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def acme() -> Any:
    server = AcmeServer()
    server.populate(n_cases=40, days=2)
    server.api = await server.serve() + "/api"  # type: ignore[attr-defined]
    yield server
    await server.stop()


async def _shop(hub: Any, server: AcmeServer, name: str = "acme-a") -> Any:
    await add_shop(hub.engine, hub.registry.info("acme"), name, {"api_url": server.api, "token": TOKEN})
    return shop_from_row(await get_shop_row(hub.engine, name))


async def _expected(hub: Any, shop: Any) -> list[dict[str, Any]]:
    """What the work list says is due within the window for the merchant: what must be announced."""
    return await all_cases(
        hub.engine,
        CaseFilter(shop_ids=[shop.id], awaiting=["merchant"], due_within=WINDOW, now=hub.now(), orders=True),
    )


async def _sent(hub: Any) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list((await conn.execute(select(SENT).order_by(SENT.c.id))).all())


async def test_dingtalk_signed_batched_chinese_message_once_per_deadline(make_hub, acme, robots) -> None:
    hub = make_hub(testplatform)
    shop = await _shop(hub, acme)
    await add_channel(
        hub.engine,
        name="ops",
        kind="dingtalk",
        url=robots.dingtalk_url,
        secret=robots.dingtalk_secret,
        within=WINDOW,
    )
    summary = await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    assert summary.status == "ok"
    due = await _expected(hub, shop)
    assert len(due) > 10, "the sandbox has more items in the window than one message lists"
    assert robots.refused == []
    [msg] = robots.received["dingtalk"]  # one message for the whole batch
    text = msg["markdown"]["text"]
    assert f"超时预警：{len(due)} 件" in msg["markdown"]["title"]
    assert text.count("\n- **acme-a**（测试平台）") == 10 and f"…及另外 {len(due) - 10} 件" in text
    assert "北京时间" in text and ("剩余" in text or "已超时" in text) and "待我方（商家）" in text
    first = due[0]
    assert first["external_id"] in text  # soonest first
    rows = await _sent(hub)
    assert sorted((r.item, r.item_id) for r in rows) == sorted((d["item"], d["id"]) for d in due)
    assert {r.status for r in rows} == {"sent"}
    # a second sync announces nothing new: same deadlines
    await sync_one_shop(hub, shop)
    assert len(robots.received["dingtalk"]) == 1


async def test_moved_deadline_is_new_and_a_returning_case_is_not_reannounced(make_hub, acme, robots) -> None:
    hub = make_hub(testplatform)
    shop = await _shop(hub, acme)
    await add_channel(hub.engine, name="hook", kind="webhook", url=robots.webhook_url, within=WINDOW)
    await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    [first] = robots.received["webhook"]
    case = next(i for i in first["items"] if i["item"] == "case")
    C = AfterSaleRecord.__table__
    old_due = (await _sent(hub))[0].due_at
    due = next(r.due_at for r in await _sent(hub) if r.item == "case" and r.item_id == case["id"])

    async def set_due(at: Any) -> None:
        async with hub.engine.begin() as conn:
            await conn.execute(
                update(C).where(C.c.id == case["id"]).values(deadline_due_at=at, work_due_at=at)
            )

    # leaves the window, comes back with the same deadline: nothing new
    await set_due(due + timedelta(days=30))
    await announce.announce_after_sync(hub, shop)
    await set_due(due)
    await announce.announce_after_sync(hub, shop)
    assert len(robots.received["webhook"]) == 1
    # the deadline moves (a re-submitted request): announced again, that case alone
    await set_due(due + timedelta(hours=1))
    await announce.announce_after_sync(hub, shop)
    assert len(robots.received["webhook"]) == 2
    again = robots.received["webhook"][1]
    assert again["count"] == 1 and again["items"][0]["id"] == case["id"]
    assert again["items"][0]["due_at"] == (due + timedelta(hours=1)).isoformat()
    assert old_due is not None


async def test_refusal_is_recorded_not_retried_and_never_fails_the_sync(make_hub, acme, robots) -> None:
    """A wrong 加签 secret: DingTalk answers errcode 310000. Sent once (retrying cannot help),
    recorded on the channel and the rows, the sync still ok; the next pass tries again."""
    hub = make_hub(testplatform)
    shop = await _shop(hub, acme)
    await add_channel(
        hub.engine, name="ops", kind="dingtalk", url=robots.dingtalk_url, secret="SECwrong", within=WINDOW
    )
    summary = await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    assert summary.status == "ok" and summary.errors == []
    assert robots.requests["dingtalk"] == 1 and len(robots.refused) == 1
    async with hub.engine.connect() as conn:
        chan = (await conn.execute(select(CHANNELS))).one()
    assert "310000" in chan.last_error and chan.last_error_at is not None
    rows = await _sent(hub)
    assert rows and {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert "SECwrong" not in chan.last_error and "dt-access-token" not in chan.last_error
    # fixed: the next pass sends what is pending
    async with hub.engine.begin() as conn:
        await conn.execute(update(CHANNELS).values(secret=robots.dingtalk_secret))
    await sync_one_shop(hub, shop)
    assert len(robots.received["dingtalk"]) == 1
    assert {r.status for r in await _sent(hub)} == {"sent"}


async def test_a_500_is_retried_with_backoff_then_sent(make_hub, acme, robots) -> None:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    hub = make_hub(testplatform, sleep=sleep)
    shop = await _shop(hub, acme)
    await add_channel(hub.engine, name="wx", kind="wecom", url=robots.wecom_url, within=WINDOW)
    robots.fail("wecom", 2)
    summary = await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    assert summary.status == "ok"
    assert robots.requests["wecom"] == 3 and len(robots.received["wecom"]) == 1
    body = robots.received["wecom"][0]
    assert body["msgtype"] == "markdown" and "超时预警" in body["markdown"]["content"]
    assert sorted(s for s in slept if s >= 1)[:2] == [1, 2]  # exponential back-off between attempts


async def test_a_robot_down_for_good_leaves_the_alerts_pending(make_hub, acme, robots) -> None:
    hub = make_hub(testplatform)
    shop = await _shop(hub, acme)
    await add_channel(hub.engine, name="wx", kind="wecom", url=robots.wecom_url, within=WINDOW)
    robots.fail("wecom", 100)
    summary = await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    assert summary.status == "ok"
    assert robots.requests["wecom"] == 4  # the attempts of one pass
    assert {r.status for r in await _sent(hub)} == {"pending"}
    for _ in range(announce.MAX_PASSES - 1):
        await announce.announce_after_sync(hub, shop)
    assert {(r.status, r.attempts) for r in await _sent(hub)} == {("failed", announce.MAX_PASSES)}


async def test_webhook_body_signed_and_wecom_markdown(make_hub, acme, robots, monkeypatch) -> None:
    monkeypatch.setenv("HUB_PUBLIC_URL", "https://hub.example.com/")
    monkeypatch.setenv("HOOK_SECRET", "hook-secret-123")
    robots.webhook_secret = "hook-secret-123"
    hub = make_hub(testplatform)
    shop = await _shop(hub, acme)
    other = await _shop(hub, acme, "acme-b")
    await add_channel(
        hub.engine,
        name="hook",
        kind="webhook",
        url=robots.webhook_url,
        secret="env:HOOK_SECRET",
        within=WINDOW,
        shops=["acme-a"],
    )
    await add_channel(hub.engine, name="wx", kind="wecom", url=robots.wecom_url, within=WINDOW)
    await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
    await sync_one_shop(hub, other, since=acme.clock.now() - timedelta(days=3))
    [body] = robots.received["webhook"]  # acme-b is not this channel's shop
    due = await _expected(hub, shop)
    assert body["event"] == "deadline_alert" and body["channel"] == "hook" and body["count"] == len(due)
    assert {i["shop"] for i in body["items"]} == {"acme-a"}
    case = next(i for i in body["items"] if i["item"] == "case")
    assert case["link"] == f"https://hub.example.com/cases/{case['id']}"
    assert case["platform"] == "acme" and case["platform_label"] == "测试平台" and case["party"] == "merchant"
    assert f"](https://hub.example.com/cases/{case['id']})" in body["text"]
    # WeCom got both shops, one message per pass
    assert len(robots.received["wecom"]) == 2
    assert "acme-b" in robots.received["wecom"][1]["markdown"]["content"]


async def test_in_a_worker_the_alerts_are_a_queued_task(make_hub, acme, robots, db_url) -> None:
    from hub.worker.queue import LocalQueue, PgQueue, execute
    from hub.worker.tasks import ShopLocks

    hub = make_hub(testplatform)
    queue = PgQueue(hub) if db_url.startswith("postgresql") else LocalQueue(hub)
    await queue.open()
    try:
        shop = await _shop(hub, acme)
        await add_channel(hub.engine, name="hook", kind="webhook", url=robots.webhook_url, within=WINDOW)
        token = announce.WORKER_QUEUE.set(queue)
        try:
            await sync_one_shop(hub, shop, since=acme.clock.now() - timedelta(days=3))
        finally:
            announce.WORKER_QUEUE.reset(token)
        assert robots.received["webhook"] == []  # the sync task did not send: it queued
        assert {r.status for r in await _sent(hub)} == {"pending"}
        outcome = await execute(hub, ShopLocks(), kind="alerts", shop_id=None, params={}, queued_at=hub.now())
        assert outcome == "ok" and len(robots.received["webhook"]) == 1
        if isinstance(queue, LocalQueue):
            async with hub.engine.connect() as conn:
                kinds = (await conn.execute(select(WorkerTaskRecord.__table__.c.kind))).scalars().all()
            assert "alerts" in kinds
    finally:
        await queue.close()


def test_a_long_message_lists_fewer_items_to_stay_within_the_robots_size() -> None:
    from datetime import UTC, datetime

    from hub.notify.message import MAX_BYTES, AlertItem, compose

    now = datetime(2026, 12, 1, tzinfo=UTC)
    items = [
        AlertItem(
            item="case",
            item_id=i,
            shop="店铺" * 10,
            platform="acme",
            platform_label="测试平台",
            external_id=f"C{i}",
            party="merchant",
            action="reply",
            due_at=now + timedelta(minutes=i),
            consequence_zh="平台自动同意退款" * 8,
        )
        for i in range(12)
    ]
    msg = compose(items, now)
    assert len(msg.markdown.encode()) <= MAX_BYTES and msg.more > 2
    assert f"…及另外 {msg.more} 件" in msg.markdown and len(msg.items) == 12
    assert "剩余 1 分钟" in msg.markdown and "12-01 08:00" in msg.markdown  # Beijing time


def test_dingtalk_signature_matches_the_documented_example() -> None:
    """The algorithm, checked independently of the fake: base64(HMAC-SHA256(secret,
    "timestamp\\nsecret")), url-encoded."""
    import base64
    from urllib.parse import quote_plus

    from hub.notify.robots import dingtalk_sign

    secret, ts = "SEC000000000000000000000", 1577262236757
    raw = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(secret, ts) == quote_plus(base64.b64encode(raw).decode())
    assert "+" not in dingtalk_sign(secret, ts) and "/" not in dingtalk_sign(secret, ts)


# -- through the command line ----------------------------------------------------------------


async def test_cli_once_per_deadline_across_two_syncs(tmp_path: Path, acme, robots, monkeypatch) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    home = tmp_path / "home"
    secret_env = {"DT_SECRET": robots.dingtalk_secret, "DT_URL": robots.dingtalk_url}
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    monkeypatch.setenv("HUB_HOME", str(home))

    async def inproc(db: str, home: Path, *args: str, **env: str) -> str:  # in this process: quicker
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = await asyncio.to_thread(main, ["--database", db, *args])
        assert code == 0, (args, code)
        return out.getvalue()

    await inproc(db, home, "db", "upgrade")
    await inproc(
        db,
        home,
        "shop",
        "add",
        "acme",
        "acme-a",
        "--set",
        f"api_url={acme.api}",
        "--set",
        f"token={TOKEN}",
    )
    await inproc(
        db,
        home,
        "notify",
        "add",
        "ops",
        "--kind",
        "dingtalk",
        "--url",
        "env:DT_URL",
        "--secret",
        "env:DT_SECRET",
        "--shops",
        "acme-a",
        "--within",
        "3d",
    )
    # a second robot that refuses every message (wrong secret): the sync's exit code does not change
    await inproc(
        db,
        home,
        "notify",
        "add",
        "broken",
        "--kind",
        "dingtalk",
        "--url",
        robots.dingtalk_url,
        "--secret",
        "SECnope",
        "--within",
        "3d",
    )
    since = (acme.clock.now() - timedelta(days=3)).isoformat()
    code, out, err = await run_hub(db, home, "sync", "--since", since, **secret_env)
    assert code == 0, err
    assert len(robots.received["dingtalk"]) == 1 and len(robots.refused) == 1
    code, out, err = await run_hub(db, home, "sync", **secret_env)
    assert code == 0, err
    assert len(robots.received["dingtalk"]) == 1, "the same deadlines are not announced twice"
    listed = json.loads(await inproc(db, home, "notify", "list", "--json"))
    by_name = {c["name"]: c for c in listed}
    assert by_name["ops"]["url"] == "env:DT_URL" and by_name["ops"]["secret"] == "env:DT_SECRET"
    assert by_name["broken"]["secret"] == "***" and "dt-access-token" not in by_name["broken"]["url"]
    assert "310000" in by_name["broken"]["last_error"] and by_name["ops"]["last_error"] is None
    assert "SECnope" not in err and robots.dingtalk_secret not in err
    out = await inproc(db, home, "notify", "test", "ops", **secret_env)
    assert "test message sent to ops" in out
    assert "hub 测试消息" in robots.received["dingtalk"][-1]["markdown"]["text"]
    err_out = io.StringIO()
    with contextlib.redirect_stderr(err_out):
        code = await asyncio.to_thread(main, ["--database", db, "notify", "test", "broken"])
    assert code == 1 and "errcode 310000" in err_out.getvalue()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database", url, "db", "upgrade"]) == 0
    return url


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--kind", "slack", "--url", "http://h/"], "invalid choice: 'slack'"),
        (["--kind", "wecom", "--url", "ftp://h/"], "--url must be an http(s) URL or env:VAR"),
        (
            ["--kind", "wecom", "--url", "http://h/", "--shops", "nope"],
            "no shop named nope (shops: none yet)",
        ),
        (["--kind", "wecom", "--url", "http://h/", "--within", "90d"], "--within must be more than 0"),
        (["--kind", "wecom", "--url", "http://h/", "--awaiting", "boss"], "--awaiting"),
        (["--kind", "wecom", "--url", "http://h/", "--secret", ""], "--secret must not be empty"),
    ],
)
def test_cli_notify_add_refuses_bad_input(cli_db: str, capsys: Any, args: list[str], needle: str) -> None:
    assert main(["--database", cli_db, "notify", "add", "x", *args]) == 2
    assert needle in capsys.readouterr().err


def test_cli_notify_list_masks_and_remove(cli_db: str, capsys: Any) -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef"
    assert (
        main(
            [
                "--database",
                cli_db,
                "notify",
                "add",
                "ops",
                "--kind",
                "dingtalk",
                "--url",
                url,
                "--secret",
                "SECabc123456",
            ]
        )
        == 0
    )
    assert main(["--database", cli_db, "notify", "add", "ops", "--kind", "wecom", "--url", url]) == 2
    capsys.readouterr()
    assert main(["--database", cli_db, "notify", "list"]) == 0
    out = capsys.readouterr().out
    assert "ops  dingtalk  https://oapi.dingtalk.com/***  within 120m" in out
    assert "abcdef0123456789" not in out and "SECabc123456" not in out
    assert main(["--database", cli_db, "notify", "test", "nope"]) == 2
    assert "no notify channel named 'nope' (channels: ops)" in capsys.readouterr().err
    assert main(["--database", cli_db, "notify", "remove", "ops"]) == 0
    assert main(["--database", cli_db, "notify", "list"]) == 0
    assert "no notify channels yet" in capsys.readouterr().out
