"""The `hub` command's conventions, through the command line: exit codes (0 done, 1 failed or
partial, 2 bad usage or input, 3 waiting for something), unknown names refused, help on every
option, logs never in the output (and quiet on a terminal), --limit checked, an old schema named,
impossible settings refused, the demo's port and store, the SPDX licence."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import pty
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.cli import build_parser, main
from hub.clicommon import EXIT_FAILED, EXIT_OK, EXIT_USAGE, EXIT_WAITING
from tests.testplatform.server import TOKEN, AcmeServer

from .workerkit import ROOT, hub_env

ACME_ONLY = {"HUB_PLUGINS": "tests.testplatform", "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen,jd"}


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in ACME_ONLY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HUB_LOG_LEVEL", raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


def hub(db: str, *args: str) -> int:
    return main(["--database", db, *args])


def test_exit_codes_done_failed_and_bad_input(cli_db: str, capsys: Any) -> None:
    assert hub(cli_db, "db", "upgrade") == EXIT_OK
    assert (
        hub(
            cli_db,
            "shop",
            "add",
            "acme",
            "a",
            "--set",
            "api_url=http://127.0.0.1:9/api",
            "--set",
            "token=env:NOPE_UNSET",
        )
        == EXIT_OK
    )
    capsys.readouterr()
    # the shop's secret is unset: the sync runs, that shop fails -> 1
    assert hub(cli_db, "sync", "--json") == EXIT_FAILED
    assert json.loads(capsys.readouterr().out)[0]["status"] == "failed"
    # bad input -> 2, one line naming what is wrong
    assert hub(cli_db, "case", "show", "999") == EXIT_USAGE
    assert "no case 999" in capsys.readouterr().err
    assert hub(cli_db, "cases", "--kind", "nope") == EXIT_USAGE
    assert hub(cli_db, "cases", "--bogus") == EXIT_USAGE


BAD = [
    (["cases", "--platform", "tmall"], "unknown platform tmall (known: acme)"),
    (["cases", "--shop", "shop-b,typo"], "unknown shop typo (known: shop-a, shop-b)"),
    (["sync", "--shop", "typo"], "unknown shop typo (known: shop-a, shop-b)"),
    (["cases", "--limit", "0"], "0 is out of range: give 1 to 100000"),
    (["cases", "--limit", "-3"], "-3 is out of range"),
    (["cases", "--limit", "ten"], "'ten' is not a whole number (1 to 100000)"),
    (["cases", "--limit", "100001"], "100001 is out of range"),
    (["demo", "--port", "70000"], "70000 is not a port number"),
]


def test_unknown_names_and_bad_limits_are_errors_not_empty_lists(cli_db: str, capsys: Any) -> None:
    assert hub(cli_db, "db", "upgrade") == 0
    for name in ("shop-a", "shop-b"):
        assert (
            hub(
                cli_db,
                "shop",
                "add",
                "acme",
                name,
                "--set",
                "api_url=http://127.0.0.1:9/api",
                "--set",
                "token=t",
            )
            == 0
        )
    capsys.readouterr()
    for args, needle in BAD:
        assert hub(cli_db, *args) == EXIT_USAGE, args
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, (args, err)
    assert hub(cli_db, "cases", "--shop", "shop-a", "--platform", "acme", "--limit", "5") == EXIT_OK
    assert capsys.readouterr().out.strip() == "no cases"  # the known ones work


def test_an_unmigrated_or_older_database_says_run_db_upgrade(cli_db: str, capsys: Any) -> None:
    assert hub(cli_db, "cases") == EXIT_USAGE
    assert "the database is empty (no schema yet), this hub needs revision" in capsys.readouterr().err
    assert hub(cli_db, "db", "upgrade", "0008") == 0
    capsys.readouterr()
    for args in (["notify", "list"], ["shop", "list"], ["cases"]):
        code = hub(cli_db, *args)
        err = capsys.readouterr().err
        if code != 0:  # a command whose tables the old schema has works; the others say so
            assert code == EXIT_USAGE and "at revision 0008" in err and "run `hub db upgrade`" in err, err
    assert hub(cli_db, "notify", "list") == EXIT_USAGE


def test_impossible_settings_are_refused_at_shop_add_and_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "jd")
    monkeypatch.delenv("HUB_PLUGINS", raising=False)
    db = f"sqlite:///{tmp_path / 'real.db'}"
    assert hub(db, "db", "upgrade") == 0
    tb = ["--set", "app_key=1", "--set", "app_secret=env:TB", "--set", "session=env:TS"]
    assert hub(db, "shop", "add", "taobao", "t", *tb, "--set", "sync_window=2d") == EXIT_USAGE
    assert "sync_window='2d' must be at most 1d" in capsys.readouterr().err
    assert hub(db, "shop", "add", "taobao", "t", *tb, "--set", "sync_window=1d") == 0
    assert hub(db, "shop", "set", "t", "--set", "sync_window=25h") == EXIT_USAGE
    assert "must be at most 1d" in capsys.readouterr().err
    missing = tmp_path / "no-such-folder"
    assert hub(db, "shop", "add", "seventeen", "s", "--set", f"import_dir={missing}") == EXIT_USAGE
    assert f"import_dir='{missing}' does not exist" in capsys.readouterr().err
    missing.mkdir()
    assert hub(db, "shop", "add", "seventeen", "s", "--set", f"import_dir={missing}") == 0


def _actions(parser: argparse.ArgumentParser, path: str) -> Any:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_has_help_with_allowed_values_or_an_example(cli_db: str) -> None:
    missing = []
    for path, action in _actions(build_parser(), "hub"):
        name = f"{path} {'/'.join(action.option_strings) or action.dest}"
        text = action.help or ""
        if not text or text == argparse.SUPPRESS:
            missing.append(f"{name}: no help")
        elif action.nargs != 0 and not action.choices and "e.g." not in text:
            missing.append(f"{name}: no example")  # choices are listed by argparse itself
    assert missing == []


def test_exit_code_3_when_an_action_waits_for_a_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A platform asks for a verification code: the action is not done, the exit code says so."""
    from hub.platform import ActionOutcome, ActionResult
    from tests.testplatform import adapter as acme

    async def needs_code(self: Any, request: Any) -> ActionResult:
        return ActionResult(outcome=ActionOutcome.NEEDS_VERIFICATION, message="needs a verification code")

    async def sync(db: str) -> None:
        server = AcmeServer()
        server.populate(n_cases=12, days=2)
        url = await server.serve()
        try:
            assert (
                await asyncio.to_thread(
                    hub,
                    db,
                    "shop",
                    "add",
                    "acme",
                    "a",
                    "--set",
                    f"api_url={url}/api",
                    "--set",
                    f"token={TOKEN}",
                )
                == 0
            )
            since = (server.clock.now() - timedelta(days=3)).isoformat()
            assert await asyncio.to_thread(hub, db, "sync", "--since", since) == 0
        finally:
            await server.stop()

    for key, value in ACME_ONLY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    assert hub(db, "db", "upgrade") == 0
    asyncio.run(sync(db))
    capsys.readouterr()
    assert hub(db, "cases", "--status", "requested", "--json", "--limit", "1") == 0
    case_id = json.loads(capsys.readouterr().out)[0]["id"]
    monkeypatch.setattr(acme.AcmeAdapter, "perform", needs_code)
    assert hub(db, "case", "act", str(case_id), "agree_refund") == EXIT_WAITING
    assert "needs_verification" in capsys.readouterr().out


