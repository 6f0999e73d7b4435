"""bench/report.py: runs each bench N times, reads its target lines, and judges the median."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import report


def test_parse_and_judge_the_median() -> None:
    out = (
        "noise\ntarget first_ingest_vs_raw[sqlite]=0.47 goal>=0.4 PASS\n"
        "target import_row_cap_names_file=1 goal==1 PASS\n"
    )
    assert report.parse_targets(out) == [
        (
            "first_ingest_vs_raw[sqlite]",
            0.47,
            ">=",
            0.4,
            "target first_ingest_vs_raw[sqlite]=0.47 goal>=0.4 PASS",
        ),
        ("import_row_cap_names_file", 1.0, "==", 1.0, "target import_row_cap_names_file=1 goal==1 PASS"),
    ]
    t = report.Target(
        name="worklist_first_page_vs_raw[postgresql]", op="<=", goal=2.0, values=[2.3, 1.6, 1.9]
    )
    assert t.median == 1.9 and t.passed  # one bad run of three does not decide
    text = report.table([t], markdown=True)
    assert "| `worklist_first_page_vs_raw` | postgresql | <=2 | 3 | 1.6 / 1.9 | PASS |" in text


def test_runs_every_bench_n_times(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    counter = tmp_path / "n"

    def fake(bench: str, url: str | None, records: int) -> tuple[list[str], dict[str, str]]:
        # each run prints the next value of a counter kept in a file: 1, 2, 3 ...
        label = "postgresql" if url else "sqlite"
        code = (
            f"import pathlib; p = pathlib.Path({str(counter)!r}); "
            "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); "
            f"print('target fake_ratio[{label}]=' + str(n) + ' goal<=2 PASS')"
        )
        return [sys.executable, "-c", code], dict(os.environ)

    monkeypatch.setattr(report, "command", fake)
    rc = report.main(
        ["--runs", "3", "--only", "ingest,sync", "--once", "sync", "--log-dir", str(tmp_path / "logs")]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert out.count("# ingest [sqlite] run") == 3 and out.count("# sync [sqlite] run 1/1") == 1
    # four runs in all (3 ingest + 1 sync) fed the same target: 1, 2, 3, 4 -> median 2.5 > 2
    assert "fake_ratio  sqlite    <=2   4     1 / 2.5" in out and "FAIL" in out
    assert len(list((tmp_path / "logs").iterdir())) == 4
