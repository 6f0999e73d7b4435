"""The workbench's doors, tried as an attacker would: parallel password guesses, a burst of logins,
open redirects, forged proxy headers, framing and caching."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from hub.web import auth, create_app
from tests.hub.web.conftest import PASSWORD, World, login

PROXY = ("127.0.0.1/32",)
ROOT = Path(__file__).resolve().parents[3]


async def login_token(client: Any, headers: dict[str, str] | None = None) -> str:
    page = await client.get("/login", headers=headers or {})
    found = re.search(r'name="login_token" value="([^"]+)"', await page.text())
    assert found, "the login form has no CSRF field"
    return found.group(1)


async def post_login(
    client: Any,
    token: str,
    name: str,
    password: str,
    *,
    next_: str = "/",
    headers: dict[str, str] | None = None,
) -> Any:
    # the login token travels as a cookie too; sent by hand so a Secure cookie works over the test's http
    return await client.post(
        "/login",
        data={"login_token": token, "name": name, "password": password, "next": next_},
        headers={"Cookie": f"hub_login_csrf={token}", **(headers or {})},
        allow_redirects=False,
    )


async def audit_remotes(client: Any, world: World, kind: str) -> list[str]:
    got = await (await client.get(f"/api/audit?kind={kind}&limit=500", headers=world.auth("admin"))).json()
    return [e["remote"] for e in got["items"]]


# -- 7. login throttling ---------------------------------------------------------------------------


async def test_parallel_guesses_test_no_more_than_the_limit(
    world: World, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tested: list[str] = []
    real = auth.verify_password

    def counting(stored: str | None, password: str) -> bool:
        tested.append(password)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    token = await login_token(client)
    answers = await asyncio.gather(
        *(post_login(client, token, "alice", f"guess-{i:02d}-wrong") for i in range(25))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) == auth.MAX_FAILURES_PER_NAME, statuses
    assert statuses.count(429) == 25 - auth.MAX_FAILURES_PER_NAME
    assert len(tested) == auth.MAX_FAILURES_PER_NAME  # only the allowed guesses reached the hash
    right = await post_login(client, token, "alice", PASSWORD)
    assert right.status == 429 and int(right.headers["Retry-After"]) > 0
    assert len(tested) == auth.MAX_FAILURES_PER_NAME


async def test_a_burst_of_logins_hashes_off_the_loop_and_other_requests_are_served(
    world: World, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await aiohttp_client(create_app(world.hub, owns_hub=False, trusted_proxies=PROXY))
    gate = threading.Event()
    threads: list[int] = []
    running = 0
    peak = 0
    lock = threading.Lock()

    def slow_verify(stored: str | None, password: str) -> bool:
        nonlocal running, peak
        with lock:
            threads.append(threading.get_ident())
            running += 1
            peak = max(peak, running)
        gate.wait(5)  # an argon2 call that takes as long as the test wants
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    loop_thread = threading.get_ident()
    token = await login_token(client)
    # 30 logins from 30 addresses (through the trusted proxy): none is throttled, all are hashed
    burst = [
        asyncio.create_task(
            post_login(
                client, token, f"user{i}", "wrong-password", headers={"X-Forwarded-For": f"198.51.100.{i}"}
            )
        )
        for i in range(30)
    ]
    for _ in range(500):
        if threads:
            break
        await asyncio.sleep(0.01)
    assert threads, "no login reached the password check"
    # while the hashes are in flight, a cheap request is answered
    health = await asyncio.wait_for(client.get("/healthz"), 30)
    assert health.status == 200
    assert not gate.is_set() and running > 0
    gate.set()
    answers = await asyncio.gather(*burst)
    assert [r.status for r in answers] == [401] * 30
    assert len(threads) == 30 and loop_thread not in threads
    assert peak <= auth.HASH_THREADS


# -- 8. open redirects -----------------------------------------------------------------------------

#: what an attacker puts in ?next= (decoded form); each must end at "/"
REDIRECT_VECTORS = [
    "/\t/evil.com",
    "/\n/evil.example",
    "/\r\n/evil",
    "//evil",
    "///evil",
    "/\\evil",
    "\\\\evil",
    "/\\/evil",
    "http://evil",
    "https:evil",
    "javascript:alert(1)",
    " //evil",
    "/\x00/evil",
    "/\x7f/evil",
    "/\x85/evil",
    "/\u202e/evil",
    "/%09/evil.com",  # doubly encoded: decodes to a tab
    "/%2F/evil",
    "%2F%2Fevil",
    "/%5Cevil",
    "/%252F/evil",
    "evil.com",
]


@pytest.mark.parametrize("path", ["/lang/en", "/lang/zh"])
async def test_language_switch_never_redirects_off_site(world: World, client: Any, path: str) -> None:
    for vector in REDIRECT_VECTORS:
        resp = await client.get(f"{path}?next={quote(vector, safe='')}", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/", (vector, resp.headers["Location"])
    # the reported raw form, exactly as typed in a browser
    resp = await client.get("/lang/en?next=/%09/evil.com", allow_redirects=False)
    assert resp.headers["Location"] == "/"
    # local paths (with their queries) still work
    for ok in ("/cases/12", "/?platform=acme&q=%E7%8E%8B", "/sync"):
        resp = await client.get(f"{path}?next={quote(ok, safe='')}", allow_redirects=False)
        assert resp.headers["Location"] == ok


async def test_login_never_redirects_off_site(world: World, client: Any) -> None:
    for vector in REDIRECT_VECTORS:
        # the form's hidden field is rendered from ?next=: it is already "/" there
        page = await client.get(f"/login?next={quote(vector, safe='')}")
        field = re.search(r'name="next" value="([^"]*)"', await page.text())
        assert field and field.group(1) == "/", (vector, field and field.group(1))
    resp = await client.get("/login?next=/%09/evil.example")
    assert 'name="next" value="/"' in await resp.text()
    # and a forged form field is checked again when the login succeeds
    for vector in REDIRECT_VECTORS[:8]:
        client.session.cookie_jar.clear()
        token = await login_token(client)
        resp = await post_login(client, token, "bob", PASSWORD, next_=vector)
        assert resp.status == 303 and resp.headers["Location"] == "/", vector
    client.session.cookie_jar.clear()
    token = await login_token(client)
    resp = await post_login(client, token, "bob", PASSWORD, next_="/sync?x=1")
    assert resp.headers["Location"] == "/sync?x=1"


# -- 9. behind a proxy -----------------------------------------------------------------------------


async def test_trusted_proxy_gives_the_client_address_and_https(world: World, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(world.hub, owns_hub=False, trusted_proxies=PROXY))
    attacker = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    token = await login_token(client, attacker)
    # 20 failures from one address, spread over names so no account is locked by name
    for i in range(auth.MAX_FAILURES_PER_REMOTE):
        resp = await post_login(client, token, f"nobody{i % 5}-{i // 5}", "wrong-password", headers=attacker)
        assert resp.status == 401
    resp = await post_login(client, token, "bob", PASSWORD, headers=attacker)
    assert resp.status == 429  # that address is locked out ...
    # ... the admin, from another address behind the same proxy, is not
    admin = {"Forwarded": 'for="198.51.100.20:5123";proto=https;by=127.0.0.1'}
    resp = await post_login(client, token, "admin", PASSWORD, headers=admin)
    assert resp.status == 303
    cookie = resp.headers["Set-Cookie"]
    assert "hub_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert (await audit_remotes(client, world, "login")) == ["198.51.100.20"]
    assert set(await audit_remotes(client, world, "login_failed")) == {"203.0.113.7"}
    # a client cannot hide behind a forged left end of the chain: the nearest untrusted hop counts
    resp = await post_login(
        client, token, "bob", PASSWORD, headers={"X-Forwarded-For": "198.51.100.20, 203.0.113.7"}
    )
    assert resp.status == 429
    # IPv6 and a multi-hop chain through trusted proxies
    resp = await post_login(
        client,
        token,
        "alice",
        PASSWORD,
        headers={"Forwarded": 'for="[2001:db8::5]:443";proto=https, for=127.0.0.1'},
    )
    assert resp.status == 303 and "Secure" in resp.headers["Set-Cookie"]
    assert "2001:db8::5" in await audit_remotes(client, world, "login")
    # a malformed header is ignored as a whole (the peer's address is used)
    resp = await post_login(client, token, "vera", PASSWORD, headers={"X-Forwarded-For": "not-an-ip"})
    assert resp.status == 303 and "Secure" not in resp.headers["Set-Cookie"]
    assert "127.0.0.1" in await audit_remotes(client, world, "login")


async def test_untrusted_peers_forwarding_headers_are_ignored(world: World, client: Any) -> None:
    # the default app trusts no proxy: the headers are a client's word and change nothing
    forged = {
        "X-Forwarded-For": "203.0.113.99",
        "X-Forwarded-Proto": "https",
        "Forwarded": "for=203.0.113.98",
    }
    token = await login_token(client, forged)
    resp = await post_login(client, token, "bob", PASSWORD, headers=forged)
    assert resp.status == 303 and "Secure" not in resp.headers["Set-Cookie"]
    assert (await audit_remotes(client, world, "login")) == ["127.0.0.1"]


async def test_a_peer_outside_the_trusted_networks_is_not_believed(world: World, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(world.hub, owns_hub=False, trusted_proxies=("10.0.0.0/8",)))
    forged = {"X-Forwarded-For": "203.0.113.99", "X-Forwarded-Proto": "https"}
    token = await login_token(client, forged)
    resp = await post_login(client, token, "bob", PASSWORD, headers=forged)
    assert resp.status == 303 and "Secure" not in resp.headers["Set-Cookie"]
    assert (await audit_remotes(client, world, "login")) == ["127.0.0.1"]


def test_trusted_proxies_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import Settings
    from hub.errors import ConfigError

    monkeypatch.setenv("HUB_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1 ::1")
    assert Settings.from_env().trusted_proxies == ("10.0.0.0/8", "192.168.1.1/32", "::1/128")
    monkeypatch.setenv("HUB_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
    with pytest.raises(ConfigError, match=r"HUB_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings.from_env()


# -- 12. headers -----------------------------------------------------------------------------------


async def test_pages_cannot_be_framed_and_the_api_is_not_cached(world: World, client: Any) -> None:
    for path in ("/login", "/healthz"):
        resp = await client.get(path)
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    page = await client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    for path in ("/api/cases", "/api/me", "/api/sync"):
        resp = await client.get(path, headers=world.auth("alice"))
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store", path
        assert resp.headers["X-Frame-Options"] == "DENY"
    denied = await client.get("/api/cases")
    assert denied.status == 401 and denied.headers["Cache-Control"] == "no-store"
    redirect = await client.get("/", allow_redirects=False)
    assert redirect.status == 303 and redirect.headers["X-Frame-Options"] == "DENY"


# -- 11. idempotency keys ----------------------------------------------------------------------------


async def test_idempotency_keys_are_scoped_to_a_case_and_action(world: World, client: Any) -> None:
    mine, _ = await world.first("shop-a", "NEW")
    theirs, _ = await world.first("shop-b", "NEW")
    key = {"idempotency_key": "shared-key-0001"}
    # bob (shop-b) uses a key first ...
    resp = await client.post(f"/api/cases/{theirs}/actions/agree_refund", json=key, headers=world.auth("bob"))
    assert resp.status == 200 and (await resp.json())["replayed"] is False
    # ... alice (shop-a) choosing the same key acts on her own case: not blocked, not a replay, and
    # nothing of bob's action shows through
    resp = await client.post(f"/api/cases/{mine}/actions/agree_refund", json=key, headers=world.auth("alice"))
    body = await resp.json()
    assert resp.status == 200 and body["replayed"] is False and body["status"] == "done", body
    assert world.agree_calls("shop-a") == 1 and world.agree_calls("shop-b") == 1
    # the same key for another action of the same case is that action's own
    note = await client.post(
        f"/api/cases/{mine}/actions/note",
        json={**key, "params": {"note": "called"}},
        headers=world.auth("alice"),
    )
    assert note.status == 200 and (await note.json())["replayed"] is False
    # the same key and parameters replay; other parameters are a clear 422, nothing recorded
    again = await client.post(
        f"/api/cases/{mine}/actions/note",
        json={**key, "params": {"note": "called"}},
        headers=world.auth("alice"),
    )
    assert again.status == 200 and (await again.json())["replayed"] is True
    other = await client.post(
        f"/api/cases/{mine}/actions/note",
        json={**key, "params": {"note": "a different note"}},
        headers=world.auth("alice"),
    )
    error = (await other.json())["error"]
    assert other.status == 422 and "shared-key-0001" in error and "note" in error and "new key" in error
    detail = await (await client.get(f"/api/cases/{mine}", headers=world.auth("alice"))).json()
    notes = [e["summary"] for e in detail["timeline"] if e["kind"] == "note"]
    assert notes == ["called"]
    # the page form says the same, on the case page
    csrf = await login(client, "alice")
    form = await client.post(
        f"/cases/{mine}/act/note",
        data={"_csrf": csrf, "idempotency_key": "shared-key-0001", "note": "yet another"},
        allow_redirects=False,
    )
    assert form.status == 303 and "new+key" in form.headers["Location"]


# -- 12. evidence ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


async def upload(client: Any, url: str, h: dict[str, str], content: bytes, name: str, ctype: str) -> Any:
    form = evidence_form(content, name, ctype)
    return await client.post(url, data=form["data"], headers={**h, **form["headers"]})


def evidence_form(content: bytes, name: str, ctype: str) -> dict[str, Any]:
    """A multipart body written by hand, as a hostile client would: aiohttp's own client refuses
    control characters in a file name."""
    boundary = "hub-test-boundary-7f3a"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        # the part header cannot carry them raw (refused, below): clients percent-encode them
        name = quote(name, safe="")
    name = name.replace("\\", "\\\\").replace('"', '\\"')  # a quoted-string, escaped properly
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return {"data": body, "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"}}


async def test_evidence_names_are_sanitised_and_types_read_from_the_bytes(world: World, client: Any) -> None:
    import io
    import os
    import stat
    import zipfile

    case_id, _ = await world.first("shop-a", "ESCALATED")
    h = world.auth("alice")
    url = f"/api/cases/{case_id}/evidence"
    hostile = {
        "..\\..\\..\\windows\\win.ini.png": "win.ini.png",
        "../../etc/cron.d/x.png": "x.png",
        "%2e%2e%2f%2e%2e%2fescape.png": "escape.png",
        "box\x1b[2J\x07.png": "box[2J.png",
        "invoice\u202egnp.pdf": "invoicegnp.pdf",
        "\u2066photo\u2069.png": "photo.png",
        "...": "evidence",
    }
    ids = {}
    for raw, expected in hostile.items():
        ctype = "application/pdf" if expected.endswith(".pdf") else "image/png"
        resp = await upload(client, url, h, PDF if ctype == "application/pdf" else PNG, raw, ctype)
        assert resp.status == 201, (raw, await resp.text())
        ids[(await resp.json())["id"]] = expected
    # raw control characters in the part header: the body cannot be read, a 400 (never a 500)
    boundary = "hub-test-boundary-7f3a"
    raw_head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\x1b[2J.png"\r\n\r\n'
    raw = raw_head.encode() + PNG + f"\r\n--{boundary}--\r\n".encode()
    ctype_header = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    resp = await client.post(url, data=raw, headers={**h, **ctype_header})
    assert resp.status == 400 and "cannot be read" in (await resp.json())["error"]
    detail = await (await client.get(f"/api/cases/{case_id}", headers=h)).json()
    stored = {e["id"]: e["name"] for e in detail["evidence"]}
    assert stored == ids
    pack = await client.get(f"/api/cases/{case_id}/evidence-pack", headers=h)
    members = zipfile.ZipFile(io.BytesIO(await pack.read())).namelist()
    for ident, name in ids.items():
        assert f"evidence/{ident}-{name}" in members
    assert all(".." not in m and "\\" not in m and not m.startswith("/") for m in members)
    # the bytes decide: a mismatch or an unknown binary is a clear 422, nothing stored
    for content, name, ctype, needle in (
        (PDF, "photo.png", "image/png", "the content is application/pdf, not image/png"),
        (PNG, "report.pdf", "application/pdf", "the content is image/png, not application/pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.png", "image/png", "not of an accepted type"),
        (
            b"<html><script>alert(1)</script>",
            "chat.txt",
            "image/jpeg",
            "the content is text/plain, not image/jpeg",
        ),
        (PNG, "photo.png", "text/html", "type text/html is not accepted"),
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1",
            "photo.mp4",
            "video/mp4",
            "not of an accepted type",
        ),
    ):
        resp = await upload(client, url, h, content, name, ctype)
        assert resp.status == 422 and needle in (await resp.json())["error"], (name, await resp.text())
    # no declared type: the bytes are enough; a chat log in GB18030 is text
    clip = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41" + b"\x00" * 32
    assert (await upload(client, url, h, clip, "开箱.mp4", "video/mp4")).status == 201
    chat = "聊天记录：买家确认收货".encode("gb18030")
    resp = await upload(client, url, h, chat, "chat.txt", "application/octet-stream")
    assert resp.status == 201
    detail = await (await client.get(f"/api/cases/{case_id}", headers=h)).json()
    assert len(detail["evidence"]) == len(hostile) + 2
    assert detail["evidence"][-1]["content_type"] == "text/plain"
    # stored privately: folders 0700, files 0600
    root = world.hub.settings.home / "evidence"
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    folder = root / str(case_id)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = list(folder.iterdir())
    assert files and all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files)


# -- 10. secrets in platform error text --------------------------------------------------------------

ECHO_TOKEN = "echo/secret+token=42abc"


async def test_a_gateway_echoing_the_token_leaks_it_nowhere(
    world: World, client: Any, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch, sqlite_only: None
) -> None:
    """A gateway that echoes the request (token included, as is and URL-encoded) in its errors:
    the token reaches no summary, stored error, action message, CLI output, page or API answer."""
    import json
    import os
    import sys

    from aiohttp import ClientSession, web
    from sqlalchemy import insert, text

    from hub.store.models import AfterSaleRecord, SyncRunRecord
    from hub.store.shops import add_shop
    from hub.sync import sync_shops
    from tests.testplatform.server import TOKEN

    upstream = world.servers["shop-a"].base_url + "/api"
    mode = {"auth": False}

    async def gateway(request: web.Request) -> web.Response:
        body = await request.json()
        given = request.headers.get("X-Token", "")
        echo = (
            f"request {json.dumps(body)} sent with X-Token={given} (url: /api?token={quote(given, safe='')})"
        )
        if mode["auth"]:
            return web.json_response({"error": f"token_invalid: {echo}"}, status=401)
        if body["api"] in ("orders.list", "case.agree"):
            return web.json_response({"error": f"bad_request: {echo}"}, status=400)
        async with ClientSession() as session:
            async with session.post(upstream, json=body, headers={"X-Token": TOKEN}) as resp:
                answer = await resp.json()
        if body["api"] == "cases.list" and answer.get("items"):
            answer["items"][0] = {**answer["items"][0], "status": f"odd {given}"}  # quarantined
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/api", gateway)
    server = await aiohttp_server(app)
    monkeypatch.setenv("ECHO_TOKEN", ECHO_TOKEN)
    await add_shop(
        world.hub.engine,
        world.hub.registry.info("acme"),
        "shop-echo",
        {"api_url": str(server.make_url("/api")), "token": "env:ECHO_TOKEN"},
    )
    forms = (ECHO_TOKEN, quote(ECHO_TOKEN, safe=""), "42abc")  # "42abc": no fragment either

    def leaks(text_: str) -> list[str]:
        return [f for f in forms[:2] if f in text_]

    # the sync, as the engine returns it
    summaries = await sync_shops(world.hub, names=["shop-echo"])
    dumped = json.dumps([s.as_dict() for s in summaries], ensure_ascii=False)
    assert summaries[0].status == "partial" and "X-Token=***" in dumped and not leaks(dumped), dumped
    # the CLI: `hub sync --json`, as an operator runs it
    env = {
        **os.environ,
        "HUB_HOME": str(world.hub.settings.home),
        "HUB_DATABASE_URL": world.hub.engine.url.render_as_string(hide_password=False),
        "PYTHONPATH": str(ROOT),
        "HUB_PLUGINS": "tests.testplatform",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen",
        "HUB_LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "sync", "--shop", "shop-echo", "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 1, err.decode()
    cli = json.loads(out)
    assert cli[0]["errors"] and not leaks(out.decode()) and not leaks(err.decode())
    # an action the gateway refuses, echoing the token
    C = AfterSaleRecord.__table__
    async with world.hub.engine.connect() as conn:
        echo_shop = (await conn.execute(text("SELECT id FROM shops WHERE name = 'shop-echo'"))).scalar_one()
        case_id = (
            (
                await conn.execute(
                    C.select()
                    .with_only_columns(C.c.id)
                    .where(C.c.shop_id == echo_shop, C.c.platform_status == "NEW")
                )
            )
            .scalars()
            .first()
        )
    assert case_id is not None
    resp = await client.post(
        f"/api/cases/{case_id}/actions/agree_refund",
        json={"idempotency_key": "echo-key-0001"},
        headers=world.auth("admin"),
    )
    body = await resp.text()
    assert resp.status == 409 and "***" in body and not leaks(body), body
    # the platform then refuses the token, echoing it: the shop needs re-authorisation, said without it
    mode["auth"] = True
    reauth = await sync_shops(world.hub, names=["shop-echo"])
    assert reauth[0].status == "reauth" and not leaks(json.dumps(reauth[0].as_dict()))
    # stored: sync runs, quarantine, actions, events, audit: nowhere
    async with world.hub.engine.connect() as conn:
        # (the raw record itself is kept as the platform sent it: it is data, shown scrubbed below)
        for table, columns in (
            ("sync_runs", "*"),
            ("quarantine", "error"),
            ("actions", "*"),
            ("events", "*"),
            ("audit_log", "*"),
            ("shops", "reauth_reason"),
        ):
            rows = (await conn.execute(text(f"SELECT {columns} FROM {table}"))).all()
            assert not leaks(repr(rows)), (table, [r for r in rows if leaks(repr(r))][:1])
        stored_q = (await conn.execute(text("SELECT error FROM quarantine"))).scalars().all()
        reason = (
            await conn.execute(text("SELECT reauth_reason FROM shops WHERE id = :i"), {"i": echo_shop})
        ).scalar()
    assert "token_invalid" in reason and "X-Token=***" in reason
    assert any("odd ***" in q for q in stored_q), stored_q
    # a row stored before this rule (or by a path that forgot) is still hidden on every page and answer
    async with world.hub.engine.begin() as conn:
        await conn.execute(
            insert(SyncRunRecord.__table__).values(
                shop_id=echo_shop,
                started_at=world.hub.now(),
                finished_at=world.hub.now(),
                status="partial",
                errors=[f"old error with {ECHO_TOKEN}"],
            )
        )
    await login(client, "admin")
    for path in ("/sync", "/api/sync", f"/cases/{case_id}", f"/api/cases/{case_id}", "/api/audit", "/audit"):
        page = await client.get(path)
        assert page.status == 200, path
        assert not leaks(await page.text()), path
    assert "old error with ***" in await (await client.get("/sync")).text()
