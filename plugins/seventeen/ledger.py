"""The ledger: what the merchant reported doing on 17网, one JSON line per step, append-only.

17网 has no API, so for hub this file *is* the platform's record of the manual steps (apply online,
waybill entered, receipt extended, 代发's answers). Entries are never rewritten: a correction is a
new entry. Each carries the action's idempotency key, so a step reported twice is recorded once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

LEDGER_NAME = "ledger.jsonl"


@dataclass(frozen=True)
class LedgerProblem:
    line: int
    message: str


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[list[dict[str, Any]], list[LedgerProblem]]:
        """All entries in order, and the lines that are not entries (a write cut short by a crash)."""
        if not self.path.exists():
            return [], []
        entries: list[dict[str, Any]] = []
        problems: list[LedgerProblem] = []
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    if (
                        not isinstance(entry, dict)
                        or not {"action", "resource", "external_id", "at"} <= entry.keys()
                    ):
                        raise ValueError("not a ledger entry")
                    datetime.fromisoformat(entry["at"])
                except ValueError as err:
                    problems.append(LedgerProblem(number, f"unreadable ledger line ({err}); ignored"))
                    continue
                entries.append(entry)
        return entries, problems

    def find(self, idempotency_key: str) -> dict[str, Any] | None:
        entries, _ = self.read()
        return next((e for e in entries if e.get("key") == idempotency_key), None)

    def append(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Write one entry durably (flushed and synced before returning) and return it with its seq."""
        entries, _ = self.read()
        record = {"seq": len(entries) + 1, **entry}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        return record
