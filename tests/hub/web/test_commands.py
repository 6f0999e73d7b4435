"""``hub user add|list``, ``hub token create`` and ``hub serve`` through the real CLI entry point."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hub.cli import main
from hub.store.engine import create_engine
from hub.web.auth import principal_for_token

ENV = {"HUB_PLUGINS": "tests.testplatform", "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen,jd"}


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database", url, "db", "upgrade"]) == 0
    assert (
        main(
            [
                "--database",
                url,
                "shop",
                "add",
                "acme",
                "shop-a",
                "--set",
                "api_url=http://127.0.0.1:9/api",
                "--set",
                "token=t0ken",
            ]
        )
        == 0
    )
    return url


def run(url: str, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--database", url, *args])


def test_user_add_list_and_token_create(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cret-password-1"
    assert (
        run(
            cli_db,
            "user",
            "add",
            "alice",
            "--role",
            "agent",
            "--shops",
            "shop-a",
            "--password-stdin",
            stdin=secret + "\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert (
        run(
            cli_db,
            "user",
            "add",
            "root",
            "--role",
            "admin",
            "--password-stdin",
            stdin=secret + "\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    capsys.readouterr()
    # bad input: one clear line, non-zero exit, the password never echoed
    assert (
        run(
            cli_db,
            "user",
            "add",
            "alice",
            "--role",
            "agent",
            "--shops",
            "shop-a",
            "--password-stdin",
            stdin=secret + "\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert (
        run(
            cli_db,
            "user",
            "add",
            "carol",
            "--role",
            "agent",
            "--shops",
            "nope",
            "--password-stdin",
            stdin=secret + "\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert (
        run(
            cli_db,
            "user",
            "add",
            "dave",
            "--role",
            "agent",
            "--password-stdin",
            stdin=secret + "\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert (
        run(
            cli_db,
            "user",
            "add",
            "erin",
            "--role",
            "viewer",
            "--shops",
            "shop-a",
            "--password-stdin",
            stdin="short\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    out = capsys.readouterr()
    errors = out.err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("hub: error: ") for line in errors)
    assert "already exists" in errors[0] and "no shop named nope" in errors[1] and "--shops" in errors[2]
    assert "at least 8" in errors[3] and secret not in out.err + out.out
    assert run(cli_db, "user", "list", monkeypatch=monkeypatch) == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "shop-a" in listing and "root" in listing and "(all)" in listing
    assert secret not in listing and "argon2" not in listing
    assert run(cli_db, "token", "create", "alice", monkeypatch=monkeypatch) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("hub_") and len(token) > 30
    assert run(cli_db, "token", "create", "nobody", monkeypatch=monkeypatch) == 2

    async def check() -> None:
        engine = create_engine(cli_db.replace("sqlite:///", "sqlite+aiosqlite:///"))
        try:
            from datetime import UTC, datetime

            principal = await principal_for_token(engine, token, now=datetime.now(UTC))
            assert principal is not None and principal.name == "alice" and principal.role == "agent"
            assert principal.shop_ids is not None and len(principal.shop_ids) == 1
            assert await principal_for_token(engine, token + "x", now=datetime.now(UTC)) is None
        finally:
            await engine.dispose()

    asyncio.run(check())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_and_stops_gracefully_on_sigterm(cli_db: str, tmp_path: Path) -> None:
    port = _free_port()
    import os

    env = {**os.environ, **ENV, "HUB_HOME": str(tmp_path / "home"), "HUB_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hub.cli import main; sys.exit(main())",
            "--database",
            cli_db,
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stderr.read() if proc.stderr else "no output") from None
                time.sleep(0.1)
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}/" in out
    assert '"event": "http_request"' in err and '"request_id"' in err and "workbench_stopped" in err


def test_token_revoke_and_user_disable_cut_access(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A revoked token and a disabled user no longer authenticate; both are audited."""
    import asyncio

    from hub.clock import utcnow
    from hub.store.engine import create_engine
    from hub.web.auth import audit_entries, principal_for_token

    url = cli_db.replace("sqlite:///", "sqlite+aiosqlite:///")

    def works(token: str) -> bool:
        async def check() -> bool:
            engine = create_engine(url)
            try:
                return await principal_for_token(engine, token, now=utcnow()) is not None
            finally:
                await engine.dispose()

        return asyncio.run(check())

    def audited() -> set[str]:
        async def read() -> set[str]:
            engine = create_engine(url)
            try:
                return {e["kind"] for e in await audit_entries(engine)}
            finally:
                await engine.dispose()

        return asyncio.run(read())

    user = ["user", "add", "bob", "--role", "agent", "--shops", "shop-a", "--password-stdin"]
    assert run(cli_db, *user, stdin="another-password-2\n", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert run(cli_db, "token", "create", "bob", monkeypatch=monkeypatch) == 0
    token = capsys.readouterr().out.strip()
    assert works(token)
    assert run(cli_db, "token", "revoke", "bob", monkeypatch=monkeypatch) == 0
    assert "1 token(s) of bob revoked" in capsys.readouterr().out
    assert not works(token)
    assert run(cli_db, "token", "create", "bob", monkeypatch=monkeypatch) == 0
    second = capsys.readouterr().out.strip()
    assert run(cli_db, "user", "disable", "bob", monkeypatch=monkeypatch) == 0
    assert not works(second)
    assert run(cli_db, "user", "enable", "bob", monkeypatch=monkeypatch) == 0
    assert works(second)
    assert {"token_revoked", "user_disabled", "user_enabled"} <= audited()
    assert run(cli_db, "token", "revoke", "nobody", monkeypatch=monkeypatch) == 2
