"""Access control, on SQLite and PostgreSQL: shop scopes in pages and API (404, never a glimpse, in
no list, count or search), roles, passwords, sessions, CSRF, login rate limits, the audit log."""

from __future__ import annotations

import re

import structlog
from sqlalchemy import select
from structlog.testing import LogCapture

from hub.logging import redact
from hub.store.access import UserRecord
from hub.store.models import AfterSaleRecord
from tests.hub.web.conftest import PASSWORD, World, login


async def open_count(world: World, shop: str) -> int:
    C = AfterSaleRecord.__table__
    async with world.hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(C.c.id).where(C.c.shop_id == world.shop_ids[shop], C.c.is_open.is_(True))
            )
        ).all()
    return len(rows)


async def test_agent_of_shop_a_gets_404_for_shop_b_case_in_page_and_api(world: World, client) -> None:
    other = await world.case_id("shop-b", "C50045")
    mine = await world.case_id("shop-a", "C50001")
    same_external_in_b = await world.case_id("shop-b", "C50001")
    for path in (
        f"/api/cases/{other}",
        f"/api/cases/{other}/actions",
        f"/api/cases/{other}/evidence-pack",
        f"/api/cases/{same_external_in_b}",
    ):
        resp = await client.get(path, headers=world.auth("alice"))
        assert resp.status == 404, path
        assert "C50045" not in await resp.text()
    resp = await client.post(f"/api/cases/{other}/notes", json={"text": "hello"}, headers=world.auth("alice"))
    assert resp.status == 404
    resp = await client.post(f"/api/cases/{other}/actions/agree_refund", json={}, headers=world.auth("alice"))
    assert resp.status == 404
    assert world.agree_calls("shop-b") == 0
    assert (await client.get(f"/api/cases/{mine}", headers=world.auth("alice"))).status == 200
    # the same through the browser session
    await login(client, "alice")
    page = await client.get(f"/cases/{other}")
    assert page.status == 404
    text = await page.text()
    assert "shop-b" not in text and "C50045" not in text
    assert (await client.get(f"/cases/{other}/pack")).status == 404
    assert (await client.get(f"/cases/{mine}")).status == 200
    # the owner and the admin see it
    assert (await client.get(f"/api/cases/{other}", headers=world.auth("bob"))).status == 200
    assert (await client.get(f"/api/cases/{other}", headers=world.auth("admin"))).status == 200


