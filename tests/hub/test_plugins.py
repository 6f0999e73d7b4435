"""The plugin manager: entry points, disabling, HUB_PLUGINS, check_pending, registration errors."""

from __future__ import annotations

import importlib.metadata
import tomllib
import types
from pathlib import Path

import pytest

import tests.testplatform as acme
from hub import hookimpl
from hub.errors import PluginError
from hub.plugins import build_registry, get_plugin_manager

ROOT = Path(__file__).resolve().parents[2]


def test_hook_hub_register_platforms_registers_acme():
    registry = build_registry(get_plugin_manager(load_entrypoints=False, plugins=[acme]))
    assert registry.info("acme").name_zh == "测试平台"
    assert "acme" in registry.sandboxes


def test_unknown_platform_is_a_clear_error():
    registry = build_registry(get_plugin_manager(load_entrypoints=False, plugins=[acme]))
    with pytest.raises(PluginError, match="unknown platform 'jd' \\(installed: acme\\)"):
        registry.info("jd")


def test_duplicate_platform_id_rejected():
    other = types.ModuleType("dup")

    @hookimpl
    def hub_register_platforms(register):
        """Register acme again."""
        register(acme.INFO, acme.AcmeAdapter)

    other.hub_register_platforms = hub_register_platforms  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="registered twice"):
        build_registry(get_plugin_manager(load_entrypoints=False, plugins=[acme, other]))


def test_check_pending_rejects_a_misspelt_hook():
    bad = types.ModuleType("bad")

    @hookimpl
    def hub_register_platform(register):  # missing the final s
        """Typo."""

    bad.hub_register_platform = hub_register_platform  # type: ignore[attr-defined]
    with pytest.raises(
        PluginError,
        match="plugin 'bad': hub_register_platform is not a hub hook "
        r"\(did you mean hub_register_platforms\?\); switch it off with HUB_DISABLED_PLUGINS=bad",
    ):
        get_plugin_manager(load_entrypoints=False, plugins=[bad])


def test_a_hook_function_without_hookimpl_is_named():
    bare = types.ModuleType("bare")

    def hub_register_platforms(register):
        """Forgot @hookimpl."""
        register(acme.INFO, acme.AcmeAdapter)

    hub_register_platforms.__module__ = "bare"
    bare.hub_register_platforms = hub_register_platforms  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match=r"bare\.hub_register_platforms has no @hookimpl"):
        get_plugin_manager(load_entrypoints=False, plugins=[bare])


def test_an_installed_plugin_with_a_misspelt_hook_is_left_out_and_named(monkeypatch):
    """An entry-point plugin's fault does not stop every command: the rest load, the problem is
    kept and a shop of its platform is told why."""
    bad = types.ModuleType("shoddy")

    @hookimpl
    def hub_register_platfroms(register):
        """Typo."""

    bad.hub_register_platfroms = hub_register_platfroms  # type: ignore[attr-defined]

    class EP:
        name = value = "shoddy"

        def load(self):
            return bad

    real = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group=None: [*real(group=group), EP()] if group == "hub" else real(group=group),
    )
    pm = get_plugin_manager()
    registry = build_registry(pm)
    assert "taobao" in registry.platforms
    assert "did you mean hub_register_platforms" in registry.problems["shoddy"]
    assert "HUB_DISABLED_PLUGINS=shoddy" in registry.problems["shoddy"]
    with pytest.raises(PluginError, match="platform 'shoddy' is not available: plugin 'shoddy'"):
        registry.info("shoddy")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "shoddy")
    assert "shoddy" not in build_registry(get_plugin_manager()).problems


async def test_hooks_are_called_through_pluggy_with_the_arguments_they_name():
    """An implementation taking a subset of a hook's arguments works; one that raises is skipped."""
    from hub.plugins import collect, notify

    seen: list[object] = []
    subset = types.ModuleType("subset")
    broken = types.ModuleType("broken")

    @hookimpl
    def hub_case_insights():
        """Takes none of the arguments."""
        return ["advice"]

    @hookimpl
    def hub_on_case_changed(case):
        """Takes only the case."""
        seen.append(case)

    def failing(context):
        raise RuntimeError("boom")

    subset.hub_case_insights = hub_case_insights  # type: ignore[attr-defined]
    subset.hub_on_case_changed = hub_on_case_changed  # type: ignore[attr-defined]
    broken.hub_case_insights = hookimpl(failing)  # type: ignore[attr-defined]
    broken.hub_case_insights.__name__ = "hub_case_insights"
    pm = get_plugin_manager(load_entrypoints=False, plugins=[subset, broken])
    assert await collect(pm, "hub_case_insights", context=object()) == ["advice"]
    await notify(pm, "hub_on_case_changed", shop=None, case="the case", changes={})
    assert seen == ["the case"]


def test_hub_plugins_env_loads_and_disabled_blocks(monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    registry = build_registry(get_plugin_manager())
    assert set(registry.platforms) == {"acme"}
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd,testplatform")
    assert build_registry(get_plugin_manager()).platforms == {}


def test_hub_plugins_names_a_missing_module(monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS", "no.such.module")
    with pytest.raises(PluginError, match="cannot be imported"):
        get_plugin_manager(load_entrypoints=False)


def test_every_plugin_folder_is_an_entry_point():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["hub"]
    folders = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    assert folders == set(declared)
    assert all(value == f"plugins.{name}" for name, value in declared.items())


def test_entry_points_are_installed():
    names = {ep.name for ep in importlib.metadata.entry_points(group="hub")}
    assert {"taobao", "pinduoduo", "seventeen", "jd"} <= names


def test_core_never_imports_plugins():
    for path in (ROOT / "hub").rglob("*.py"):
        text = path.read_text()
        assert "import plugins" not in text and "from plugins" not in text, path
