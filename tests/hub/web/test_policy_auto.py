"""Shop policy and auto-rules through the paths users take: ``hub policy`` / ``hub auto`` (the real
CLI entry point, on both databases), the sync that applies scheduled values and runs the rules, and
the ``/policy`` and ``/auto`` pages."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

import tests.testplatform as acme
from hub.auto.expr import ConditionError, parse
from hub.cli import main
from hub.store.access import AuditRecord
from hub.store.models import ActionRecord, AfterSaleRecord, EventRecord, ShopRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops
from tests.hub.web.conftest import World, login
from tests.testplatform.server import TOKEN, AcmeServer

C = AfterSaleRecord.__table__
A = ActionRecord.__table__
E = EventRecord.__table__
S = ShopRecord.__table__
AU = AuditRecord.__table__


@pytest.fixture
async def small(make_hub: Any) -> Any:
    """Two acme shops with a dozen cases each, synced; no users (the CLI needs none)."""
    servers = {"shop-a": AcmeServer(), "shop-b": AcmeServer()}
    servers["shop-a"].populate(n_cases=14, days=5, seed=7)
    servers["shop-b"].populate(n_cases=10, days=5, seed=11)
    hub = make_hub(acme)
    hub.now = servers["shop-a"].clock.now
    ids = {}
    for name, server in servers.items():
        url = await server.serve()
        ids[name] = await add_shop(
            hub.engine, hub.registry.info("acme"), name, {"api_url": url + "/api", "token": TOKEN}
        )
    assert all(s.status == "ok" for s in await sync_shops(hub))
    try:
        yield World(hub=hub, servers=servers, shop_ids=ids)
    finally:
        for server in servers.values():
            await server.stop()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "cli-home"))


async def hub_cli(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``hub --database <the world's> ARGS`` through the CLI entry point."""
    url = world.hub.engine.url.render_as_string(hide_password=False)
    capsys.readouterr()
    rc = await asyncio.to_thread(main, ["--database", url, *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


async def _case(world: World, case_id: int) -> Any:
    async with world.hub.engine.connect() as conn:
        return (await conn.execute(select(C).where(C.c.id == case_id))).one()


async def _open_count(world: World, shop: str) -> int:
    async with world.hub.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).where(C.c.shop_id == world.shop_ids[shop], C.c.is_open.is_(True))
                )
            ).scalar_one()
        )


# -- the condition language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, column, needle",
    [
        ('kind = "refund_only"', 6, "compare with =="),
        ('kind == "refund_onyl"', 9, "is not a kind"),
        ('__import__("os").system("x")', 1, "function call"),
        ("order.foo", 1, "no field 'foo'"),
        ("refund_yuan + 1 > 2", 1, "arithmetic"),
        ('status in ["requested", "nope"]', 25, "is not a status"),
        ("().__class__", 1, "have fields"),
        ("bogus > 1", 1, "unknown name 'bogus'"),
        ("order", 1, "needs a field"),
    ],
)
def test_bad_conditions_name_the_column(text: str, column: int, needle: str) -> None:
    with pytest.raises(ConditionError) as err:
        parse(text)
    assert err.value.column == column, str(err.value)
    assert needle in str(err.value)


def test_conditions_evaluate_over_the_case() -> None:
    cond = parse('kind == "refund_only" and not order.shipped and refund_yuan <= 10')
    base = {"kind": "refund_only", "order.shipped": False, "refund_yuan": Decimal("9.99")}
    assert cond(base)
    assert not cond({**base, "order.shipped": True})
    assert not cond({**base, "refund_yuan": Decimal("10.01")})
    assert parse('reason in ["size", "damaged"] or age_hours > 2.5')({"reason": "size", "age_hours": 0})
    # an ordering between text and a number is false, never an error
    assert not parse("reason > 3")({"reason": "x"})


# -- shop policy ------------------------------------------------------------------------------------