async def test_shop_b_cases_are_absent_from_a_lists_counts_and_search(world: World, client) -> None:
    a_open, b_open = await open_count(world, "shop-a"), await open_count(world, "shop-b")
    listing = await (await client.get("/api/cases?limit=200", headers=world.auth("alice"))).json()
    assert {c["shop"] for c in listing["items"]} == {"shop-a"}
    assert listing["total"] == len(listing["items"])
    assert len([c for c in listing["items"] if c["item"] == "case"]) == a_open
    cases_only = await (
        await client.get("/api/cases?limit=200&orders=false", headers=world.auth("alice"))
    ).json()
    assert cases_only["total"] == len(cases_only["items"]) == a_open
    # asking for shop-b by name gives nothing, not an error that would confirm it exists
    only_b = await (await client.get("/api/cases?shop=shop-b", headers=world.auth("alice"))).json()
    assert only_b["items"] == [] and only_b["total"] == 0
    # search: C50045 is shop-b's alone; C50001 exists in both shops and only A's comes back
    assert (await (await client.get("/api/cases?q=C50045", headers=world.auth("alice"))).json())[
        "items"
    ] == []
    both = await (
        await client.get(
            "/api/cases?q=C50001&status="
            + ",".join(
                [
                    "requested",
                    "seller_refused",
                    "awaiting_return",
                    "return_shipped",
                    "awaiting_reship",
                    "reshipped",
                    "refunding",
                    "platform_review",
                    "succeeded",
                    "closed",
                ]
            ),
            headers=world.auth("alice"),
        )
    ).json()
    assert [c["shop"] for c in both["items"]] == ["shop-a"]
    admin_search = await (
        await client.get(
            "/api/cases?q=C50045&status="
            + ",".join(
                [
                    "requested",
                    "seller_refused",
                    "return_shipped",
                    "refunding",
                    "platform_review",
                    "succeeded",
                    "closed",
                ]
            ),
            headers=world.auth("admin"),
        )
    ).json()
    assert [c["shop"] for c in admin_search["items"]] == ["shop-b"]
    # counts: facets and urgency add up to shop-a's open cases only
    counts = await (await client.get("/api/cases/counts?orders=0", headers=world.auth("alice"))).json()
    assert counts["facets"]["shop"] == {"shop-a": a_open}
    assert sum(counts["facets"]["status"].values()) == a_open
    assert sum(counts["urgency"].values()) == a_open
    admin_counts = await (await client.get("/api/cases/counts?orders=0", headers=world.auth("admin"))).json()
    assert sum(admin_counts["urgency"].values()) == a_open + b_open
    # with the orders listed (the default), the counts are over cases and orders alike
    with_orders = await (await client.get("/api/cases/counts", headers=world.auth("alice"))).json()
    assert with_orders["facets"]["shop"] == {"shop-a": listing["total"]}
    assert sum(with_orders["urgency"].values()) == listing["total"]
    # the page: no shop-b in the list, its facets or its totals; search finds nothing
    await login(client, "alice")
    page = await (await client.get("/")).text()
    assert "shop-b" not in page and "C50045" not in page
    assert f"共 {listing['total']} 条" in page
    page = await (await client.get("/?q=C50045")).text()
    assert "没有符合条件的售后单" in page and "C50045" not in page.split("</form>", 2)[-1]
    # sync status and quarantine are scoped too
    sync = await (await client.get("/api/sync", headers=world.auth("alice"))).json()
    assert [s["shop"] for s in sync["shops"]] == ["shop-a"]
    assert "shop-b" not in await (await client.get("/sync")).text()


async def test_viewer_cannot_act_and_sees_why(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    resp = await client.post(
        f"/api/cases/{case_id}/actions/agree_refund", json={}, headers=world.auth("vera")
    )
    assert resp.status == 403
    assert "viewer" in (await resp.json())["error"]
    resp = await client.post(f"/api/cases/{case_id}/notes", json={"text": "hi"}, headers=world.auth("vera"))
    assert resp.status == 403
    assert world.agree_calls() == 0
    detail = await (await client.get(f"/api/cases/{case_id}", headers=world.auth("vera"))).json()
    agree = next(a for a in detail["actions_available"] if a["action"] == "agree_refund")
    assert agree["enabled"] is False and agree["reason"] == "viewers cannot act"
    csrf = await login(client, "vera")
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert "只读账号不能操作" in page  # the page is Chinese: the reason by its label
    resp = await client.post(
        f"/cases/{case_id}/act/note",
        data={"_csrf": csrf, "note": "x", "idempotency_key": "web-viewer-note-1"},
        allow_redirects=False,
    )
    assert resp.status == 403


async def test_passwords_are_hashed_never_logged_and_sessions_are_safe_cookies(world: World, client) -> None:
    U = UserRecord.__table__
    async with world.hub.engine.connect() as conn:
        hashes = (await conn.execute(select(U.c.password_hash))).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    # the production processor chain (context variables, redaction) ending in a capture
    cap = LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, redact, cap])
    try:
        page = await client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
        resp = await client.post(
            "/login",
            data={"login_token": token, "name": "alice", "password": PASSWORD},
            allow_redirects=False,
        )
        await client.post(
            "/login", data={"login_token": token, "name": "alice", "password": "wrong-" + PASSWORD}
        )
    finally:
        structlog.reset_defaults()
    logs = cap.entries
    assert resp.status == 303
    cookie = resp.headers["Set-Cookie"]
    assert "hub_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    sid = cookie.split("hub_session=", 1)[1].split(";", 1)[0]
    dumped = repr(logs)
    assert PASSWORD not in dumped and sid not in dumped
    lines = [e for e in logs if e.get("event") == "http_request"]
    assert len(lines) == 3 and all(e["request_id"] and e["status"] for e in lines)
    assert lines[1]["request_id"] == resp.headers["X-Request-ID"]
    # the session id itself is not stored, only its digest
    from hub.store.access import WebSessionRecord

    async with world.hub.engine.connect() as conn:
        stored = (await conn.execute(select(WebSessionRecord.__table__.c.session_hash))).scalars().all()
    assert sid not in stored and len(stored) == 1


