"""docs/writing-a-plugin.md: its field lists are the code's, and its tutorial code runs against a
freshly generated scaffold."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from hub.docfields import BLOCK, render, stale_blocks
from hub.scaffold import new_plugin

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "writing-a-plugin.md"

#: every type a plugin author meets; each must have a generated list in the doc
KIT_TYPES = {
    "hub.platform.PlatformInfo",
    "hub.platform.SettingSpec",
    "hub.platform.Capability",
    "hub.platform.ParamSpec",
    "hub.platform.AdapterContext",
    "hub.platform.ResourceSpec",
    "hub.platform.Window",
    "hub.platform.Page",
    "hub.platform.FetchProblem",
    "hub.platform.Hint",
    "hub.domain.RawRecord",
    "hub.platform.ActionRequest",
    "hub.platform.ActionResult",
    "hub.platform.ActionAvailability",
    "hub.platform.DemoShop",
    "hub.kit.BaseAdapter",
    "hub.kit.PlatformClient",
    "hub.kit.Response",
    "hub.kit.PageSlice",
    "hub.rules.Rule",
    "hub.rules.Match",
    "hub.rules.Constraint",
    "hub.rules.RuleTable",
    "hub.testing.harness.ConformanceHarness",
    "hub.testing.fake_server.FakePlatformServer",
    "hub.testing.fake_server.FakeClock",
}


def test_every_kit_type_has_a_generated_list():
    listed = {m.group("name") for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    assert KIT_TYPES <= listed, f"no field list for {sorted(KIT_TYPES - listed)}"


def test_field_lists_match_the_code():
    stale = stale_blocks(DOC.read_text(encoding="utf-8"))
    assert not stale, f"regenerate with `python -m hub.docfields docs/writing-a-plugin.md`: {stale}"


def test_the_generator_sees_a_new_field():
    """The check can fail: a field list without one of the type's fields is stale."""
    text = "<!-- fields: hub.platform.Hint -->\n" + render("hub.platform.Hint") + "<!-- /fields -->"
    assert stale_blocks(text) == []
    assert stale_blocks(text.replace("| `message_id`", "| `msg_id`")) == ["hub.platform.Hint"]


def test_the_tutorial_code_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    new_plugin("shopx", tmp_path / "hub-shopx")
    monkeypatch.syspath_prepend(str(tmp_path / "hub-shopx"))
    namespace: dict[str, object] = {"__name__": "tutorial"}
    try:
        for number, code in enumerate(blocks, 1):
            exec(compile(code, f"writing-a-plugin.md python block {number}", "exec"), namespace)
    finally:
        for name in [m for m in sys.modules if m == "hub_shopx" or m.startswith("hub_shopx.")]:
            del sys.modules[name]
