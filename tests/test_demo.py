"""The README's main job with every built-in plugin: `hub demo` through the installed entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(home: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PLUGINS", "HUB_DISABLED_PLUGINS")}
    env.update(HUB_HOME=str(home), HUB_LOG_FORMAT="json", HUB_LOG_LEVEL="warning")
    if db:
        env["HUB_DATABASE_URL"] = db
    return subprocess.run([sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("demo")
    res = run(home, "demo", "--no-serve")
    assert res.returncode == 0, res.stderr[-3000:]
    return home, res


def test_demo_syncs_every_platform(demo):
    home, res = demo
    db = f"sqlite+aiosqlite:///{home / 'demo' / 'hub.db'}"
    cases = json.loads(run(home, "cases", "--json", db=db).stdout)
    platforms = {c["platform"] for c in cases}
    assert {"taobao", "pinduoduo", "seventeen", "jd"} <= platforms, platforms
    shops = json.loads(run(home, "shop", "list", "--json", db=db).stdout)
    assert not any(s["needs_reauth"] for s in shops)
    assert "Work list" in res.stdout


def test_demo_shows_linked_pairs_and_a_conflict_warning(demo):
    _home, res = demo
    assert "Linked purchase ↔ sale pairs" in res.stdout, res.stdout[-3000:]
    assert "upstream 17网 steps" in res.stdout
    assert "[warning]" in res.stdout or "[danger]" in res.stdout


def test_demo_cases_have_deadlines_from_rules_and_platform(demo):
    home, _ = demo
    db = f"sqlite+aiosqlite:///{home / 'demo' / 'hub.db'}"
    cases = json.loads(run(home, "cases", "--json", db=db).stdout)
    sources = {c["next_action"]["source"] for c in cases if c["next_action"]["due_at"]}
    assert {"rule", "platform"} <= sources <= {"rule", "platform", "policy"}, sources
    assert any(c["dispute"] for c in cases), "the demo has disputes"


def test_demo_next_actions_are_one_answer(demo):
    """Every open item has one next action; none waits on the merchant without a clock or a reason;
    the README's `--awaiting seller --due-within 24h` keeps only the merchant's; the chain shows."""
    home, _ = demo
    db = f"sqlite+aiosqlite:///{home / 'demo' / 'hub.db'}"
    items = json.loads(run(home, "cases", "--json", db=db).stdout)
    for c in items:
        a = c["next_action"]
        assert a and a["party"] in ("merchant", "buyer", "platform", "supplier"), c
        assert a["party"] == c["awaiting"]
        if a["party"] == "merchant":
            assert a["due_at"] or a["no_clock_reason"], c
            assert "no row of the" not in (a["no_clock_reason"] or ""), c
    # an unshipped order with an open request on it is never "ship": it holds
    orders = {(c["shop"], c["external_id"]): c for c in items if c["item"] == "order"}
    for c in items:
        o = orders.get((c["shop"], c["order_external_id"])) if c["item"] == "case" else None
        if o is not None and o["status"] in ("paid", "refunding"):
            assert o["next_action"]["action"] == "hold_and_answer_refund", (c, o)
    urgent = json.loads(
        run(home, "cases", "--awaiting", "seller", "--due-within", "24h", "--json", db=db).stdout
    )
    assert urgent and all(c["next_action"]["party"] == "merchant" for c in urgent)
    assert all(c["next_action"]["due_at"] for c in urgent)
    # a sale linked to an upstream purchase shows the upstream's merchant deadline when it is sooner
    via = [c for c in items if c["next_action"]["via"]]
    assert any(c["next_action"]["via"]["platform"] != c["platform"] for c in via), "no chain in the demo"
    dues = [c["next_action"]["due_at"] for c in items if c["next_action"]["due_at"]]
    assert dues == sorted(dues)


def test_demo_policy_drives_a_deadline_and_an_auto_rule_acts(demo):
    home, res = demo
    db = f"sqlite+aiosqlite:///{home / 'demo' / 'hub.db'}"
    out = res.stdout
    assert "Shop policy:" in out and "source policy (unshipped_refund_within = 12h)" in out, out[-3000:]
    line = next(x for x in out.splitlines() if "source policy (unshipped_refund_within" in x)
    case_id = line.split()[1]
    shown = json.loads(run(home, "case", "show", case_id, "--json", db=db).stdout)
    assert shown["next_action"]["source"] == "policy"
    assert shown["next_action"]["policy"]["key"] == "unshipped_refund_within"
    assert shown["next_action"]["policy"]["value"] == "12h"
    dry = next(x for x in out.splitlines() if x.strip().startswith("dry-run:"))
    assert int(dry.split()[1]) >= 1, dry
    acted = [x for x in out.splitlines() if x.strip().startswith("acted: case")]
    assert len(acted) == 1 and "→ done" in acted[0], out[-2000:]
    rule = json.loads(run(home, "auto", "show", "small-unshipped-refunds", "--json", db=db).stdout)
    assert [r["outcome"] for r in rule["runs"]] == ["done"]
    case = json.loads(run(home, "case", "show", str(rule["runs"][0]["case_id"]), "--json", db=db).stdout)
    actors = {e["actor"] for e in case["timeline"]}
    assert "自动规则 small-unshipped-refunds v1" in actors, actors


def test_demo_writes_erp_documents_and_watches_a_parcel(demo):
    home, res = demo
    folder = home / "demo" / "erp"
    assert f"ERP documents (file sink 'demo-erp') in {folder}" in res.stdout
    ret = (folder / "return.csv").read_text(encoding="utf-8-sig").splitlines()
    assert ret[0].startswith("单据编号,单据类型,步骤") and len(ret) > 1
    assert "Logistics watch (快递100 sandbox): return parcel" in res.stdout
    assert "state signed (final); next action: confirm_return_receipt" in res.stdout


def test_demo_writes_the_after_sales_ledger_file(demo):
    """The file finance gets: one row per shop and Beijing day, Chinese headers, amounts in 元,
    and the refunds it prints are the file's own sum."""
    import csv
    import re
    from decimal import Decimal

    home, res = demo
    m = re.search(r"After-sales ledger \(\S+ to \S+, Beijing days\) in (\S+):", res.stdout)
    assert m, res.stdout[-2000:]
    path = m.group(1)
    assert path.startswith(str(home / "demo" / "ledger"))
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["日期", "店铺", "平台"], header
    assert len(body) == 30 * len({r[1] for r in body})  # every shop, every day of the range
    refunds = next(i for i, h in enumerate(header) if h.startswith("退款金额"))
    total = sum(Decimal(r[refunds]) for r in body)
    printed = re.search(r"refunds paid (\d+\.\d\d) 元", res.stdout)
    assert printed and Decimal(printed.group(1)) == total > 0