async def test_state_changes_need_the_csrf_token_or_a_bearer_token(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    csrf = await login(client, "alice")
    no_token = await client.post(f"/api/cases/{case_id}/notes", json={"text": "no csrf"})
    assert no_token.status == 403 and "CSRF" in (await no_token.json())["error"]
    wrong = await client.post(
        f"/api/cases/{case_id}/notes", json={"text": "x"}, headers={"X-CSRF-Token": "nope"}
    )
    assert wrong.status == 403
    form = await client.post(
        f"/cases/{case_id}/act/note", data={"note": "no csrf in form"}, allow_redirects=False
    )
    assert form.status == 403
    ok = await client.post(
        f"/api/cases/{case_id}/notes", json={"text": "with csrf"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status == 201
    # logout is a state change too
    assert (await client.post("/logout", allow_redirects=False)).status == 403
    # scripts use bearer tokens (a browser never sends one by itself): no CSRF token needed
    client.session.cookie_jar.clear()
    scripted = await client.post(
        f"/api/cases/{case_id}/notes", json={"text": "script"}, headers=world.auth("alice")
    )
    assert scripted.status == 201
    assert (await client.get("/api/me", headers={"Authorization": "Bearer hub_not-a-token"})).status == 401
    assert (await client.get("/api/me", headers={"Authorization": "Basic abc"})).status == 401
    assert (await client.get("/api/me")).status == 401
    anon_page = await client.get("/", allow_redirects=False)
    assert anon_page.status == 303 and anon_page.headers["Location"].startswith("/login")
    # a login form posted without its own token (login CSRF) is refused
    assert (await client.post("/login", data={"name": "alice", "password": PASSWORD})).status == 403


async def test_login_attempts_are_rate_limited_and_audited(world: World, client) -> None:
    page = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
    for _ in range(5):
        resp = await client.post(
            "/login", data={"login_token": token, "name": "alice", "password": "guess-guess"}
        )
        assert resp.status == 401
    # the limit holds even for the right password, until the window passes
    resp = await client.post(
        "/login", data={"login_token": token, "name": "alice", "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    # another user from the same address is not limited yet (the address allows 20 failures)
    resp = await client.post(
        "/login", data={"login_token": token, "name": "bob", "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 303
    from datetime import timedelta

    world.servers["shop-a"].clock.advance(timedelta(minutes=16))
    page = await client.get("/login")  # a login spends its form token: the next login needs a fresh one
    token = re.search(r'name="login_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
    resp = await client.post(
        "/login", data={"login_token": token, "name": "alice", "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 303
    audit = await (await client.get("/api/audit?limit=50", headers=world.auth("admin"))).json()
    kinds = [e["kind"] for e in audit["items"]]
    assert (
        kinds.count("login_failed") == 5 and kinds.count("login_limited") == 1 and kinds.count("login") == 2
    )
    assert all(PASSWORD not in str(e) for e in audit["items"])
    assert (await client.get("/api/audit", headers=world.auth("alice"))).status == 403


async def test_every_action_is_audited_with_its_key(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    resp = await client.post(
        f"/api/cases/{case_id}/actions/agree_refund",
        json={"idempotency_key": "audit-key-001"},
        headers=world.auth("alice"),
    )
    assert resp.status == 200
    await client.post(
        f"/api/cases/{case_id}/actions/agree_refund",
        json={"idempotency_key": "audit-key-001"},
        headers=world.auth("alice"),
    )
    audit = await (await client.get("/api/audit?kind=action", headers=world.auth("admin"))).json()
    entries = [e for e in audit["items"] if e["detail"].get("idempotency_key") == "audit-key-001"]
    assert [e["detail"]["replayed"] for e in reversed(entries)] == [False, True]
    assert all(e["actor"] == "alice" and e["case_id"] == case_id and e["request_id"] for e in entries)
    assert world.agree_calls() == 1
