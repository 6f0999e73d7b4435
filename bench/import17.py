"""17网 export import at scale: a ~50 MB order CSV (~175,000 rows) and an XLSX, peak RSS and time.

    python bench/import17.py [--rows 175000] [--xlsx-rows 50000]

Each phase runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own:

- ``csv``: ``plugins.seventeen.importer.read_export`` checks the whole file (streaming), then the
  rows are iterated once, as the snapshot does (read again, streaming);
- ``snapshot``: the plugin's whole fetch as a sync runs it (``snapshot.open_stream`` for both
  resources: every export merged into one raw record per order, streamed: an index pass, then the
  records built as they are read);
- ``xlsx``: the same for an XLSX of ``--xlsx-rows`` rows (openpyxl read-only, streaming);
- ``xlsx_cap``: an XLSX over the row cap is refused (row cap = half its rows), naming the file.

Ends with one line per target: ``target NAME=VALUE goal=GOAL PASS|FAIL``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.errors import ImportFileError  # noqa: E402
from plugins.seventeen import snapshot  # noqa: E402
from plugins.seventeen.importer import read_export  # noqa: E402
from plugins.seventeen.ledger import Ledger  # noqa: E402

TARGET_RSS_MB = 300.0
HEADER = (
    "订单号,子订单号,下单时间,付款时间,发货时间,订单状态,货号,商品名称,颜色,尺码,数量,单价,档口,市场,"
    "拿货状态,代发费,运费,实付金额,收货人,联系电话,收货地址,快递公司,快递单号,备注"
)


def _row(i: int, rng: random.Random) -> list[Any]:
    order = 1726110100000 + i // 2
    day = 1 + i % 28
    return [
        str(order),
        f"{order}{i % 2}",
        f"2026-10-{day:02d} 10:{i % 60:02d}:00",
        f"2026-10-{day:02d} 10:{i % 60:02d}:30",
        f"2026-10-{min(28, day + 1):02d} 18:00:00",
        ("已发货", "待发货", "已完成")[i % 3],
        f"A{8000 + i % 900}",
        f"夏季新款纯棉短袖T恤女宽松百搭上衣{i % 50}号款",
        ("黑色", "白色", "杏色")[i % 3],
        ("S", "M", "L", "XL")[i % 4],
        1 + i % 3,
        f"{20 + i % 60}.{i % 100:02d}",
        f"{rng.choice('ABCDEFG')}区{i % 300}档",
        "四季星座",
        "已拿货",
        "2.00",
        "5.00",
        f"{70 + i % 90}.00",
        f"收件人{i % 997}",
        f"138{i % 100_000_000:08d}",
        f"广东省广州市白云区某某街道{i % 500}号",
        "中通快递",
        f"ZT{78_000_000_000 + i}",
        f"淘宝 {4_000_000_000_000_000 + i // 2}",
    ]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\n")
        for i in range(rows):
            fh.write(",".join(str(v) for v in _row(i, rng)) + "\n")


def write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    rng = random.Random(7)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER.split(","))
    for i in range(rows):
        sheet.append(_row(i, rng))
    book.save(path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(name: str, path: Path, cap: int | None) -> dict[str, Any]:
    started = time.perf_counter()
    settings = {"import_max_mb": "1000", "import_max_rows": str(cap or 10_000_000)}
    out: dict[str, Any] = {"phase": name, "file_mb": path.stat().st_size / 1e6}
    if name in ("csv", "xlsx"):
        imported = read_export(path, settings)
        out["rows"] = sum(1 for _ in imported.rows)
    elif name == "snapshot":
        # what a sync's fetch does: each resource streamed, page by page, from the folder
        ledger = Ledger(path.parent / "ledger.jsonl")
        out["rows"] = out["records"] = 0
        out["problems"] = []
        for resource in (snapshot.PURCHASE, snapshot.PURCHASE_RETURN):
            records, problems = snapshot.open_stream(path.parent, ledger, settings, resource)
            out["problems"] += [p.message for p in problems]
            for record in records:
                out["records"] += 1
                out["rows"] += len(record.payload.get("rows") or ())
    elif name == "xlsx_cap":
        try:
            read_export(path, settings)
            out["refused"] = None
        except ImportFileError as err:
            out["refused"] = str(err)
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_sub(name: str, path: Path, cap: int | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--file", str(path)]
    if cap:
        cmd += ["--cap", str(cap)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"phase {name} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=175_000, help="CSV rows (175000: about 50 MB)")
    parser.add_argument("--xlsx-rows", type=int, default=50_000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args.phase, args.file, args.cap)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-17-"))
    try:
        (tmp / "csv").mkdir()
        (tmp / "xlsx").mkdir()
        csv_path, xlsx_path = tmp / "csv" / "orders.csv", tmp / "xlsx" / "orders.xlsx"
        write_csv(csv_path, args.rows)
        write_xlsx(xlsx_path, args.xlsx_rows)
        results = [
            run_sub("csv", csv_path),
            run_sub("snapshot", csv_path),
            run_sub("xlsx", xlsx_path),
            run_sub("xlsx_cap", xlsx_path, cap=max(1, args.xlsx_rows // 2)),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"17网 import benchmark: {args.rows:,}-row CSV, {args.xlsx_rows:,}-row XLSX "
        "(each phase in its own process)"
    )
    for r in results:
        detail = r.get("refused") or f"{r.get('rows', 0):,} rows"
        print(
            f"  {r['phase']:<9} {r['file_mb']:>7.1f} MB file {r['seconds']:>7.2f} s "
            f"peak RSS {r['peak_rss_mb']:>6.0f} MB  {detail}"
        )
    by = {r["phase"]: r for r in results}
    for name in ("csv", "snapshot", "xlsx"):
        rss = by[name]["peak_rss_mb"]
        print(
            f"target import_peak_rss_mb[{name}]={rss:.0f} goal<{TARGET_RSS_MB:g} "
            f"{'PASS' if rss < TARGET_RSS_MB else 'FAIL'}"
        )
    refused = by["xlsx_cap"]["refused"] or ""
    ok = "import_max_rows" in refused and "orders.xlsx" in refused
    print(f"target import_row_cap_names_file={int(ok)} goal==1 {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
