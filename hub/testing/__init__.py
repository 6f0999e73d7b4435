"""What a plugin author imports to test a platform plugin.

- :mod:`hub.testing.fixtures`: a pytest plugin (``pytest_plugins = ["hub.testing.fixtures"]`` in
  a root conftest, or import its fixtures ``db_url, engine, make_hub, plugin_manager`` into the
  plugin's ``tests/conftest.py``) with a migrated database on SQLite (and PostgreSQL when
  ``HUB_TEST_POSTGRES_URL`` is set) and a plugin manager without entry points.
- :class:`hub.testing.fake_server.FakePlatformServer`: the base of every sandbox: an aiohttp
  server on loopback with a controllable clock, a request log and fault injection; its
  ``start(workdir)`` is the :class:`hub.platform.Sandbox` protocol.
- :mod:`hub.testing.harness`: what the plugin's ``conformance_harness`` fixture provides.
- :mod:`hub.testing.conformance`: the suite every platform plugin runs against its sandbox.
"""
