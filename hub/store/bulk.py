"""The bulk write path of a sync: driver-level executemany with values converted once, by column.

``upsert_batch`` writes thousands of rows per window. Through SQLAlchemy Core every value of every
row goes through its type's bind processor (``UTCDateTime.process_bind_param``, SQLite's DATETIME
formatter, the JSON serialiser), which costs more than the database's own work. Here each table's
INSERT/UPDATE text is built once per dialect and the values are converted by a per-column function
chosen once: datetimes to what the driver stores (naive UTC text on SQLite, aware on asyncpg), JSON
documents serialised once (or passed through when the caller already holds their text, see
:class:`JSONText`), booleans as SQLite stores them. The stored values are exactly what SQLAlchemy
would store, so every reader (ORM, Core, the work list) reads them back unchanged.

Look-ups are plan-proof on PostgreSQL: ``JOIN unnest($1::text[])`` probes the unique index once per
id whatever the planner knows about the table (an ``IN (...)`` list on a never-analysed table was
filtered row by row, so ingest got slower as the table grew). After a bulk window has inserted many
rows into a table, it is ANALYZEd in the same transaction, so later queries plan on real numbers.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import orjson
from sqlalchemy import JSON, Boolean, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from .base import UTCDateTime
from .serialize import JSONText, jsonable

CHUNK = 500  #: ids per SQLite look-up: well under its variable limit
#: ANALYZE a PostgreSQL table once this many rows were inserted since the last ANALYZE (and at
#: least as many as it had then): a logarithmic number of ANALYZEs while a table grows
ANALYZE_AFTER = 10_000


P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run the coroutine function with the cyclic garbage collector paused (as it was after).

    A batch allocates tens of thousands of short-lived dicts, tuples and dataclasses, none of
    them in reference cycles (they are freed by reference counting); the collector still scans
    them every 700 allocations, a sixth of the CPU time of a write. Pausing it for one bounded
    batch defers, not loses, any cycle made meanwhile. Concurrent batches nest: the collector
    is enabled again by the batch that found it enabled."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return await fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


def _sqlite_dt(value: datetime | None) -> str | None:
    # what UTCDateTime + SQLite's DATETIME store: naive UTC, microseconds always written
    if value is None:
        return None
    if value.tzinfo is UTC:  # the common case: mappers hand over UTC already
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to a UTC column")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _pg_dt(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to a UTC column")
    return value


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is JSONText:
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson refuses (huge ints, non-string keys): the json module's way
        return json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":"), default=str)


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _converter(table: Table, column: str, dialect: str) -> Callable[[Any], Any] | None:
    col_type = table.c[column].type
    impl = getattr(col_type, "impl", col_type)
    if isinstance(col_type, UTCDateTime):
        return _sqlite_dt if dialect == "sqlite" else _pg_dt
    if isinstance(impl, JSON) or isinstance(col_type, JSON):
        return _json
    if isinstance(impl, Boolean) and dialect == "sqlite":
        return _sqlite_bool
    return None


class Statement:
    """One table's INSERT (or UPDATE by id) for a fixed column list, with its value converters."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: str, *, update: bool = False):
        self.columns = tuple(columns)
        mark = (lambda i: "?") if dialect == "sqlite" else (lambda i: f"${i}")
        if update:
            sets = ", ".join(f"{c} = {mark(i + 1)}" for i, c in enumerate(self.columns))
            self.sql = f"UPDATE {table.name} SET {sets} WHERE id = {mark(len(self.columns) + 1)}"
        else:
            names = ", ".join(self.columns)
            marks = ", ".join(mark(i + 1) for i in range(len(self.columns)))
            self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
        self.converters = tuple(_converter(table, c, dialect) for c in self.columns)
        self._builders: dict[str | None, Callable[..., list[tuple[Any, ...]]]] = {}

    def params(self, rows: Sequence[Mapping[str, Any]], extra: str | None = None) -> list[tuple[Any, ...]]:
        """The driver's parameter tuples of ``rows``, each value converted for its column."""
        build = self._builders.get(extra)
        if build is None:
            build = self._builders[extra] = _builder(self.columns, self.converters, extra)
        # A record's times recur across its rows (updated_at in the raw row, the case and its
        # events; the no-deadline sort key in most cases): each distinct value is converted once.
        if len(_dt_texts) > 50_000:
            _dt_texts.clear()
        return build(rows, _dt_texts)


def _new_dt_text(value: datetime, seen: dict[datetime, str]) -> str:
    text = seen[value] = _sqlite_dt(value) or ""
    return text


def _builder(
    columns: Sequence[str], converters: Sequence[Callable[[Any], Any] | None], extra: str | None
) -> Callable[[Sequence[Mapping[str, Any]], dict[datetime, str]], list[tuple[Any, ...]]]:
    """A function that turns rows into parameter tuples in one comprehension, written out for
    this column list: no per-value loop or branch on the converter (that loop cost as much as
    the driver's own work for a 35-column case row)."""
    scope: dict[str, Any] = {"_new": _new_dt_text}
    parts: list[str] = []
    for i, (name, convert) in enumerate(
        [*zip(columns, converters, strict=True), *([(extra, None)] if extra else [])]
    ):
        key = repr(name)
        if convert is None:
            parts.append(f"r[{key}]")
        elif convert is _sqlite_dt:
            parts.append(f"(None if (v{i} := r[{key}]) is None else (seen.get(v{i}) or _new(v{i}, seen)))")
        else:
            scope[f"c{i}"] = convert
            parts.append(f"(None if (v{i} := r[{key}]) is None else c{i}(v{i}))")
    source = f"def build(rows, seen):\n    return [({', '.join(parts)},) for r in rows]\n"
    exec(compile(source, f"<bulk params {', '.join(columns)}>", "exec"), scope)
    return scope["build"]  # type: ignore[no-any-return]


