"""Run every bench N times and print, per target, the min and median and PASS/FAIL on the median.

    python bench/report.py [--runs 3] [--records 200000] [--database-url URL ...]
                           [--once sync,import17] [--only ingest,worklist] [--log-dir DIR] [--markdown]

SQLite always; each ``--database-url`` (PostgreSQL) adds a database. Each bench runs as its own
process, one at a time, exactly as ``make bench`` runs it; every ``target NAME=VALUE goal=GOAL
PASS|FAIL`` line it prints is collected (and printed as is, run by run), and the table at the end
gives each target's value over the runs: min, median, and the verdict of the median against the
goal. ``--once`` names benches to run once whatever ``--runs`` says (the end-to-end sync runs
against a fixed latency for minutes; its figures barely move). The 17网 import bench does not use
a database: it runs with the SQLite pass only. ``--log-dir`` keeps each run's whole output.

``make bench-report RUNS=3 [DATABASE_URL=...]`` runs this; docs/performance.md's table is its
``--markdown`` output. ``--from-logs DIR`` prints the table of the runs kept in a ``--log-dir``
(several invocations into one folder: e.g. three runs of some benches and one of the others).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ("ingest", "worklist", "export", "sync", "import17")
TARGET = re.compile(
    r"^target (?P<name>[^=\s]+)=(?P<value>\S+) goal(?P<op>>=|<=|==|<|>|=)(?P<goal>\S+) (PASS|FAIL)$"
)


@dataclass
class Target:
    """One target's values over the runs (one database, or one file kind)."""

    name: str
    op: str
    goal: float
    values: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def passed(self) -> bool:
        """The median against the goal."""
        return meets(self.median, self.op, self.goal)


def meets(value: float, op: str, goal: float) -> bool:
    return {
        ">=": value >= goal,
        "<=": value <= goal,
        "<": value < goal,
        ">": value > goal,
        "==": value == goal,
        "=": value == goal,
    }[op]


def parse_targets(output: str) -> list[tuple[str, float, str, float, str]]:
    """(name, value, op, goal, line) of every target line in a bench's output."""
    found = []
    for line in output.splitlines():
        m = TARGET.match(line.strip())
        if m:
            found.append((m["name"], float(m["value"]), m["op"], float(m["goal"]), line.strip()))
    return found


def command(bench: str, url: str | None, records: int) -> tuple[list[str], dict[str, str]]:
    """The bench's command line, as ``make bench`` runs it, and its environment."""
    py = sys.executable
    db = ["--database-url", url] if url else []
    env = dict(os.environ)
    if bench == "ingest":
        return [py, str(ROOT / "bench/ingest.py"), "--records", str(records), *db], env
    if bench == "worklist":
        return [py, str(ROOT / "bench/worklist.py"), "--cases", str(records), *db], env
    if bench == "export":
        return [py, str(ROOT / "bench/export.py"), "--cases", str(records), *db], env
    if bench == "sync":
        env["HUB_LOG_LEVEL"] = "warning"
        return [py, str(ROOT / "bench/sync.py"), "--days", "30", "--latency", "0.05", *db], env
    if bench == "import17":
        return [py, str(ROOT / "bench/import17.py")], env
    raise ValueError(f"unknown bench {bench!r} (use one of {', '.join(BENCHES)})")


def split_name(name: str) -> tuple[str, str]:
    """``first_ingest_vs_raw[sqlite]`` -> (``first_ingest_vs_raw``, ``sqlite``)."""
    m = re.match(r"^(.*)\[(.*)\]$", name)
    return (m[1], m[2]) if m else (name, "-")


def fmt(value: float) -> str:
    return (
        f"{value:.0f}" if value == int(value) and abs(value) >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")
    )


def table(targets: Sequence[Target], *, markdown: bool) -> str:
    rows = []
    for t in targets:
        base, where = split_name(t.name)
        runs = len(t.values)
        value = fmt(t.values[0]) if runs == 1 else f"{fmt(min(t.values))} / {fmt(t.median)}"
        rows.append((base, where, f"{t.op}{fmt(t.goal)}", str(runs), value, "PASS" if t.passed else "FAIL"))
    head = ("target", "database", "goal", "runs", "value (min / median)", "result (median)")
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|---|---|---|---:|---:|---|"]
        out += ["| " + " | ".join([f"`{r[0]}`", *r[1:]]) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each bench (3)")
    parser.add_argument("--records", type=int, default=200_000, help="ingest records and work-list cases")
    parser.add_argument(
        "--database-url", action="append", default=[], help="a PostgreSQL server (repeatable)"
    )
    parser.add_argument("--only", default=",".join(BENCHES), help="benches to run (comma-separated)")
    parser.add_argument("--once", default="", help="benches to run once whatever --runs says")
    parser.add_argument("--no-sqlite", action="store_true", help="only the --database-url databases")
    parser.add_argument("--log-dir", type=Path, help="keep each run's whole output here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--from-logs", type=Path, help="run nothing: the table of the runs kept in this --log-dir folder"
    )
    args = parser.parse_args(argv)
    if args.from_logs:
        found: dict[str, Target] = {}
        for log in sorted(args.from_logs.glob("*.log")):
            for name, value, op, goal, line in parse_targets(log.read_text()):
                t = found.setdefault(name, Target(name=name, op=op, goal=goal))
                t.values.append(value)
                t.lines.append(line)
        print(table(list(found.values()), markdown=args.markdown))
        return 0
    only = [b for b in args.only.split(",") if b]
    once = {b for b in args.once.split(",") if b}
    for b in [*only, *once]:
        if b not in BENCHES:
            parser.error(f"unknown bench {b!r} (use one of {', '.join(BENCHES)})")
    databases: list[str | None] = ([] if args.no_sqlite else [None]) + list(args.database_url)
    if not databases:
        parser.error("no database: drop --no-sqlite or give --database-url")
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    targets: dict[str, Target] = {}
    failures = 0
    for url in databases:
        label = "postgresql" if url else "sqlite"
        for bench in only:
            if bench == "import17" and url is not None:
                continue  # no database: once, with the SQLite pass
            runs = 1 if bench in once else args.runs
            for run in range(1, runs + 1):
                cmd, env = command(bench, url, args.records)
                started = time.monotonic()
                done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
                took = time.monotonic() - started
                load = os.getloadavg()[0]
                print(
                    f"# {bench} [{label}] run {run}/{runs}: exit {done.returncode}, {took:.0f} s, "
                    f"load average {load:.1f}",
                    flush=True,
                )
                if args.log_dir:
                    stamp = time.strftime("%H%M%S")
                    log = args.log_dir / f"{bench}-{label}-{stamp}-{run}.log"
                    log.write_text(done.stdout + ("\n--- stderr ---\n" + done.stderr if done.stderr else ""))
                found = parse_targets(done.stdout)
                if done.returncode != 0 or not found:
                    failures += 1
                    print(done.stderr[-2000:], file=sys.stderr, flush=True)
                    continue
                for name, value, op, goal, line in found:
                    t = targets.setdefault(name, Target(name=name, op=op, goal=goal))
                    t.values.append(value)
                    t.lines.append(line)
                    print(line, flush=True)
    print()
    print(table(list(targets.values()), markdown=args.markdown))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
