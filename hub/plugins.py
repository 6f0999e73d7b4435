"""The plugin manager: entry-point group ``hub``, ``HUB_DISABLED_PLUGINS``, ``HUB_PLUGINS``.

Built-in platforms are loaded through their entry points exactly like third-party ones.

A plugin's fault is named where it happens: a module with ``hub_*`` functions but no
``@hookimpl`` names the function; a misspelt hook names the plugin, the hook and how to switch it
off. An installed (entry-point) plugin with such a fault is left out and its problem kept in
:func:`load_problems` (``hub plugins`` shows it, ``hub sync`` says it for the plugin's shops), so
one broken plugin never stops every command; a plugin handed in by code (tests) raises at once.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType

import pluggy
import structlog

from . import hookspecs
from .errors import PluginError
from .platform import AdapterFactory, PlatformInfo, SandboxFactory

HOOK_NAMES = tuple(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("hub_")
)

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
    problems: dict[str, str] = {}
    pm.hub_problems = problems  # type: ignore[attr-defined]
    disabled = _env_list("HUB_DISABLED_PLUGINS")
    for name in disabled:
        pm.set_blocked(name)
    if load_entrypoints:
        _load_entrypoints(pm, problems)
    for path in _env_list("HUB_PLUGINS"):
        if path in disabled or path.rsplit(".", 1)[-1] in disabled:
            continue
        try:
            module = importlib.import_module(path)
        except ImportError as err:
            raise PluginError(f"HUB_PLUGINS names {path!r}, which cannot be imported: {err}") from err
        if not pm.is_registered(module):
            _register_checked(pm, module, path, problems=None)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            _register_checked(pm, plugin, None, problems=None)
    if os.environ.get("HUB_TRACE_PLUGINS") == "1":
        pm.trace.root.setwriter(lambda msg: log.debug("hook", trace=msg.rstrip()))
        pm.enable_tracing()
    return pm


def load_problems(pm: pluggy.PluginManager) -> dict[str, str]:
    """Installed plugins left out because of a fault: plugin name -> the one-line problem."""
    return dict(getattr(pm, "hub_problems", {}))


def _load_entrypoints(pm: pluggy.PluginManager, problems: dict[str, str]) -> None:
    """Like pluggy's ``load_setuptools_entrypoints``, but a plugin that fails to import or
    implements a hook wrongly is left out with a clear problem naming it and how to switch it
    off, not a traceback that stops every command."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as err:
            _left_out(
                problems,
                ep.name,
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(err).__name__}: {err}; "
                f"switch it off with HUB_DISABLED_PLUGINS={ep.name}",
            )
            continue
        _register_checked(pm, plugin, ep.name, problems=problems)


def _left_out(problems: dict[str, str], name: str, message: str) -> None:
    problems[name] = message
    log.error("plugin_left_out", plugin=name, problem=message)