#: datetime -> its SQLite text, shared by the tables of a batch (and cleared when it grows)
_dt_texts: dict[datetime, str] = {}
_statements: dict[tuple[str, str, tuple[str, ...], bool], Statement] = {}
_inserted_since_analyze: dict[tuple[str, str], int] = {}
_rows_at_analyze: dict[tuple[str, str], int] = {}


def _statement(table: Table, columns: Sequence[str], dialect: str, update: bool) -> Statement:
    key = (table.name, dialect, tuple(columns), update)
    stmt = _statements.get(key)
    if stmt is None:
        stmt = _statements[key] = Statement(table, columns, dialect, update=update)
    return stmt


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) in one executemany, values converted by column."""
    if not rows:
        return
    dialect = conn.dialect.name
    stmt = _statement(table, list(rows[0]), dialect, False)
    await conn.exec_driver_sql(stmt.sql, stmt.params(rows))  # type: ignore[arg-type]
    if dialect == "postgresql":
        await _maybe_analyze(conn, table, len(rows))


async def update_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    skip: Sequence[str] = ("shop_id", "external_id", "resource"),
) -> None:
    """UPDATE ... WHERE id = ``row["_id"]`` for many rows at once (every row has the same keys)."""
    if not rows:
        return
    cols = [k for k in rows[0] if k != "_id" and k not in skip]
    stmt = _statement(table, cols, conn.dialect.name, True)
    await conn.exec_driver_sql(stmt.sql, stmt.params(rows, extra="_id"))  # type: ignore[arg-type]


class StoredRow(Mapping[str, Any]):
    """A looked-up row as the driver returned it; datetimes are converted when read.

    Most looked-up rows are only compared by hash (an unchanged re-sync reads nothing else), so
    the per-value datetime parsing SQLAlchemy's result processing would do is skipped."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, tuple[int, bool]], values: Sequence[Any]):
        self._index = index
        self._values = values

    def __getitem__(self, key: str) -> Any:
        i, is_dt = self._index[key]
        value = self._values[i]
        if is_dt and value is not None:
            if isinstance(value, str):  # SQLite: naive UTC text
                return datetime.fromisoformat(value).replace(tzinfo=UTC)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


async def existing(
    conn: AsyncConnection,
    table: Table,
    cols: Sequence[str],
    shop_id: int,
    ids: Sequence[str],
    resource: str | None = None,
) -> dict[str, Any]:
    """The stored ``cols`` of the rows of ``shop_id`` (and ``resource``) among ``ids``, by external id.

    SQLite: ``IN (...)`` in chunks (its planner always uses the unique index). PostgreSQL: one
    ``JOIN unnest($1::text[])``, which probes the unique index per id with or without statistics
    (one array parameter, not an IN list: the statement text, so the prepared statement, is the
    same for any number of ids)."""
    if not ids:
        return {}
    if "external_id" not in cols:
        cols = (*cols, "external_id")
    index = {c: (i, isinstance(table.c[c].type, UTCDateTime)) for i, c in enumerate(cols)}
    key = cols.index("external_id")
    names = ", ".join(f"t.{c}" for c in cols)
    found: dict[str, Any] = {}
    if conn.dialect.name == "postgresql":
        sql = (
            f"SELECT {names} FROM {table.name} t JOIN unnest($1::text[]) AS wanted(external_id) "
            "ON t.external_id = wanted.external_id WHERE t.shop_id = $2"
        )
        params: tuple[Any, ...] = (list(ids), shop_id)
        if resource is not None:
            sql += " AND t.resource = $3"
            params += (resource,)
        for values in await conn.exec_driver_sql(sql, params):
            found[values[key]] = StoredRow(index, values)
        return found
    for i in range(0, len(ids), CHUNK):
        part = list(ids[i : i + CHUNK])
        sql = f"SELECT {names} FROM {table.name} t WHERE t.shop_id = ?"
        params = (shop_id,)
        if resource is not None:
            sql += " AND t.resource = ?"
            params += (resource,)
        sql += f" AND t.external_id IN ({', '.join('?' * len(part))})"
        for values in await conn.exec_driver_sql(sql, (*params, *part)):
            found[values[key]] = StoredRow(index, values)
    return found


async def _maybe_analyze(conn: AsyncConnection, table: Table, inserted: int) -> None:
    key = (str(conn.engine.url.database), table.name)
    since = _inserted_since_analyze.get(key, 0) + inserted
    if since < max(ANALYZE_AFTER, _rows_at_analyze.get(key, 0)):
        _inserted_since_analyze[key] = since
        return
    await conn.exec_driver_sql(f"ANALYZE {table.name}")
    _rows_at_analyze[key] = _rows_at_analyze.get(key, 0) + since
    _inserted_since_analyze[key] = 0
