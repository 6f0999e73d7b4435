"""JD (京东) for hub: after-sales service orders (服务单) on JD's open platform (JOS).

A third-party plugin, installed like any other (``pip install hub-jd``; entry point ``jd`` in the
group ``hub``) and written against the plugin kit only. The protocol is in ``client.py``, the
mapping in ``mapping.py``, the rules in ``rules.py``, the adapter in ``adapter.py`` and the fake
JOS router in ``sandbox.py``.
"""

from __future__ import annotations

from hub import hookimpl
from hub.platform import PlatformRegister, SandboxRegister

from .info import INFO, PLATFORM_ID


@hookimpl
def hub_register_platforms(register: PlatformRegister) -> None:
    """Register JD with its adapter factory."""
    from .adapter import create_adapter

    register(INFO, create_adapter)


@hookimpl
def hub_register_sandboxes(register: SandboxRegister) -> None:
    """Register the fake JOS router for ``hub demo`` and the tests."""
    from .sandbox import FakeJosServer

    register(PLATFORM_ID, FakeJosServer)