async def test_logs_go_to_stderr_and_are_quiet_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = AcmeServer()
    server.populate(n_cases=8, days=1)
    url = await server.serve()
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = hub_env(db, tmp_path / "home")
    env.pop("HUB_LOG_LEVEL")

    async def run(*args: str, tty: bool = False) -> tuple[int, str, str]:
        """Run hub; with ``tty`` its stderr is a terminal (a pty read as it writes, so a full
        buffer never stalls it)."""
        if not tty:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hub", *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            out, err = await proc.communicate()
            return proc.returncode or 0, out.decode(), err.decode()
        master, slave = pty.openpty()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", *args, env=env, stdout=subprocess.PIPE, stderr=slave
        )
        os.close(slave)

        def drain() -> bytes:
            chunks = []
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)

        reading = asyncio.create_task(asyncio.to_thread(drain))
        out, _ = await proc.communicate()
        err = await reading
        os.close(master)
        return proc.returncode or 0, out.decode(), err.decode(errors="replace")

    for key in ("HUB_HOME", *ACME_ONLY):
        monkeypatch.setenv(key, env[key])
    try:
        # set-up in this process (quicker); the syncs below run as the user runs them
        assert await asyncio.to_thread(hub, db, "db", "upgrade") == 0
        shop = ("shop", "add", "acme", "a", "--set", f"api_url={url}/api", "--set", f"token={TOKEN}")
        assert await asyncio.to_thread(hub, db, *shop) == 0
        since = (server.clock.now() - timedelta(days=2)).isoformat()
        monkeypatch.setenv("HUB_LOG_FORMAT", "json")
        out_io, err_io = io.StringIO(), io.StringIO()  # not terminals: info lines, as a service logs
        with contextlib.redirect_stdout(out_io), contextlib.redirect_stderr(err_io):
            code = await asyncio.to_thread(hub, db, "sync", "--json", "--since", since)
        out, err = out_io.getvalue(), err_io.getvalue()
        assert code == 0
        assert json.loads(out)[0]["status"] == "ok"  # stdout is the summary alone
        assert '"event": "sync_started"' in err  # info logs on stderr (JSON away from a terminal)
        code, out, err = await run("sync", "--json", tty=True)
        assert code == 0 and json.loads(out)[0]["status"] == "ok"
        assert "sync_started" not in err and "sync_finished" not in err  # quiet on a terminal
        code, out, err = await run("-v", "sync", "--json", tty=True)
        assert code == 0 and "sync_started" in err  # -v brings them back
    finally:
        await server.stop()


def test_make_demo_port_and_the_readme_on_the_demo_store() -> None:
    dry = subprocess.run(["make", "-n", "demo", "PORT=8090"], cwd=ROOT, capture_output=True, text=True)
    assert "hub demo --port 8090" in dry.stdout
    readme = (ROOT / "README.md").read_text()
    assert "make demo PORT=" in readme and "HUB_DATABASE_URL=sqlite:///" in readme
    assert "docs/cli.md" in readme


def test_licence_is_an_spdx_string() -> None:
    """setuptools deprecates the table form (and licence classifiers): a string says it once."""
    for path in (ROOT / "pyproject.toml", ROOT / "plugins" / "jd" / "pyproject.toml"):
        project = tomllib.loads(path.read_text())["project"]
        assert project["license"] == "Apache-2.0", path
        assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


def test_cli_doc_covers_exit_codes_and_commands() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    for code, meaning in ((0, "done"), (1, "failed"), (2, "bad usage"), (3, "waits")):
        assert f"| {code} |" in doc and meaning in doc
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    undocumented = [name for name in sub.choices if f"hub {name}" not in doc]
    assert undocumented == []
