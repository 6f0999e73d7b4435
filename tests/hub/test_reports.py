"""``hub report`` and ``hub ledger`` through the CLI, on a seeded store (SQLite, and PostgreSQL when
HUB_TEST_POSTGRES_URL is set): every column, the Beijing-day rule, shop scoping, the files."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hub.cli import main
from hub.store.engine import create_engine
from hub.store.migrate import upgrade
from tests.hub.reports_seed import EXPECTED_LEDGER, EXPECTED_REPORT_CASES, seed

FROM_TO = ["--from", "2025-03-10", "--to", "2025-03-11"]


@pytest.fixture
async def store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await seed(engine)
    finally:
        await engine.dispose()
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_LOG_LEVEL", "warning")
    return db_url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``hub ARGV`` in a thread (it runs its own event loop); (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_report_json_has_every_figure(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run(capsys, "report", *FROM_TO, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["from"] == "2025-03-10" and r["to"] == "2025-03-11"
    assert {k: r["cases"][k] for k in EXPECTED_REPORT_CASES} == EXPECTED_REPORT_CASES
    assert r["cases"]["by_shop"] == [
        {"shop": "tb", "cases": 3, "refund_fen": 23000},
        {"shop": "pdd", "cases": 3, "refund_fen": 3200},
        {"shop": "s17", "cases": 1, "refund_fen": 3000},
    ]
    assert [(g["platform"], g["cases"]) for g in r["cases"]["by_platform"]] == [
        ("taobao", 3),
        ("pinduoduo", 3),
        ("seventeen", 1),
    ]
    assert {g["reason"]: g["cases"] for g in r["cases"]["by_reason"]}["快递丢件"] == 1
    # C1 after 30 min (an action), C3 after 1 h (an action), C5 after 1 h and C4 after 14 h (both
    # answered in the seller backend); C2's move came from the platform after its clock ran out
    assert r["first_reply"] == {"cases": 7, "replied": 4, "median_seconds": 3600}
    assert r["deadlines"] == {
        "missed": 1,
        "by_outcome": [{"on_expiry": "auto_agree", "to_status": "refunding", "cases": 1, "refund_fen": 5000}],
        "auto_agreed": {"cases": 1, "money_lost_fen": 5000},
        "overdue_open": {"cases": 1, "refund_fen": 2000},
    }
    assert r["late_shipment"] == {
        "at_risk": {"orders": 2, "penalty_fen": 500},
        "overdue": {"orders": 1, "penalty_fen": 300},
        "incurred": {"orders": 1, "penalty_fen": 500},
    }
    assert r["agents"] == [
        {"agent": "alice", "cases": 2, "actions": 2, "done": 2, "failed": 0},
        {"agent": "bob", "cases": 2, "actions": 2, "done": 1, "failed": 1},
    ]


async def test_report_shop_filter_text_and_bad_input(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(capsys, "report", *FROM_TO, "--shop", "pdd", "--json")
    r = json.loads(out)
    assert code == 0 and r["shops"] == ["pdd"] and r["cases"]["opened"] == 3
    assert r["agents"] == [
        {"agent": "alice", "cases": 1, "actions": 1, "done": 1, "failed": 0},
        {"agent": "bob", "cases": 1, "actions": 1, "done": 0, "failed": 1},
    ]
    code, out, _ = await run(capsys, "report", *FROM_TO)
    assert code == 0 and "Cases opened 7" in out and "money lost 50.00 yuan" in out
    code, _, err = await run(capsys, "report", *FROM_TO, "--shop", "nope")
    assert code == 2 and "unknown shop nope" in err
    code, _, err = await run(capsys, "report", "--from", "2025-03-11", "--to", "2025-03-10")
    assert code == 2 and "before" in err
    code, _, err = await run(capsys, "report", "--from", "10/03/2025", "--to", "2025-03-10")
    assert code == 2 and "--from" in err and "YYYY-MM-DD" in err


def _ledger_rows(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, tuple[int, int]]]]:
    cols = ("refunds", "compensation", "postage", "late_shipment", "upstream_refunds", "goods_cost")
    return [
        (r["day"], r["shop"], {c: (r[c], r[c + "_fen"]) for c in cols if r[c] or r[c + "_fen"]})
        for r in doc["rows"]
    ]


async def test_ledger_json_every_column_and_day_rule(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run(capsys, "ledger", *FROM_TO, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert _ledger_rows(doc) == EXPECTED_LEDGER
    assert doc["totals"]["refunds_fen"] == 23000 and doc["totals"]["goods_cost_fen"] == 2400
    # C6 by its reason (快递丢件), C7 by its logistics state
    assert doc["lost_parcels"] == [{"month": "2025-03", "shop": "pdd", "cases": 2, "refund_fen": 2700}]
    # one day only: the compensation paid at 01:00 Beijing on 03-11 is not on 03-10
    code, out, _ = await run(
        capsys, "ledger", "--from", "2025-03-10", "--to", "2025-03-10", "--json", "--shop", "pdd"
    )
    assert _ledger_rows(json.loads(out)) == [EXPECTED_LEDGER[0]]
    # reproducible: the same data gives the same ledger
    code, again, _ = await run(capsys, "ledger", *FROM_TO, "--json")
    assert json.loads(again) == doc


async def test_ledger_files_csv_xlsx_and_daily(
    store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = await run(capsys, "ledger", *FROM_TO, "--csv", str(tmp_path / "l.csv"))
    raw = (tmp_path / "l.csv").read_bytes()
    assert code == 0 and raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["日期", "店铺", "平台", "退款笔数", "退款金额(元)"]
    tb = next(r for r in rows if r[:2] == ["2025-03-10", "tb"])
    assert tb[3:5] == ["2", "180.00"] and tb[7:9] == ["1", "12.00"] and tb[13:15] == ["1", "24.00"]

    code, _, _ = await run(capsys, "ledger", *FROM_TO, "--xlsx", str(tmp_path / "l.xlsx"))
    book = load_workbook(tmp_path / "l.xlsx", read_only=True)
    sheet = [list(r) for r in book["售后账"].iter_rows(values_only=True)]
    assert code == 0 and sheet[0][0] == "日期" and len(sheet) == 1 + len(EXPECTED_LEDGER)
    assert next(r for r in sheet if r[:2] == ["2025-03-10", "s17"])[12] == 30.0
    assert list(book["丢件"].iter_rows(values_only=True))[1][:4] == ("2025-03", "pdd", 2, 27)

    folder = tmp_path / "finance"
    code, out, err = await run(capsys, "ledger", "daily", "--dir", str(folder), "--date", "2025-03-11")
    path = folder / "ledger-2025-03-11.csv"
    assert code == 0, err
    assert out.strip() == str(path)
    first = path.read_bytes()
    lines = first.decode("utf-8-sig").splitlines()
    # every shop has its line on the daily file, also when nothing happened
    assert [line.split(",")[1] for line in lines[1:]] == ["pdd", "s17", "tb"]
    assert lines[1].split(",")[5:7] == ["1", "5.00"] and lines[3].split(",")[3:5] == ["1", "50.00"]
    code, _, _ = await run(capsys, "ledger", "daily", "--dir", str(folder), "--date", "2025-03-11")
    assert (
        code == 0 and path.read_bytes() == first and sorted(p.name for p in folder.iterdir()) == [path.name]
    )

    code, _, err = await run(capsys, "ledger", "--from", "2025-03-10")
    assert code == 2 and "--to" in err


async def test_a_synced_status_change_records_the_missed_deadline(engine: Any) -> None:
    """The path a sync takes: the case's 72 h merchant clock runs out, the platform agrees by
    itself; the status change carries the deadline that ran, and the report counts it."""
    from datetime import timedelta

    from hub.reportdays import DayRange
    from hub.reports import build_report
    from tests.hub.test_upsert import T0, put, raw, shop_id

    sid = await shop_id(engine)
    await put(engine, sid, [raw("NEW", 0, amount="12.34")])
    await put(engine, sid, [raw("AGREED", 73 * 60, amount="12.34")])  # after the 72 h clock
    await put(engine, sid, [raw("NEW", 0, amount="1.00", ext="C2")])
    await put(engine, sid, [raw("AGREED", 60, amount="1.00", ext="C2")])  # in time
    day = (T0 + timedelta(hours=8)).date()
    r = await build_report(engine, DayRange(day, day + timedelta(days=4)), shop_ids=None, now=T0)
    assert r["deadlines"]["by_outcome"] == [
        {"on_expiry": "auto_agree", "to_status": "refunding", "cases": 1, "refund_fen": 1234}
    ]
    assert r["deadlines"]["auto_agreed"] == {"cases": 1, "money_lost_fen": 1234}
