"""hub: one after-sales command centre for several Chinese e-commerce platforms.

What a plugin author imports: the hook marker, the platform contract, the unified model, the rule
types and the errors.
"""

from .hookspecs import hookimpl
from .platform import (
    ActionAvailability,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Capability,
    DemoShop,
    Hint,
    Page,
    ParamSpec,
    PlatformAdapter,
    PlatformInfo,
    ResourceSpec,
    Sandbox,
    SettingSpec,
    Window,
)

__version__ = "0.1.0"

__all__ = [
    "ActionAvailability",
    "ActionOutcome",
    "ActionRequest",
    "ActionResult",
    "AdapterContext",
    "Capability",
    "DemoShop",
    "Hint",
    "Page",
    "ParamSpec",
    "PlatformAdapter",
    "PlatformInfo",
    "ResourceSpec",
    "Sandbox",
    "SettingSpec",
    "Window",
    "__version__",
    "hookimpl",
]
