"""The agents' workbench: server-rendered pages, a JSON API, access control and metrics.

``create_app(hub)`` builds the aiohttp application, ``run_server(hub, host, port)`` serves it, and
``ensure_user(hub, name, role, shops, password)`` provisions a user (``hub demo`` uses both).
"""

from .app import create_app, run_server
from .auth import ensure_user

__all__ = ["create_app", "ensure_user", "run_server"]
