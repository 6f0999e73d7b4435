"""JD passes hub's conformance suite against its sandbox, on SQLite and (when configured) PostgreSQL."""

from hub.testing.conformance import ConformanceSuite


class TestJdConformance(ConformanceSuite):
    pass
