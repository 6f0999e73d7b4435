"""Fixtures for the 17网 plugin: an export world on a fake clock, an adapter reading it, the harness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import plugins.seventeen as plugin
from hub.domain import Shop
from hub.platform import AdapterContext, DemoShop, Window
from hub.testing.fake_server import FakeClock
from plugins.seventeen.adapter import SeventeenAdapter, factory
from plugins.seventeen.sandbox import ExportWorld

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
ALL = Window(start=datetime(2020, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC))


class SeventeenHarness:
    """The conformance harness: the export world writes the import folder; 17网 has no server."""

    platform_id = "seventeen"
    #: an import folder has no rate limit, credentials or server errors (reference §3: no API)
    faults = ("malformed",)
    plugin: ModuleType = plugin

    def __init__(self, root: Path, *, clock: FakeClock | None = None) -> None:
        self.world = ExportWorld(clock=clock or FakeClock(NOW))
        self.world.generate()
        self.folder = root / "imports"
        self.world.write(self.folder)
        self.shop = DemoShop(
            name="17网代发", settings={"import_dir": str(self.folder), "style_return_cap": "3"}
        )

    def now(self) -> datetime:
        return self.world.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.world.advance(delta)
        self.world.write(self.folder)

    def expected_counts(self) -> dict[str, int]:
        return self.world.expected_counts()

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        """17网 has no API: the only fault an import folder has is a malformed file."""
        if kind != "malformed":
            raise NotImplementedError(f"17网 is imported from files: no {kind!r} can happen")
        for _ in range(count):
            self.world.write_malformed(self.folder)

    def corrupt_one(self) -> str:
        rid = self.world.corrupt_one()
        self.world.write(self.folder)
        return rid

    def modify_one(self) -> str:
        rid = self.world.modify_one()
        self.world.write(self.folder)
        return rid


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[SeventeenHarness]:
    yield SeventeenHarness(tmp_path)


@pytest.fixture
def conformance_harness(tmp_path: Path) -> Iterator[SeventeenHarness]:
    yield SeventeenHarness(tmp_path)


def make_adapter(settings: dict[str, str], data_dir: Path, clock: Any) -> SeventeenAdapter:
    ctx = AdapterContext(session=None, limiter=None, now=clock, data_dir=data_dir)  # type: ignore[arg-type]
    return factory(Shop(name="17网代发", platform="seventeen", settings=settings), ctx)


@pytest.fixture
def adapter(harness: SeventeenHarness, tmp_path: Path) -> SeventeenAdapter:
    return make_adapter(dict(harness.shop.settings), tmp_path / "data", harness.now)


async def fetch_all(adapter: SeventeenAdapter, resource: str) -> tuple[list[Any], list[Any]]:
    records, problems = [], []
    async for page in adapter.fetch_window(resource, ALL):
        records.extend(page.records)
        problems.extend(page.problems)
    return records, problems