def hook_problems(plugin: object, name: str) -> list[str]:
    """What is wrong with a plugin's hook functions, one line each: a ``hub_*`` function without
    ``@hookimpl`` (pluggy would silently ignore it), or an ``@hookimpl`` of a hook that does not
    exist (a typo), with the nearest real hook name."""
    out: list[str] = []
    for attr in sorted(dir(plugin)):
        if not attr.startswith("hub_"):
            continue
        fn = getattr(plugin, attr, None)
        if not callable(fn) or inspect.isclass(fn):
            continue
        marked = hasattr(fn, "hub_impl")
        if attr not in HOOK_NAMES:
            if not marked and not inspect.isfunction(fn):
                continue
            near = difflib.get_close_matches(attr, HOOK_NAMES, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f" (hooks: {', '.join(HOOK_NAMES)})"
            out.append(f"plugin {name!r}: {attr} is not a hub hook{hint}")
        elif not marked:
            where = getattr(fn, "__module__", None) or name
            out.append(
                f"plugin {name!r}: {where}.{attr} has no @hookimpl, so hub never calls it "
                "(decorate it with hub.hookimpl)"
            )
    return out


def _register_checked(
    pm: pluggy.PluginManager, plugin: object, name: str | None, *, problems: dict[str, str] | None
) -> None:
    """Register ``plugin`` after checking its hook functions. An installed plugin (``problems``
    given) with a fault is left out and its problem kept; otherwise the fault raises."""
    label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    found = hook_problems(plugin, label)
    if found:
        message = "; ".join(found) + f"; switch it off with HUB_DISABLED_PLUGINS={label}"
        if problems is None:
            raise PluginError(message)
        _left_out(problems, label, message)
        return
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as err:
        message = f"plugin {label!r}: {err}; switch it off with HUB_DISABLED_PLUGINS={label}"
        if problems is None:
            raise PluginError(message) from err
        _left_out(problems, label, message)


@dataclass
class Registry:
    """The platforms and sandboxes the installed plugins registered."""

    platforms: dict[str, PlatformInfo] = field(default_factory=dict)
    factories: dict[str, AdapterFactory] = field(default_factory=dict)
    sandboxes: dict[str, SandboxFactory] = field(default_factory=dict)
    pm: pluggy.PluginManager | None = None
    #: installed plugins left out because of a fault: name -> problem (see :func:`load_problems`)
    problems: dict[str, str] = field(default_factory=dict)

    def info(self, platform: str) -> PlatformInfo:
        try:
            return self.platforms[platform]
        except KeyError:
            known = ", ".join(sorted(self.platforms)) or "none"
            broken = self.problems.get(platform)
            if broken:
                raise PluginError(f"platform {platform!r} is not available: {broken}") from None
            raise PluginError(f"unknown platform {platform!r} (installed: {known})") from None

    def factory(self, platform: str) -> AdapterFactory:
        self.info(platform)
        return self.factories[platform]


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call the registration hooks and collect what they register."""
    registry = Registry(pm=pm, problems=load_problems(pm))

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

    for hook, register in (
        ("hub_register_platforms", register_platform),
        ("hub_register_sandboxes", register_sandbox),
    ):
        for plugin, call in each_impl(pm, hook, register=register):
            try:
                call()
            except PluginError:
                raise
            except Exception as err:
                # An installed plugin whose registration breaks is left out, named; the rest load.
                message = (
                    f"plugin {plugin!r}: {hook} raised {type(err).__name__}: {err}; "
                    f"switch it off with HUB_DISABLED_PLUGINS={plugin}"
                )
                registry.problems[plugin] = message
                log.error("plugin_left_out", plugin=plugin, problem=message)
    unknown = set(registry.sandboxes) - set(registry.platforms)
    if unknown:
        raise PluginError(f"sandboxes registered for unknown platforms: {sorted(unknown)}")
    return registry


def call_plugin(pm: pluggy.PluginManager, hook: str, plugin: str, **kwargs: object) -> object:
    """Call one plugin's implementation of ``hook`` through pluggy (``pm.subset_hook_caller``):
    pluggy passes the implementation only the arguments it names, so one taking a subset works,
    and ``HUB_TRACE_PLUGINS`` traces the call. Returns its result (``None`` when it has none)."""
    caller = getattr(pm.hook, hook)
    others = [i.plugin for i in caller.get_hookimpls() if i.plugin_name != plugin]
    results = pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)
    return results[0] if results else None


def each_impl(
    pm: pluggy.PluginManager, hook: str, **kwargs: object
) -> list[tuple[str, Callable[[], object]]]:
    """One call per implementation of ``hook`` (see :func:`call_plugin`), in pluggy's order.
    Calling them one by one keeps each plugin's failure its own."""
    names = [impl.plugin_name for impl in reversed(getattr(pm.hook, hook).get_hookimpls())]
    return [(name, functools.partial(call_plugin, pm, hook, name, **kwargs)) for name in names]


async def collect(pm: pluggy.PluginManager, hook: str, **kwargs: object) -> list[object]:
    """Call a hook whose implementations return lists (or awaitables of lists); concatenate them.
    An implementation that fails is logged and skipped: one plugin's bug never hides a case."""
    out: list[object] = []
    for plugin, call in each_impl(pm, hook, **kwargs):
        try:
            items = await await_me_maybe(call())
        except Exception as err:
            log.error("hook_failed", hook=hook, plugin=plugin, error=f"{type(err).__name__}: {err}")
            continue
        out.extend(items or ())  # type: ignore[arg-type]
    return out


async def notify(pm: pluggy.PluginManager, hook: str, **kwargs: object) -> None:
    """Call a notification hook: every implementation runs, awaitables are awaited, and an
    exception in one is logged (with the plugin's name) and never reaches the caller."""
    for plugin, call in each_impl(pm, hook, **kwargs):
        try:
            await await_me_maybe(call())
        except Exception as err:  # one plugin's bug must never break a sync
            log.error("hook_failed", hook=hook, plugin=plugin, error=f"{type(err).__name__}: {err}")


async def await_me_maybe(value: object) -> object:
    """Await ``value`` if it is awaitable (notification hooks may return either)."""
    if inspect.isawaitable(value):
        return await value
    return value
