"""Everything the import folder and the ledger say now, as raw records.

Each sync reads every export file in the folder (a snapshot resource: no time windows). One order
or return may appear in several exports (last week's and this month's download): the version with
the latest time wins, so re-importing old files changes nothing. A record's ``updated_at`` is the
latest time its own rows carry (order, payment, shipment, completion, 更新时间) or its ledger entries
were recorded at: an unchanged file yields the same ``updated_at``, which the core's newer-wins
upsert ignores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.clock import CST
from hub.domain import RawRecord
from hub.errors import ImportFileError
from hub.platform import FetchProblem

from .columns import FileKind
from .importer import ImportedFile, ImportedRow, export_files, read_export
from .ledger import Ledger

PURCHASE = "purchase"
PURCHASE_RETURN = "purchase_return"

ORDER_TIME_FIELDS = ("created_at", "paid_at", "shipped_at", "completed_at", "updated_at")
RETURN_TIME_FIELDS = ("applied_at", "daifa_signed_at", "completed_at", "updated_at")


def row_time(value: str) -> datetime:
    """An export's normalised Beijing time string as aware UTC."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).astimezone(CST)


def latest(rows: Iterable[Mapping[str, str]], fields: Sequence[str]) -> datetime | None:
    times = [row_time(r[f]) for r in rows for f in fields if r.get(f)]
    return max(times) if times else None


@dataclass
class Snapshot:
    purchases: dict[str, RawRecord] = field(default_factory=dict)
    returns: dict[str, RawRecord] = field(default_factory=dict)
    problems: list[FetchProblem] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def records(self, resource: str) -> dict[str, RawRecord]:
        return self.purchases if resource == PURCHASE else self.returns


def read_folder(folder: Path, settings: Mapping[str, str]) -> tuple[list[ImportedFile], list[FetchProblem]]:
    """Every export in ``folder``; a malformed one becomes a problem and none of its rows is used."""
    files: list[ImportedFile] = []
    problems: list[FetchProblem] = []
    for path in export_files(folder):
        try:
            files.append(read_export(path, settings))
        except ImportFileError as err:
            problems.append(FetchProblem(source=path.name, message=str(err)))
        except OSError as err:  # removed or replaced while we read: the next sync reads it again
            problems.append(FetchProblem(source=path.name, message=f"{path}: could not be read: {err}"))
    return files, problems


def build(files: Sequence[ImportedFile], ledger: Sequence[Mapping[str, Any]]) -> Snapshot:
    """Merge the exports and the ledger into one raw record per order and per return."""
    snap = Snapshot(ledger=[dict(e) for e in ledger])
    order_versions: dict[str, tuple[datetime, str, list[ImportedRow]]] = {}
    return_versions: dict[str, tuple[datetime, str, int, ImportedRow]] = {}
    for imported in files:
        name = Path(imported.path).name
        if imported.kind is FileKind.PURCHASE:
            grouped: dict[str, list[ImportedRow]] = {}
            for row in imported.rows:
                grouped.setdefault(row.values["order_id"], []).append(row)
            for order_id, rows in grouped.items():
                at = latest((r.values for r in rows), ORDER_TIME_FIELDS)
                assert at is not None  # 下单时间 is a required column and rows carry it
                key = (at, name)
                held = order_versions.get(order_id)
                if held is None or key >= (held[0], held[1]):
                    order_versions[order_id] = (at, name, rows)
        else:
            for row in imported.rows:
                at = latest([row.values], RETURN_TIME_FIELDS)
                assert at is not None
                rid = row.values["return_id"]
                rkey = (at, name, row.line)
                held_r = return_versions.get(rid)
                if held_r is None or rkey >= (held_r[0], held_r[1], held_r[2]):
                    return_versions[rid] = (at, name, row.line, row)

    by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in snap.ledger:
        by_target.setdefault((entry["resource"], entry["external_id"]), []).append(entry)

    order_payloads: dict[str, tuple[dict[str, Any], datetime]] = {}
    for oid, (at, name, rows) in order_versions.items():
        entries = by_target.get((PURCHASE, oid), [])
        updated = max([at, *(datetime.fromisoformat(e["at"]) for e in entries)])
        payload: dict[str, Any] = {
            "order_id": oid,
            "rows": [dict(r.values) for r in rows],
            "source": {"file": name, "lines": [r.line for r in rows]},
            "export_updated_at": at.isoformat(),
            "ledger": entries,
        }
        order_payloads[oid] = (payload, updated)
        snap.purchases[oid] = RawRecord(
            resource=PURCHASE, external_id=oid, payload=payload, updated_at=updated.astimezone(UTC)
        )

    return_ids = set(return_versions) | {eid for (res, eid) in by_target if res == PURCHASE_RETURN}
    for rid in sorted(return_ids):
        entries = by_target.get((PURCHASE_RETURN, rid), [])
        version = return_versions.get(rid)
        export_row = dict(version[3].values) if version else None
        from_ledger = next((str(e["order_id"]) for e in entries if e.get("order_id")), "")
        order_id = str((export_row or {}).get("order_id") or from_ledger)
        times = [datetime.fromisoformat(e["at"]) for e in entries]
        if version:
            times.append(version[0])
        order = order_payloads.get(order_id) if order_id else None
        if order:
            times.append(order[1])
        payload = {
            "return_id": rid,
            "order_id": order_id,
            "row": export_row,
            "source": {"file": version[1], "line": version[2]} if version else None,
            "export_updated_at": version[0].isoformat() if version else None,
            "ledger": entries,
            "order": order[0] if order else None,
        }
        snap.returns[rid] = RawRecord(
            resource=PURCHASE_RETURN, external_id=rid, payload=payload, updated_at=max(times).astimezone(UTC)
        )
    return snap


def load(folder: Path, ledger: Ledger, settings: Mapping[str, str]) -> Snapshot:
    files, problems = read_folder(folder, settings)
    entries, ledger_problems = ledger.read()
    snap = build(files, entries)
    snap.problems = problems + [
        FetchProblem(source=f"{ledger.path.name}:{p.line}", message=p.message) for p in ledger_problems
    ]
    return snap