async def test_policy_set_drives_deadlines_and_reevaluates(
    small: World, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    world = small
    case_id, _ = await world.first("shop-a", "NEW")
    before = await _case(world, case_id)
    assert before.deadline_source == "rule"
    assert before.deadline_due_at == before.created_at + timedelta(hours=72)

    rc, out, err = await hub_cli(world, capsys, "policy", "set", "shop-a", "unshipped_refund_within=12h")
    assert rc == 0, err
    n_open = await _open_count(world, "shop-a")
    assert f"re-evaluated {n_open} open cases" in out
    after = await _case(world, case_id)
    assert after.deadline_source == "policy"
    assert after.deadline_due_at == after.created_at + timedelta(hours=12)
    # the other shop keeps the platform rule
    other, _ = await world.first("shop-b", "NEW")
    assert (await _case(world, other)).deadline_source == "rule"

    # the case names the policy key and its value
    rc, out, _ = await hub_cli(world, capsys, "case", "show", str(case_id))
    assert rc == 0
    assert "[policy: acme.reply_72h]" in out
    assert "shop policy: unshipped_refund_within = 12h (setting reply_within" in out

    rc, out, _ = await hub_cli(world, capsys, "policy", "show", "shop-a", "--json")
    shown = {p["key"]: p for p in json.loads(out)["policy"]}
    assert shown["unshipped_refund_within"]["value"] == "12h"
    assert shown["unshipped_refund_within"]["source"] == "set"
    assert shown["small_refund_fen"] == {**shown["small_refund_fen"], "value": "1000", "source": "default"}

    # bad input: exit 2, naming the key and the allowed form
    rc, _, err = await hub_cli(world, capsys, "policy", "set", "shop-a", "small_refund_fen=ten")
    assert rc == 2 and "small_refund_fen" in err and "whole number of fen" in err
    rc, _, err = await hub_cli(world, capsys, "policy", "set", "shop-a", "dispatch_cutoff=25:00")
    assert rc == 2 and "HH:MM" in err
    rc, _, err = await hub_cli(world, capsys, "policy", "set", "shop-a", "nope=1")
    assert rc == 2 and "unknown policy key 'nope'" in err
    rc, _, err = await hub_cli(world, capsys, "policy", "set", "nowhere", "small_refund_fen=500")
    assert rc == 2 and "no shop named 'nowhere'" in err

    # a value from a later time: scheduled, in force at the first sync after it
    start = (world.hub.now() + timedelta(hours=2)).isoformat()
    rc, out, err = await hub_cli(
        world, capsys, "policy", "set", "shop-a", "unshipped_refund_within=6h", "--from", start
    )
    assert rc == 0, err
    assert (await _case(world, case_id)).deadline_due_at == after.deadline_due_at  # not yet
    rc, out, _ = await hub_cli(world, capsys, "policy", "show", "shop-a")
    assert "Scheduled:" in out and "unshipped_refund_within = 6h from" in out
    world.servers["shop-a"].clock.advance(timedelta(hours=3))
    await sync_shops(world.hub, names=["shop-a"])
    row = await _case(world, case_id)
    assert row.deadline_due_at == row.created_at + timedelta(hours=6)
    rc, _, err = await hub_cli(
        world, capsys, "policy", "set", "shop-a", "quality_claim_days=20d", "--from", "soon"
    )
    assert rc == 2 and "--from 'soon'" in err


# -- auto-rules --------------------------------------------------------------------------------------


async def _requested(world: World, shop: str) -> list[Any]:
    async with world.hub.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(C.c.id, C.c.refund_fen)
                    .where(
                        C.c.shop_id == world.shop_ids[shop], C.c.status == "requested", C.c.is_open.is_(True)
                    )
                    .order_by(C.c.id)
                )
            ).all()
        )


