from collections.abc import Iterator

import pytest
import structlog

pytest_plugins = ["hub.testing.fixtures"]


@pytest.fixture(autouse=True)
def _structlog_config_per_test() -> Iterator[None]:
    """Each test starts from the logging set-up it found: a test that runs the CLI in-process
    configures structlog (say at warning level, as on a terminal), and the next test in the same
    process must not inherit it (``capture_logs`` would then see nothing)."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
