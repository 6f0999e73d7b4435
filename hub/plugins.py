"""The plugin manager: entry-point group ``hub``, ``HUB_DISABLED_PLUGINS``, ``HUB_PLUGINS``.

Built-in platforms are loaded through their entry points exactly like third-party ones.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType

import pluggy
import structlog

from . import hookspecs
from .errors import PluginError
from .platform import AdapterFactory, PlatformInfo, SandboxFactory

log = structlog.get_logger("hub.plugins")

ENTRY_POINT_GROUP = "hub"


def _env_list(name: str) -> list[str]:
    return [p.strip() for p in os.environ.get(name, "").split(",") if p.strip()]


def get_plugin_manager(
    *, load_entrypoints: bool = True, plugins: Iterable[ModuleType | object] = ()
) -> pluggy.PluginManager:
    """Build the plugin manager.

    ``HUB_DISABLED_PLUGINS`` (comma-separated names) are blocked *before* entry points load, so
    a broken plugin can be switched off. ``HUB_PLUGINS`` (comma-separated module paths) adds
    plugins that are not installed as packages. ``HUB_TRACE_PLUGINS=1`` logs every hook call.
    Ends with ``check_pending()``: an implementation of an unknown hook is an error at start-up.
    """
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    disabled = _env_list("HUB_DISABLED_PLUGINS")
    for name in disabled:
        pm.set_blocked(name)
    if load_entrypoints:
        _load_entrypoints(pm)
    for path in _env_list("HUB_PLUGINS"):
        if path in disabled or path.rsplit(".", 1)[-1] in disabled:
            continue
        try:
            module = importlib.import_module(path)
        except ImportError as err:
            raise PluginError(f"HUB_PLUGINS names {path!r}, which cannot be imported: {err}") from err
        if not pm.is_registered(module):
            pm.register(module, name=path)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise PluginError(f"a plugin implements an unknown hook: {err}") from err
    if os.environ.get("HUB_TRACE_PLUGINS") == "1":
        pm.trace.root.setwriter(lambda msg: log.debug("hook", trace=msg.rstrip()))
        pm.enable_tracing()
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    """Like pluggy's ``load_setuptools_entrypoints``, but a plugin that fails to import is a clear
    error naming it and how to switch it off, not a traceback."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as err:
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(err).__name__}: {err}; "
                f"switch it off with HUB_DISABLED_PLUGINS={ep.name}"
            ) from err
        pm.register(plugin, name=ep.name)


@dataclass
class Registry:
    """The platforms and sandboxes the installed plugins registered."""

    platforms: dict[str, PlatformInfo] = field(default_factory=dict)
    factories: dict[str, AdapterFactory] = field(default_factory=dict)
    sandboxes: dict[str, SandboxFactory] = field(default_factory=dict)
    pm: pluggy.PluginManager | None = None

    def info(self, platform: str) -> PlatformInfo:
        try:
            return self.platforms[platform]
        except KeyError:
            known = ", ".join(sorted(self.platforms)) or "none"
            raise PluginError(f"unknown platform {platform!r} (installed: {known})") from None

    def factory(self, platform: str) -> AdapterFactory:
        self.info(platform)
        return self.factories[platform]


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call the registration hooks and collect what they register."""
    registry = Registry(pm=pm)

    def register_platform(info: PlatformInfo, factory: AdapterFactory) -> None:
        if not isinstance(info, PlatformInfo):
            raise PluginError(f"register() needs a PlatformInfo, got {type(info).__name__}")
        if info.id in registry.platforms:
            raise PluginError(f"platform {info.id!r} is registered twice")
        if info.id != info.id.lower() or not info.id.isidentifier():
            raise PluginError(f"platform id {info.id!r} must be a lowercase identifier")
        registry.platforms[info.id] = info
        registry.factories[info.id] = factory

    def register_sandbox(platform: str, factory: SandboxFactory) -> None:
        if platform in registry.sandboxes:
            raise PluginError(f"sandbox for {platform!r} is registered twice")
        registry.sandboxes[platform] = factory

    pm.hook.hub_register_platforms(register=register_platform)
    pm.hook.hub_register_sandboxes(register=register_sandbox)
    unknown = set(registry.sandboxes) - set(registry.platforms)
    if unknown:
        raise PluginError(f"sandboxes registered for unknown platforms: {sorted(unknown)}")
    return registry


async def collect(pm: pluggy.PluginManager, hook: str, **kwargs: object) -> list[object]:
    """Call a hook whose implementations return lists (or awaitables of lists); concatenate them.
    An implementation that fails is logged and skipped: one plugin's bug never hides a case."""
    out: list[object] = []
    for impl in getattr(pm.hook, hook).get_hookimpls():
        try:
            items = await await_me_maybe(impl.function(**kwargs))
        except Exception as err:
            log.error("hook_failed", hook=hook, plugin=impl.plugin_name, error=f"{type(err).__name__}: {err}")
            continue
        out.extend(items or ())  # type: ignore[arg-type]
    return out


async def notify(pm: pluggy.PluginManager, hook: str, **kwargs: object) -> None:
    """Call a notification hook: every implementation runs, awaitables are awaited, and an
    exception in one is logged (with the plugin's name) and never reaches the caller."""
    for impl in getattr(pm.hook, hook).get_hookimpls():
        try:
            await await_me_maybe(impl.function(**kwargs))
        except Exception as err:  # one plugin's bug must never break a sync
            log.error("hook_failed", hook=hook, plugin=impl.plugin_name, error=f"{type(err).__name__}: {err}")


async def await_me_maybe(value: object) -> object:
    """Await ``value`` if it is awaitable (notification hooks may return either)."""
    if inspect.isawaitable(value):
        return await value
    return value
