"""A small test-only platform ("acme") that exercises the core through the same contract as a real
plugin: an HTTP sandbox with paging, token auth, faults and a clock; a client that classifies
errors; a pure mapping; a rule table. Loaded by tests with a plugin manager, and by subprocesses
through ``HUB_PLUGINS=tests.testplatform``.
"""

from __future__ import annotations

from hub import hookimpl
from hub.platform import PlatformRegister, SandboxRegister

from .adapter import INFO, AcmeAdapter
from .server import AcmeSandbox


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register the acme test platform."""
    register(INFO, AcmeAdapter)


@hookimpl
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register the acme sandbox."""
    register("acme", AcmeSandbox)
