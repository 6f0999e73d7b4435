"""The `hub` command through the path a user takes: bad input is one clear line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hub(
    tmp_path: Path, *args: str, db: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HUB_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
        "HUB_PLUGINS": "tests.testplatform",
        "HUB_LOG_FORMAT": "json",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen,jd",
    }
    env["HUB_DATABASE_URL"] = db or f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (("shop", "add", "nope", "x"), "unknown platform 'nope'"),
        (("shop", "add", "acme", "x"), "acme needs --set api_url=..."),
        (
            ("shop", "add", "acme", "x", "--set", "bogus=1", "--set", "api_url=u", "--set", "token=t"),
            "no setting bogus",
        ),
        (("sync", "--since", "yesterday"), "not an ISO-8601 time"),
        (("cases", "--status", "open"), "unknown status open"),
        (("cases", "--due-within", "soon"), "not a duration"),
        (("case", "show", "999"), "no case 999"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args, needle):
    assert hub(tmp_path, "db", "upgrade").returncode == 0
    res = hub(tmp_path, *args)
    assert res.returncode != 0
    assert needle in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_unreachable_database(tmp_path: Path):
    res = hub(tmp_path, "shop", "list", db="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert res.returncode == 1
    assert "database cannot be reached" in res.stderr and "Traceback" not in res.stderr


def test_unsupported_database_url(tmp_path: Path):
    res = hub(tmp_path, "shop", "list", db="mysql://x")
    assert res.returncode == 2 and "unsupported database URL" in res.stderr


def test_shop_secret_from_env_and_masked(tmp_path: Path):
    hub(tmp_path, "db", "upgrade")
    res = hub(
        tmp_path, "shop", "add", "acme", "a", "--set", "api_url=http://x", "--set", "token=plain-secret"
    )
    assert res.returncode == 0, res.stderr
    listed = json.loads(hub(tmp_path, "shop", "list", "--json").stdout)
    assert listed[0]["settings"]["token"] == "***"
    res = hub(
        tmp_path, "shop", "add", "acme", "b", "--set", "api_url=http://x", "--set", "token=env:ACME_TOKEN"
    )
    listed = json.loads(hub(tmp_path, "shop", "list", "--json").stdout)
    assert listed[0]["settings"]["token"] == "***" and listed[1]["settings"]["token"] == "env:ACME_TOKEN"


def test_demo_sync_cases_json_and_case_show(tmp_path: Path):
    env_home = tmp_path / "demo"
    res = hub(
        tmp_path,
        "demo",
        "--no-serve",
        "--home",
        str(env_home),
        db=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
    )
    assert res.returncode == 0, res.stderr
    assert "Work list" in res.stdout
    # the demo says how to reach its store afterwards
    assert f"HUB_DATABASE_URL=sqlite:///{env_home / 'hub.db'} HUB_HOME={env_home} hub cases" in res.stdout
    db = f"sqlite+aiosqlite:///{env_home / 'hub.db'}"
    cases = json.loads(hub(tmp_path, "cases", "--json", db=db).stdout)
    assert cases, "the demo has open cases"
    keys = {
        "id",
        "platform",
        "shop",
        "external_id",
        "order_external_id",
        "kind",
        "status",
        "awaiting",
        "refund_fen",
        "reason",
        "created_at",
        "updated_at",
        "deadline",
        "next_action",
        "item",
        "dispute",
    }
    assert keys <= set(cases[0])
    dues = [c["next_action"]["due_at"] for c in cases if c["next_action"]["due_at"]]
    assert dues == sorted(dues), "soonest deadline first"
    first = next(c for c in cases if c["item"] == "case" and c["next_action"]["due_at"])
    assert set(first["next_action"]) >= {
        "due_at",
        "party",
        "action",
        "on_expiry",
        "consequence",
        "source",
        "rule_id",
        "via",
        "no_clock_reason",
    }
    assert first["deadline"]["due_at"] == first["next_action"]["due_at"]
    shown = hub(tmp_path, "case", "show", str(first["id"]), db=db)
    assert shown.returncode == 0 and "timeline" in shown.stdout
    detail = json.loads(hub(tmp_path, "case", "show", str(first["id"]), "--json", db=db).stdout)
    assert detail["raw"] and detail["timeline"]
    # "seller" is the old name of "merchant": the README's example still works
    seller = json.loads(
        hub(tmp_path, "cases", "--json", "--awaiting", "seller", "--due-within", "24h", db=db).stdout
    )
    merchant = json.loads(
        hub(tmp_path, "cases", "--json", "--party", "merchant", "--due-within", "24h", db=db).stdout
    )
    assert seller and seller == merchant
    assert all(c["next_action"]["party"] == "merchant" == c["awaiting"] for c in seller)
    # orders whose ship clock runs are items of their own, unless --no-orders
    assert any(c["item"] == "order" for c in cases)
    no_orders = json.loads(hub(tmp_path, "cases", "--json", "--no-orders", db=db).stdout)
    assert no_orders and all(c["item"] == "case" for c in no_orders)
    bad = hub(tmp_path, "cases", "--awaiting", "stall", db=db)
    assert bad.returncode != 0 and "unknown party 'stall'" in bad.stderr
    closed = json.loads(hub(tmp_path, "cases", "--json", "--status", "closed,succeeded", db=db).stdout)
    assert all(c["status"] in ("closed", "succeeded") for c in closed)


def test_case_act_is_idempotent(tmp_path: Path):
    """Acting twice with the same key calls the platform once."""
    home = tmp_path / "demo"
    assert hub(tmp_path, "demo", "--no-serve", "--home", str(home)).returncode == 0
    db = f"sqlite+aiosqlite:///{home / 'hub.db'}"
    cases = json.loads(hub(tmp_path, "cases", "--json", "--status", "requested", db=db).stdout)
    case_id = str(cases[0]["id"])
    # The demo's sandbox is gone after `hub demo --no-serve`: the action fails, is recorded,
    # and can be retried.
    res = hub(tmp_path, "case", "act", case_id, "agree_refund", "--key", "k1", db=db)
    assert res.returncode == 1 and "failed" in res.stdout
    res = hub(tmp_path, "case", "act", case_id, "note", "--param", "note=called the buyer", db=db)
    assert res.returncode == 0 and "done" in res.stdout
    again = hub(tmp_path, "case", "act", case_id, "note", "--param", "note=called the buyer", db=db)
    assert "nothing sent" in again.stdout
    detail = json.loads(hub(tmp_path, "case", "show", case_id, "--json", db=db).stdout)
    assert [e["summary"] for e in detail["timeline"]].count("called the buyer") == 1


def test_setting_family_is_accepted(tmp_path: Path):
    """A plugin may declare a family of settings (``column.*``); others stay unknown."""

    from hub.platform import PlatformInfo, SettingSpec
    from hub.store.shops import validate_settings

    info = PlatformInfo(id="p", name="P", name_zh="P", settings=(SettingSpec(name="column.*", help="h"),))
    assert validate_settings(info, {"column.order_id": "订单号"}) == {"column.order_id": "订单号"}
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match=r"no setting col\.x"):
        validate_settings(info, {"col.x": "1"})


def test_reader_closing_the_pipe_early_is_not_an_error(tmp_path: Path):
    """`hub plugins | grep -q NAME` stops reading at the first match: hub exits 0, says nothing,
    and never calls the closed pipe a database failure."""
    env = {**os.environ, "HUB_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env["HUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    # Python's own `print` of a long listing into a pipe whose reader is gone.
    code = (
        "import sys, hub.cli as c\n"
        "class Gone:\n"
        "    def write(self, s): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def flush(self): pass\n"
        "async def f(args):\n"
        "    print('x' * 100)\n"
        "    return 0\n"
        "p = c.build_parser()\n"
        "orig = p.parse_args\n"
        "def parse(argv=None):\n"
        "    a = orig(['plugins']); a.func = f; return a\n"
        "p.parse_args = parse\n"
        "c.build_parser = lambda: p\n"
        "sys.stdout = Gone()\n"
        "rc = c.main(['plugins'])\n"
        "sys.stderr.write(f'rc={rc}\\n')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "rc=0" in res.stderr, res.stderr
    assert "database" not in res.stderr and "Traceback" not in res.stderr