async def test_auto_rule_dry_run_cap_and_idempotent_runs(
    small: World, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    world = small
    when = 'kind == "refund_only" and status == "requested" and not order.shipped'
    add = ["auto", "add", "small", "--shops", "shop-a", "--when", when, "--do", "agree_refund"]
    rc, _, err = await hub_cli(world, capsys, *add)
    assert rc == 2 and "moves money" in err and "--daily-cap-yuan" in err
    rc, _, err = await hub_cli(
        world,
        capsys,
        "auto",
        "add",
        "bad",
        "--shops",
        "shop-a",
        "--when",
        "kind == 'refund_only' and refund_yuan =< 3",
        "--do",
        "agree_refund",
    )
    assert rc == 2 and "column" in err and "^" in err
    rc, _, err = await hub_cli(
        world,
        capsys,
        "auto",
        "add",
        "x",
        "--shops",
        "shop-a",
        "--when",
        "dispute",
        "--do",
        "refuse",
        "--daily-cap-yuan",
        "5",
    )
    assert rc == 2 and "does not support it" in err
    rc, _, err = await hub_cli(world, capsys, *add, "--daily-cap-yuan", "5", "--param", "bogus=1")
    assert rc == 2 and "has no parameter bogus" in err

    targets = await _requested(world, "shop-a")
    assert len(targets) >= 3
    # a cap that pays the first two and stops before the third would exceed it
    cap_fen = targets[0].refund_fen + targets[1].refund_fen + targets[2].refund_fen - 1
    cap = f"{Decimal(cap_fen) / 100:.2f}"
    rc, out, err = await hub_cli(world, capsys, *add, "--daily-cap-yuan", cap)
    assert rc == 0, err
    assert "saved, disabled" in out

    rc, out, _ = await hub_cli(world, capsys, "auto", "dry-run", "small", "--since", "30d", "--json")
    dry = json.loads(out)
    assert [h["case_id"] for h in dry["now"]] == [t.id for t in targets]
    assert [h["capped"] for h in dry["now"]][:3] == [False, False, True]
    assert dry["money_now_fen"] == sum(h["refund_fen"] for h in dry["now"] if not h["capped"])
    assert dry["history"], "cases opened in the period, as first seen"

    # disabled: a sync does nothing
    await sync_shops(world.hub, names=["shop-a"])
    assert world.agree_calls() == 0
    rc, _, _ = await hub_cli(world, capsys, "auto", "enable", "small")
    assert rc == 0
    rc, _, _ = await hub_cli(world, capsys, "auto", "pause")
    await sync_shops(world.hub, names=["shop-a"])
    assert world.agree_calls() == 0, "paused: the kill switch stops every rule"
    rc, _, _ = await hub_cli(world, capsys, "auto", "resume")
    await sync_shops(world.hub, names=["shop-a"])
    assert world.agree_calls() == 2, "the third would exceed the daily cap"
    await sync_shops(world.hub, names=["shop-a"])
    rc, out, _ = await hub_cli(world, capsys, "auto", "run", "small")
    assert world.agree_calls() == 2, "a rerun never acts twice, and the cap counts across runs"
    assert "daily cap" in out

    async with world.hub.engine.connect() as conn:
        acts = (await conn.execute(select(A).where(A.c.action == "agree_refund").order_by(A.c.id))).all()
        events = (await conn.execute(select(E.c.actor, E.c.external_id).where(E.c.kind == "action"))).all()
        audit = (await conn.execute(select(AU).where(AU.c.kind == "auto_action"))).all()
    assert [a.after_sale_id for a in acts] == [targets[0].id, targets[1].id]
    assert {a.actor for a in acts} == {"自动规则 small v1"}
    assert {a.idempotency_key for a in acts} == {f"auto:small:1:{t.id}" for t in targets[:2]}
    assert {e.actor for e in events} == {"自动规则 small v1"}
    assert sorted(a.case_id for a in audit) == [targets[0].id, targets[1].id]
    assert all(a.detail["rule"] == "small" and a.detail["version"] == 1 for a in audit)

    rc, out, _ = await hub_cli(world, capsys, "auto", "show", "small", "--json")
    shown = json.loads(out)
    outcomes = [r["outcome"] for r in shown["runs"]]
    assert outcomes.count("done") == 2 and outcomes.count("capped") == 1

    # the next Beijing day has a fresh cap: the third goes out, and that day's total stays within it
    world.servers["shop-a"].clock.advance(timedelta(days=1))
    await sync_shops(world.hub, names=["shop-a"])
    assert world.agree_calls() >= 3
    async with world.hub.engine.connect() as conn:
        paid = (await conn.execute(select(A.c.after_sale_id).where(A.c.action == "agree_refund"))).all()
    assert targets[2].id in {p.after_sale_id for p in paid}
    new_day = sum(t.refund_fen for t in targets if t.id in {p.after_sale_id for p in paid}) - (
        targets[0].refund_fen + targets[1].refund_fen
    )
    assert new_day <= cap_fen
    assert [v["version"] for v in shown["versions"]] == [1]
    rc, out, _ = await hub_cli(world, capsys, "case", "show", str(targets[0].id))
    assert "自动规则 small v1" in out
    # a new version starts disabled and keeps the history
    rc, _, _ = await hub_cli(world, capsys, *add, "--daily-cap-yuan", "1")
    rc, out, _ = await hub_cli(world, capsys, "auto", "list", "--json")
    listed = json.loads(out)["rules"][0]
    assert (listed["version"], listed["enabled"], listed["daily_cap_fen"]) == (2, False, 100)

    # two shops syncing at once under one rule: together they stay within its cap
    left = await _requested(world, "shop-a") + await _requested(world, "shop-b")
    cap_two = sorted(t.refund_fen for t in left)[-1] + 1
    both = ["auto", "add", "both", "--shops", "shop-a,shop-b", "--when", when, "--do", "agree_refund"]
    assert (await hub_cli(world, capsys, *both, "--daily-cap-yuan", f"{Decimal(cap_two) / 100:.2f}"))[0] == 0
    assert (await hub_cli(world, capsys, "auto", "enable", "both"))[0] == 0
    await sync_shops(world.hub)
    rc, out, _ = await hub_cli(world, capsys, "auto", "show", "both", "--json")
    runs = json.loads(out)["runs"]
    paid = sum(r["amount_fen"] for r in runs if r["outcome"] == "done")
    assert 0 < paid <= cap_two


# -- pages ---------------------------------------------------------------------------------------------


async def _csrf(client: TestClient, path: str) -> str:
    page = await (await client.get(path)).text()
    m = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert m, "no CSRF field on " + path
    return m.group(1)


async def test_policy_and_auto_pages(sqlite_only: None, world: World, client: TestClient) -> None:
    await login(client, "alice")
    assert (await client.get("/policy")).status == 403
    await client.post("/logout", data={"_csrf": await _csrf(client, "/")})
    await login(client, "admin")
    page = await (await client.get("/policy")).text()
    assert "店铺策略" in page and "未发货退款处理时限" in page and 'href="/policy"' in page
    no_csrf = await client.post(
        "/policy/shop-a", data={"unshipped_refund_within": "10h"}, allow_redirects=False
    )
    assert no_csrf.status == 403
    token = await _csrf(client, "/policy")
    bad = await client.post("/policy/shop-a", data={"_csrf": token, "small_refund_fen": "1.5"})
    assert "small_refund_fen" in await bad.text()
    ok = await client.post("/policy/shop-a", data={"_csrf": token, "unshipped_refund_within": "10h"})
    text = await ok.text()
    n_open = await _open_count(world, "shop-a")
    assert f"unshipped_refund_within=10h · {n_open}/" in text
    case_id, _ = await world.first("shop-a", "NEW")
    row = await _case(world, case_id)
    assert row.deadline_due_at == row.created_at + timedelta(hours=10)
    case_page = await (await client.get(f"/cases/{case_id}")).text()
    assert "未发货退款处理时限：10 小时" in case_page and "店铺策略" in case_page
    assert "<code data-raw>unshipped_refund_within</code>" in case_page  # the key, in the raw panel

    # /auto: rules, their dry-run and history; admins edit
    token = await _csrf(client, "/auto")
    resp = await client.post(
        "/auto/rules",
        data={
            "_csrf": token,
            "name": "tiny",
            "shops": "shop-a",
            "condition": 'status == "requested" and refund_yuan <= 100000',
            "action": "agree_refund",
            "cap": "",
        },
    )
    assert "--daily-cap-yuan" in await resp.text()
    resp = await client.post(
        "/auto/rules",
        data={
            "_csrf": token,
            "name": "tiny",
            "shops": "shop-a",
            "condition": 'status == "requested" and refund_yuan <= 100000',
            "action": "agree_refund",
            "cap": "0.01",
        },
    )
    page = await resp.text()
    assert "tiny v1" in page and "试运行" in page and "超出每日上限" in page
    n = len(await _requested(world, "shop-a"))
    assert page.count('<a href="/cases/') >= n
    enable = await client.post("/auto/rules/tiny/enable", data={"_csrf": token})
    assert "已启用" in await enable.text()
    paused = await client.post("/auto/switch/pause", data={"_csrf": token})
    assert "所有自动规则已暂停" in await paused.text()
    await client.post("/logout", data={"_csrf": token})
    await login(client, "alice")  # an agent of shop-a sees the rule, cannot change it
    page = await (await client.get("/auto")).text()
    assert "tiny" in page and "/auto/switch/" not in page
    token = await _csrf(client, "/")
    assert (await client.post("/auto/rules/tiny/disable", data={"_csrf": token})).status == 403
