"""The `hub` command facing hostile platform data and reused keys: terminal controls are shown,
never obeyed (JSON keeps the exact data), and a key reused with other parameters is exit 2."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from hub.terminal import UNSAFE, clean, json_text
from tests.hub.test_cli import hub
from tests.testplatform.server import TOKEN

HOSTILE_REASON = "破损\x1b[2J\x1b]0;owned\x07 \u202egnp.exe\x9b31m\r\x85end\x7f"
HOSTILE_BUYER = "buyer\x1b[31m\u2066red\u2069\x00"


def test_clean_and_json_text() -> None:
    assert clean(HOSTILE_REASON) == "破损[2J]0;owned gnp.exe31mend"
    assert clean("line one\n\ttabbed") == "line one\n\ttabbed"
    text = json_text({"r": HOSTILE_REASON}, ensure_ascii=False)
    assert not UNSAFE.search(text) and json.loads(text) == {"r": HOSTILE_REASON}


def test_terminal_output_is_cleaned_and_keys_are_checked(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    assert hub(tmp_path, "demo", "--no-serve", "--home", str(home)).returncode == 0
    db_file = home / "hub.db"
    db = f"sqlite+aiosqlite:///{db_file}"
    cases = json.loads(hub(tmp_path, "cases", "--json", "--status", "requested", db=db).stdout)
    case_id = cases[0]["id"]
    # what a platform sent, stored as given
    with sqlite3.connect(db_file) as conn:
        conn.execute(
            "UPDATE after_sales SET reason = ?, buyer = ?, platform_status = ? WHERE id = ?",
            (HOSTILE_REASON, HOSTILE_BUYER, "WAIT\x1b[2J", case_id),
        )
        # a raw record in which the platform echoed the shop's token
        ext = conn.execute("SELECT external_id FROM after_sales WHERE id = ?", (case_id,)).fetchone()[0]
        conn.execute(
            "UPDATE raw_records SET payload = json_set(payload, '$.echo', ?) WHERE external_id = ?",
            (f"signed with {TOKEN}", ext),
        )
    shown = hub(tmp_path, "case", "show", str(case_id), db=db)
    assert shown.returncode == 0, shown.stderr
    assert not UNSAFE.search(shown.stdout), repr(shown.stdout[:400])
    assert "破损[2J]0;owned gnp.exe31mend" in shown.stdout and "WAIT[2J" in shown.stdout
    listed = hub(tmp_path, "cases", "--status", "requested", db=db)
    assert listed.returncode == 0 and not UNSAFE.search(listed.stdout)
    # JSON: exact data, properly escaped (no raw control or bidi character in the text)
    raw = hub(tmp_path, "case", "show", str(case_id), "--json", db=db).stdout
    assert not UNSAFE.search(raw) and "\\u001b[2J" in raw and "\\u202e" in raw
    detail = json.loads(raw)
    assert detail["reason"] == HOSTILE_REASON and detail["buyer"] == HOSTILE_BUYER
    assert TOKEN not in raw and TOKEN not in shown.stdout and "signed with ***" in raw
    listed_json = json.loads(hub(tmp_path, "cases", "--json", "--status", "requested", db=db).stdout)
    assert next(c for c in listed_json if c["id"] == case_id)["reason"] == HOSTILE_REASON
    # a key reused for the same action with other parameters: exit 2, one clear line, nothing done
    first = hub(
        tmp_path, "case", "act", str(case_id), "note", "--param", "note=one", "--key", "cli-key-01", db=db
    )
    assert first.returncode == 0, first.stderr
    again = hub(
        tmp_path, "case", "act", str(case_id), "note", "--param", "note=one", "--key", "cli-key-01", db=db
    )
    assert again.returncode == 0 and "nothing sent" in again.stdout
    other = hub(
        tmp_path, "case", "act", str(case_id), "note", "--param", "note=two", "--key", "cli-key-01", db=db
    )
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert re.search(r"'cli-key-01' was already used for note .*\(note\): use a new key", other.stderr), (
        other.stderr
    )
    # the same key on another case is that case's own
    second = cases[1]["id"]
    elsewhere = hub(
        tmp_path, "case", "act", str(second), "note", "--param", "note=two", "--key", "cli-key-01", db=db
    )
    assert elsewhere.returncode == 0 and "nothing sent" not in elsewhere.stdout
    notes = [
        e["summary"]
        for e in json.loads(hub(tmp_path, "case", "show", str(case_id), "--json", db=db).stdout)["timeline"]
        if e["kind"] == "note"
    ]
    assert notes == ["one"]


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    import os
    import stat

    folder = tmp_path / "fresh" / "data"
    db_file = folder / "hub.db"
    res = hub(tmp_path, "db", "upgrade", db=f"sqlite+aiosqlite:///{db_file}")
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(os.stat(db_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # the write-ahead log and its index follow the database file
    with sqlite3.connect(db_file) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        for side in folder.glob("hub.db-*"):
            assert stat.S_IMODE(os.stat(side).st_mode) == 0o600, side


def test_a_bad_trusted_proxy_setting_is_one_clear_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.hub.test_cli import ROOT

    env = {
        **os.environ,
        "HUB_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
        "HUB_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal",
    }
    res = subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "HUB_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network" in res.stderr
