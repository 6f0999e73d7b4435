"""Everything the import folder and the ledger say now, as raw records.

Each sync reads every export file in the folder (a snapshot resource: no time windows). One order
or return may appear in several exports (last week's and this month's download): the version with
the latest time wins, so re-importing old files changes nothing. A record's ``updated_at`` is the
latest time its own rows carry (order, payment, shipment, completion, 更新时间) or its ledger entries
were recorded at: an unchanged file yields the same ``updated_at``, which the core's newer-wins
upsert ignores.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
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
    """An export's normalised Beijing time string (``YYYY-MM-DD HH:MM:SS``) as an aware time."""
    return datetime.fromisoformat(value).replace(tzinfo=CST)


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


def read_folder(
    folder: Path, settings: Mapping[str, str], tick: Callable[[], None] | None = None
) -> tuple[list[ImportedFile], list[FetchProblem]]:
    """Every export in ``folder``; a malformed one becomes a problem and none of its rows is used.
    ``tick``: called for every row read (the lease's :class:`~.importer.KeepAlive`)."""
    files: list[ImportedFile] = []
    problems: list[FetchProblem] = []
    for path in export_files(folder):
        try:
            files.append(read_export(path, settings, tick))
        except ImportFileError as err:
            problems.append(FetchProblem(source=path.name, message=str(err)))
        except OSError as err:  # removed or replaced while we read: the next sync reads it again
            problems.append(FetchProblem(source=path.name, message=f"{path}: could not be read: {err}"))
    return files, problems


@dataclass
class _Index:
    """Which version of each order and return wins, without their rows (the first pass)."""

    #: order id -> (its latest time, file name, file index, the line of its last row there)
    orders: dict[str, tuple[datetime, str, int, int]] = field(default_factory=dict)
    #: return id -> (its time, file name, line, file index, the order id its row names)
    returns: dict[str, tuple[datetime, str, int, int, str]] = field(default_factory=dict)
    #: (resource, external id) -> its ledger entries
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


def _latest(values: Mapping[str, str], fields: Sequence[str]) -> datetime | None:
    times = [row_time(values[f]) for f in fields if values.get(f)]
    return max(times) if times else None


def _index(files: Sequence[ImportedFile], ledger: Sequence[Mapping[str, Any]]) -> _Index:
    index = _Index()
    for entry in ledger:
        index.by_target.setdefault((entry["resource"], entry["external_id"]), []).append(dict(entry))
    for at_file, imported in enumerate(files):
        name = Path(imported.path).name
        if imported.kind is FileKind.PURCHASE:
            # per order in this file: the latest time of its rows and the line of its last row
            here: dict[str, list[Any]] = {}
            for row in imported.rows:
                oid = row.values["order_id"]
                at = _latest(row.values, ORDER_TIME_FIELDS)
                held_here = here.get(oid)
                if held_here is None:
                    here[oid] = [at, row.line]
                else:
                    if at is not None and (held_here[0] is None or at > held_here[0]):
                        held_here[0] = at
                    held_here[1] = row.line
            for oid, (at, last) in here.items():
                assert at is not None  # 下单时间 is a required column and rows carry it
                held = index.orders.get(oid)
                if held is None or (at, name) >= (held[0], held[1]):
                    index.orders[oid] = (at, name, at_file, last)
        else:
            for row in imported.rows:
                at = _latest(row.values, RETURN_TIME_FIELDS)
                assert at is not None
                rid = row.values["return_id"]
                held_r = index.returns.get(rid)
                if held_r is None or (at, name, row.line) >= (held_r[0], held_r[1], held_r[2]):
                    index.returns[rid] = (at, name, row.line, at_file, str(row.values.get("order_id") or ""))
    return index


def _purchases(
    files: Sequence[ImportedFile], index: _Index, only: Collection[str] | None = None
) -> Iterator[RawRecord]:
    """One raw record per order (of ``only``), read again from the files: an order's rows are
    held only from its first to its last row in the file whose version wins."""
    for at_file, imported in enumerate(files):
        if imported.kind is not FileKind.PURCHASE:
            continue
        pending: dict[str, list[ImportedRow]] = {}
        for row in imported.rows:
            oid = row.values["order_id"]
            if only is not None and oid not in only:
                continue
            at, name, winner, last = index.orders[oid]
            if winner != at_file:
                continue
            pending.setdefault(oid, []).append(row)
            if row.line == last:
                yield _purchase(oid, at, name, pending.pop(oid), index)


def _purchase(oid: str, at: datetime, name: str, rows: Sequence[ImportedRow], index: _Index) -> RawRecord:
    entries = index.by_target.get((PURCHASE, oid), [])
    updated = max([at, *(datetime.fromisoformat(e["at"]) for e in entries)])
    payload: dict[str, Any] = {
        "order_id": oid,
        "rows": [dict(r.values) for r in rows],
        "source": {"file": name, "lines": [r.line for r in rows]},
        "export_updated_at": at.isoformat(),
        "ledger": entries,
    }
    return RawRecord(resource=PURCHASE, external_id=oid, payload=payload, updated_at=updated.astimezone(UTC))


