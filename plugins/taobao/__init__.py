"""Taobao / Tmall (淘宝 / 天猫) for hub: the hook implementations only.

The protocol is in ``client.py``, the mapping in ``mapping.py``, the rules in ``rules.py``, the
adapter in ``adapter.py`` and the fake TOP gateway in ``sandbox.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.hookspecs import hookimpl
from hub.platform import CaseContext, PlatformRegister, SandboxRegister

from .info import INFO, PLATFORM_ID


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register Taobao / Tmall with its adapter factory."""
    from .adapter import create_adapter

    register(INFO, create_adapter)


@hookimpl
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register the fake TOP gateway used by ``hub demo`` and the tests."""
    from .sandbox import TaobaoSandbox

    register(PLATFORM_ID, TaobaoSandbox)


@hookimpl
def hub_case_insights(context: CaseContext) -> Sequence[object] | None:
    """Late-shipment early warning (shop policy), 7-day no-reason eligibility and the intervention
    evidence guide (客服介入), Taobao shops only."""
    if context.shop.platform != PLATFORM_ID:
        return None
    from .insights import case_insights

    return case_insights(context) or None
