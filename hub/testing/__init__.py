"""What a plugin author imports to test a platform plugin.

- :mod:`hub.testing.fixtures`: a pytest plugin (``pytest_plugins = ["hub.testing.fixtures"]``)
  with a migrated database on SQLite (and PostgreSQL when ``HUB_TEST_POSTGRES_URL`` is set) and a
  plugin manager without entry points.
- :class:`hub.testing.fake_server.FakePlatformServer`: the base of every sandbox: an aiohttp
  server on loopback with a controllable clock, a request log and fault injection.
- :mod:`hub.testing.conformance`: the suite every platform plugin runs against its sandbox.
"""
