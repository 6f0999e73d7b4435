"""17网 (17zwd, 一起做网店): the dropshipping purchases behind Taobao and Pinduoduo sales.

17网 publishes no API, so this plugin imports the merchant's own exports, records the steps they
take on 17网's website in a ledger, and links a buyer's return downstream to the return the
merchant must make to the stall. Hook implementations only; see README.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.domain import Insight
from hub.hookspecs import hookimpl
from hub.platform import CaseContext, PlatformRegister, SandboxRegister

from .adapter import factory
from .info import INFO, PLATFORM_ID


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register 17网 with its import-file adapter."""
    register(INFO, factory)


@hookimpl
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register the export-file generator and simulated 代发 for ``hub demo``."""
    from .sandbox import SeventeenSandbox

    register(PLATFORM_ID, SeventeenSandbox)


@hookimpl
def hub_case_insights(context: CaseContext) -> Sequence[Insight] | None:
    """Eligibility and next steps on 17网 returns; the return chain on sales fulfilled through 17网."""
    from .insights import case_insights

    return list(case_insights(context)) or None
