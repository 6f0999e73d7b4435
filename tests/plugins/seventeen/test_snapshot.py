"""Import as the fetch path: every file read each sync, duplicates merged, bad files reported."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from hub.domain import AfterSale, Order, OrderRole
from hub.errors import MappingError
from plugins.seventeen.sandbox import DEMO_PDD_SUFFIXES, DEMO_TAOBAO_TIDS
from plugins.seventeen.snapshot import PURCHASE, PURCHASE_RETURN

from .conftest import SeventeenHarness, fetch_all, make_adapter


async def test_imports_every_file_without_duplicates(harness: SeventeenHarness, adapter) -> None:
    purchases, problems = await fetch_all(adapter, PURCHASE)
    returns, _ = await fetch_all(adapter, PURCHASE_RETURN)
    assert problems == []
    assert len(purchases) == harness.expected_counts()["purchase"]
    assert len(returns) == harness.expected_counts()["purchase_return"]
    assert len({r.external_id for r in purchases}) == len(purchases)
    names = {p.name for p in harness.folder.iterdir()}
    assert any(n.endswith(".csv") for n in names) and any(n.endswith(".xlsx") for n in names)
    for raw in purchases:
        assert raw.updated_at is not None and raw.updated_at.utcoffset() == timedelta(0)
        assert isinstance(adapter.map_record(raw), Order)


async def test_importing_twice_gives_the_same_records(harness: SeventeenHarness, adapter) -> None:
    """An unchanged folder yields identical raw records and updated_at: the core's upsert ignores them."""
    first = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE))[0]}
    harness.world.write(harness.folder)  # the merchant downloads the same exports again
    second = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE))[0]}
    assert first == second
    r1 = (await fetch_all(adapter, PURCHASE_RETURN))[0]
    r2 = (await fetch_all(adapter, PURCHASE_RETURN))[0]
    assert [(r.external_id, r.updated_at, r.payload) for r in r1] == [
        (r.external_id, r.updated_at, r.payload) for r in r2
    ]


async def test_a_copy_of_an_export_changes_nothing(harness: SeventeenHarness, adapter) -> None:
    before = {r.external_id: r.updated_at for r in (await fetch_all(adapter, PURCHASE))[0]}
    for path in list(harness.folder.iterdir()):
        shutil.copy(path, path.with_name("copy_" + path.name))
    after = {r.external_id: r.updated_at for r in (await fetch_all(adapter, PURCHASE))[0]}
    assert after == before


async def test_newest_version_of_an_order_wins_across_files(harness: SeventeenHarness, adapter) -> None:
    before = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    old_csv = (harness.folder / "17网退货导出.csv").read_bytes()
    rid = harness.modify_one()
    (harness.folder / "old_download.csv").write_bytes(old_csv)  # an older export left in the folder
    after = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    assert after[rid].updated_at > before[rid].updated_at
    assert adapter.map_record(after[rid]).platform_status != adapter.map_record(before[rid]).platform_status


async def test_a_malformed_file_is_a_problem_and_the_rest_imports(harness: SeventeenHarness, adapter) -> None:
    harness.inject("malformed")
    purchases, problems = await fetch_all(adapter, PURCHASE)
    assert len(purchases) == harness.expected_counts()["purchase"]
    assert len(problems) == 1
    assert (
        "坏文件" in problems[0].source
        and "bad date" in problems[0].message
        and "line 2" in problems[0].message
    )
    # reported once per sync: not again on the returns' pages
    assert (await fetch_all(adapter, PURCHASE_RETURN))[1] == []


async def test_corrupt_row_maps_to_a_mapping_error_naming_the_field(
    harness: SeventeenHarness, adapter
) -> None:
    rid = harness.corrupt_one()
    returns = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    with pytest.raises(MappingError, match="order_id"):
        adapter.map_record(returns[rid])
    others = [adapter.map_record(r) for k, r in returns.items() if k != rid]
    assert all(isinstance(c, AfterSale) for c in others)


async def test_the_simulated_daifa_moves_returns_on(harness: SeventeenHarness, adapter) -> None:
    before = {r.external_id: adapter.map_record(r) for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    harness.advance(timedelta(days=6))
    after = {r.external_id: adapter.map_record(r) for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    moved = [k for k in before if after[k].platform_status != before[k].platform_status]
    assert moved
    for k in moved:
        assert after[k].updated_at > before[k].updated_at
    assert any(c.status.value == "succeeded" and c.refund_fen > 0 for c in after.values())


async def test_fetch_one_and_missing_folder(harness: SeventeenHarness, adapter, tmp_path: Path) -> None:
    raws = (await fetch_all(adapter, PURCHASE))[0]
    assert await adapter.fetch_one(PURCHASE, raws[0].external_id) == raws[0]
    assert await adapter.fetch_one(PURCHASE, "nope") is None
    empty = make_adapter({}, tmp_path / "d2", harness.now)
    records, problems = await fetch_all(empty, PURCHASE)
    assert records == [] and problems == []
    assert (tmp_path / "d2" / "imports").is_dir()  # the default folder is made for the merchant


async def test_purchases_carry_role_and_links(adapter) -> None:
    orders = [adapter.map_record(r) for r in (await fetch_all(adapter, PURCHASE))[0]]
    assert all(o.role is OrderRole.PURCHASE for o in orders)
    sale_ids = {link.sale_external_id for o in orders for link in o.links if link.sale_external_id}
    assert sale_ids >= set(DEMO_TAOBAO_TIDS)
    assert sum(1 for s in sale_ids if s.endswith(DEMO_PDD_SUFFIXES)) == 2
