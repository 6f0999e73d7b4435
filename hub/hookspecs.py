"""The plugin contract: every hook a plugin may implement, typed and documented.

Hooks are synchronous and never do IO: registration hooks hand objects to a ``register``
callback; the async work lives on the adapters and sandboxes they register. Notification hooks may
return an awaitable, which the hub awaits; an exception in one is logged, never propagated.
Every hook here has a section in ``docs/plugin-hooks.md`` (a test enforces it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .domain import AfterSale, Insight, Shop
    from .erp.sinks import DocumentSinkRegister
    from .logistics.tracker import TrackerRegister
    from .platform import CaseContext, CommandRegister, PlatformRegister, SandboxRegister

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


@hookspec
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register the platforms this plugin integrates.

    Called once when the plugin manager is built, before any shop is synced. Call
    ``register(info, factory)`` once per platform: ``info`` is a :class:`hub.platform.PlatformInfo`
    and ``factory(shop, context)`` returns the shop's :class:`hub.platform.PlatformAdapter`
    without doing IO. ``context`` is a :class:`hub.platform.AdapterContext`: the hub's shared
    ``aiohttp.ClientSession``, the shop's rate limiter, the clock and a data folder.

    :param register: adds a platform; raises :class:`hub.errors.PluginError` when ``info.id`` is
        already registered.
    """


@hookspec
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register a fake platform server for ``hub demo`` and for tests.

    Call ``register(platform_id, factory)``; ``factory()`` returns a :class:`hub.platform.Sandbox`
    whose ``start(workdir)`` serves on loopback and returns the demo shops to add.

    :param register: adds a sandbox for a registered platform id.
    """


@hookspec
def hub_case_insights(context: CaseContext) -> Sequence[Insight] | Awaitable[Sequence[Insight]] | None:
    """Advice to show on a case: handling guides, eligibility verdicts, conflict warnings.

    Called for every plugin when a case is shown (page, API, ``hub case show``), also for cases
    of other platforms: a sourcing plugin uses it to show the upstream steps behind a sale's
    return. Return ``None`` or an empty list when the plugin has nothing to say.

    :param context: the case, its order, and the orders linked to it with their cases.
    :returns: a list of :class:`hub.domain.Insight`, or an awaitable of one.
    """


@hookspec
def hub_on_case_changed(shop: Shop, case: AfterSale, changes: Mapping[str, Any]) -> Awaitable[None] | None:
    """Notification after a sync or an action really changed a case.

    Not called when a re-sync finds the case unchanged. May return an awaitable.

    :param shop: the case's shop.
    :param case: the case as now stored.
    :param changes: field name -> ``[old, new]`` for what changed (empty for a new case).
    """


@hookspec
def hub_register_commands(register: CommandRegister) -> None:
    """Add sub-commands to the ``hub`` command line.

    Called when the command line is built. ``register(name, help)`` returns an
    ``argparse.ArgumentParser`` for ``hub NAME``: add arguments to it and
    ``set_defaults(func=handler)``, where ``async def handler(args) -> int`` returns the exit
    status. A name that is already a command (or any exception here) is reported on stderr,
    naming the plugin, and the other commands still work. Open the hub in the handler with
    ``hub.cli.open_hub(args)``.

    :param register: adds one sub-command and returns its parser.
    """


@hookspec
def hub_register_document_sinks(register: DocumentSinkRegister) -> None:
    """Register kinds of ERP document sink (besides the built-in ``file`` and ``webhook``).

    Call ``register(kind, factory)``; ``hub sink add NAME --kind KIND --set key=value`` then
    configures one. ``factory(name, config, context)`` returns a :class:`hub.erp.sinks.DocumentSink`
    without doing IO: ``config`` is the sink's settings, ``context`` a
    :class:`hub.erp.sinks.SinkContext` (the hub's ``aiohttp.ClientSession`` and home folder).
    Its ``async deliver(document)`` receives one document (a JSON-able mapping: ``number``,
    ``idempotency_key``, ``kind``, ``step``, shop, order and case ids, ``items``, ``amount_fen``…)
    and raises :class:`hub.erp.sinks.DeliveryError` when it could not deliver it; the hub records
    the outcome, never sends a delivered document again and retries a failed one later, so
    ``deliver`` should itself ignore a document number it already has.

    :param register: adds a sink kind; raises :class:`hub.errors.ConfigError` when the kind is
        already registered.
    """


@hookspec
def hub_register_trackers(register: TrackerRegister) -> None:
    """Register a parcel tracker (besides the built-in ``kuaidi100``).

    Call ``register(name, factory)``; setting ``HUB_TRACKER=name`` makes the logistics watch use
    it. ``factory(context)`` returns a :class:`hub.logistics.tracker.Tracker` without doing IO:
    ``context`` is a :class:`hub.logistics.tracker.TrackerContext` (the hub's
    ``aiohttp.ClientSession`` and the environment's settings). Its
    ``async track(company, waybill, phone)`` returns a :class:`hub.logistics.tracker.Tracking`
    (state, whether it is final, the traces newest first), or raises
    :class:`hub.logistics.tracker.TrackingError` (``retry_after`` set when the service asks to
    wait).

    :param register: adds a tracker; raises :class:`hub.errors.ConfigError` when the name is taken.
    """