def _returns(
    files: Sequence[ImportedFile], index: _Index, only: Collection[str] | None = None
) -> Iterator[RawRecord]:
    """One raw record per return (of ``only``): those of the exports in file order, then those
    only the ledger knows, by id. A return embeds its order's record: only the orders returns
    name are read (again) and held."""
    ledger_ids = {eid for (res, eid) in index.by_target if res == PURCHASE_RETURN}
    wanted = set(index.returns) | ledger_ids
    if only is not None:
        wanted &= set(only)
    order_of: dict[str, str] = {}
    for rid in wanted:
        entries = index.by_target.get((PURCHASE_RETURN, rid), [])
        from_ledger = next((str(e["order_id"]) for e in entries if e.get("order_id")), "")
        held = index.returns.get(rid)
        order_of[rid] = (held[4] if held else "") or from_ledger
    needed = {oid for oid in order_of.values() if oid}
    orders = {r.external_id: r for r in _purchases(files, index, only=needed)} if needed else {}
    for at_file, imported in enumerate(files):
        if imported.kind is not FileKind.RETURN:
            continue
        for row in imported.rows:
            rid = row.values["return_id"]
            held = index.returns[rid]
            if rid in wanted and held[3] == at_file and held[2] == row.line:
                yield _return(rid, order_of[rid], (held[0], held[1], held[2], row), orders, index)
    for rid in sorted(wanted - set(index.returns)):
        yield _return(rid, order_of[rid], None, orders, index)


def _return(
    rid: str,
    order_id: str,
    version: tuple[datetime, str, int, ImportedRow] | None,
    orders: Mapping[str, RawRecord],
    index: _Index,
) -> RawRecord:
    entries = index.by_target.get((PURCHASE_RETURN, rid), [])
    export_row = dict(version[3].values) if version else None
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    if version:
        times.append(version[0])
    order = orders.get(order_id) if order_id else None
    if order is not None and order.updated_at is not None:
        times.append(order.updated_at)
    payload = {
        "return_id": rid,
        "order_id": order_id,
        "row": export_row,
        "source": {"file": version[1], "line": version[2]} if version else None,
        "export_updated_at": version[0].isoformat() if version else None,
        "ledger": entries,
        "order": order.payload if order is not None else None,
    }
    return RawRecord(
        resource=PURCHASE_RETURN, external_id=rid, payload=payload, updated_at=max(times).astimezone(UTC)
    )


def stream(
    files: Sequence[ImportedFile],
    ledger: Sequence[Mapping[str, Any]],
    resource: str,
    only: Collection[str] | None = None,
) -> Iterator[RawRecord]:
    """The raw records of ``resource`` (of the ids in ``only``), one at a time: a first pass over
    the rows finds which version of each record wins, and the rows are read again as the records
    are built. Memory holds the index (ids and times), not the payloads: a 50 MB export no
    longer makes a snapshot of 750 MB."""
    index = _index(files, ledger)
    if resource == PURCHASE:
        return _purchases(files, index, only)
    return _returns(files, index, only)


def build(files: Sequence[ImportedFile], ledger: Sequence[Mapping[str, Any]]) -> Snapshot:
    """Merge the exports and the ledger into one raw record per order and per return, in memory
    (actions and tests; a sync streams, see :func:`stream`)."""
    snap = Snapshot(ledger=[dict(e) for e in ledger])
    snap.purchases = {r.external_id: r for r in stream(files, ledger, PURCHASE)}
    snap.returns = {r.external_id: r for r in sorted(stream(files, ledger, PURCHASE_RETURN), key=_by_id)}
    return snap


def _by_id(record: RawRecord) -> str:
    return record.external_id


def load(folder: Path, ledger: Ledger, settings: Mapping[str, str]) -> Snapshot:
    """Everything in memory (an action's look-ups); a sync streams with :func:`open_stream`."""
    files, problems = read_folder(folder, settings)
    entries, ledger_problems = ledger.read()
    snap = build(files, entries)
    snap.problems = problems + _ledger_problems(ledger, ledger_problems)
    return snap


def _ledger_problems(ledger: Ledger, problems: Sequence[Any]) -> list[FetchProblem]:
    return [FetchProblem(source=f"{ledger.path.name}:{p.line}", message=p.message) for p in problems]


def open_stream(
    folder: Path,
    ledger: Ledger,
    settings: Mapping[str, str],
    resource: str,
    only: Collection[str] | None = None,
    tick: Callable[[], None] | None = None,
) -> tuple[Iterator[RawRecord], list[FetchProblem]]:
    """The records of ``resource`` in ``folder`` streamed (see :func:`stream`), and the problems
    (malformed files, ledger lines). The index pass runs here; the records are read as iterated."""
    files, problems = read_folder(folder, settings, tick)
    entries, ledger_problems = ledger.read()
    records = stream(files, entries, resource, only)
    return records, problems + _ledger_problems(ledger, ledger_problems)
