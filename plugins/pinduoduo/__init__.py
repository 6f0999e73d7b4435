"""Pinduoduo (拼多多) for hub: orders and after-sales from the PDD open platform.

Hook implementations only; the work lives in :mod:`.adapter` (sync, actions, push),
:mod:`.client` (protocol), :mod:`.mapping` (pure), :mod:`.rules` and :mod:`.guides` (data).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.domain import Insight
from hub.hookspecs import hookimpl
from hub.platform import CaseContext, PlatformRegister, SandboxRegister

from .adapter import make_adapter
from .info import INFO, PLATFORM_ID
from .insights import case_insights
from .sandbox import PddSandbox


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register Pinduoduo and its adapter factory."""
    register(INFO, make_adapter)


@hookimpl
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register the fake PDD router ``hub demo`` starts."""
    register(PLATFORM_ID, PddSandbox)


@hookimpl
def hub_case_insights(context: CaseContext) -> Sequence[Insight] | None:
    """The merchant guides for a Pinduoduo case, chosen by its reason, kind and status."""
    if context.shop.platform != PLATFORM_ID:
        return None
    return case_insights(context.case, context.order)
