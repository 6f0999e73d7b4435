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
    sources = {c["deadline"]["source"] for c in cases if c["deadline"]}
    assert sources == {"rule", "platform"}, sources
    assert any(c["dispute"] for c in cases), "the demo has disputes"
