"""The JSON API (on SQLite and PostgreSQL): the OpenAPI document matches the routes, malformed
requests get clear 4xx answers (schema-driven and property-based), the list is the CLI's objects,
actions are idempotent, evidence and notes land."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import FormData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.store.cases import CaseFilter, all_cases
from tests.hub.web.conftest import World

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every API route the router serves (HEAD is aiohttp's GET twin)."""
    out = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if (path.startswith("/api") or path == "/metrics") and route.method != "HEAD":
            out.add((route.method.lower(), path))
    return out


async def test_openapi_describes_every_route_and_only_those(world: World, client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    described = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert described == api_routes(client.app)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId") and op.get("responses"), (method, path)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(part[1:-1] for part in path.split("/") if part.startswith("{")), path
    # every $ref resolves
    text = json.dumps(doc)
    for ref in {r.split('"')[0] for r in text.split('"$ref": "')[1:]}:
        node: Any = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]


async def test_list_returns_the_cli_objects_with_keyset_paging(world: World, client) -> None:
    expected = await all_cases(world.hub.engine, CaseFilter(now=world.hub.now(), orders=True))
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = "/api/cases?limit=17" + (f"&cursor={cursor}" if cursor else "")
        page = await (await client.get(url, headers=world.auth("admin"))).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == json.loads(json.dumps(expected))  # the same objects, in the same order
    dues = [c["next_action"]["due_at"] for c in seen if c["next_action"]["due_at"]]
    assert dues == sorted(dues)
    assert {c["item"] for c in seen} == {"case", "order"}
    filtered = await (
        await client.get("/api/cases?status=platform_review&dispute=1", headers=world.auth("admin"))
    ).json()
    assert filtered["items"] and all(c["dispute"]["kind"] == "intervention" for c in filtered["items"])


async def test_an_action_with_the_same_key_never_acts_twice(world: World, client) -> None:
    case_id, external = await world.first("shop-a", "NEW")
    url = f"/api/cases/{case_id}/actions/agree_refund"
    first = await client.post(
        url, json={"params": {}}, headers={**world.auth("alice"), "Idempotency-Key": "k-0001-abc"}
    )
    body = await first.json()
    assert first.status == 200 and body["status"] == "done" and body["replayed"] is False
    again = await client.post(url, json={"idempotency_key": "k-0001-abc"}, headers=world.auth("alice"))
    assert again.status == 200 and (await again.json())["replayed"] is True
    assert world.agree_calls() == 1
    assert world.servers["shop-a"].cases[external]["status"] == "AGREED"
    # a new key on the changed case is refused with the platform's reason, not sent
    refused = await client.post(url, json={"idempotency_key": "k-0002-abc"}, headers=world.auth("alice"))
    assert refused.status == 409 and "not requested" in (await refused.json())["error"]
    assert world.agree_calls() == 1
    detail = await (await client.get(f"/api/cases/{case_id}", headers=world.auth("alice"))).json()
    assert detail["status"] == "refunding"
    assert [a["idempotency_key"] for a in detail["actions"]] == ["k-0001-abc"]


async def test_a_double_click_racing_with_one_key_acts_once(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    url = f"/api/cases/{case_id}/actions/agree_refund"
    replies = await asyncio.gather(
        *(
            client.post(url, json={"idempotency_key": "race-key-42"}, headers=world.auth("alice"))
            for _ in range(4)
        )
    )
    assert all(r.status == 200 for r in replies)
    bodies = [await r.json() for r in replies]
    assert sorted(b["replayed"] for b in bodies) == [False, True, True, True]
    assert world.agree_calls() == 1


async def test_bad_action_parameters_are_422_and_unknown_actions_404(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "NEW")
    h = world.auth("alice")
    base = f"/api/cases/{case_id}/actions"
    assert (await client.post(f"{base}/teleport", json={}, headers=h)).status == 404
    bad = await client.post(f"{base}/agree_refund", json={"params": {"amount": 3}}, headers=h)
    assert bad.status == 422 and "unknown parameter amount" in (await bad.json())["error"]
    assert (await client.post(f"{base}/note", json={"params": {}}, headers=h)).status == 422
    assert (await client.post(f"{base}/assign", json={"params": {"agent": "bob"}}, headers=h)).status == 422
    ok = await client.post(f"{base}/assign", json={"params": {"agent": "alice"}}, headers=h)
    assert ok.status == 200
    outcome = await client.post(
        f"{base}/record_appeal_outcome", json={"params": {"outcome": "won"}}, headers=h
    )
    assert outcome.status == 409  # no appeal recorded yet: disabled, with the reason
    assert (
        await client.post(f"{base}/record_appeal", json={"params": {"note": "filed"}}, headers=h)
    ).status == 200
    outcome = await client.post(
        f"{base}/record_appeal_outcome", json={"params": {"outcome": "won"}}, headers=h
    )
    assert outcome.status == 422 and "ruled_for_seller" in (await outcome.json())["error"]
    assert (await client.post(f"{base}/refuse", json={}, headers=h)).status == 409
    assert (
        await client.post(f"{base}/note", json={"params": {"note": "x"}, "key": 1}, headers=h)
    ).status == 422
    assert (await client.post(f"{base}/note", json={"idempotency_key": "short"}, headers=h)).status == 422
    detail = await (await client.get(f"/api/cases/{case_id}", headers=h)).json()
    assert detail["assignee"] == "alice"
    assert [d["kind"] for d in detail["disputes"]] == ["appeal"]
    assert world.agree_calls() == 0


async def test_evidence_upload_is_checked_and_notes_land(world: World, client) -> None:
    case_id, _ = await world.first("shop-a", "ESCALATED")
    h = world.auth("alice")

    def form(content: bytes, name: str, ctype: str) -> FormData:
        data = FormData()
        data.add_field("file", content, filename=name, content_type=ctype)
        data.add_field("description", "外箱照片")
        return data

    ok = await client.post(
        f"/api/cases/{case_id}/evidence", data=form(PNG, "box.png", "image/png"), headers=h
    )
    assert ok.status == 201
    ident = (await ok.json())["id"]
    wrong_type = await client.post(
        f"/api/cases/{case_id}/evidence",
        data=form(b"MZ\x90", "tool.exe", "application/x-msdownload"),
        headers=h,
    )
    assert wrong_type.status == 422 and "not accepted" in (await wrong_type.json())["error"]
    too_big = await client.post(
        f"/api/cases/{case_id}/evidence",
        data=form(b"\0" * (10 * 1024 * 1024 + 1), "big.png", "image/png"),
        headers=h,
    )
    assert too_big.status in (413, 422)
    empty = await client.post(
        f"/api/cases/{case_id}/evidence", data=form(b"", "e.png", "image/png"), headers=h
    )
    assert empty.status == 422
    not_multipart = await client.post(f"/api/cases/{case_id}/evidence", json={"file": "x"}, headers=h)
    assert not_multipart.status == 415
    note = await client.post(f"/api/cases/{case_id}/notes", json={"text": "已提交凭证"}, headers=h)
    assert note.status == 201
    detail = await (await client.get(f"/api/cases/{case_id}", headers=h)).json()
    assert [e["id"] for e in detail["evidence"]] == [ident]
    assert any(e["kind"] == "note" and e["summary"] == "已提交凭证" for e in detail["timeline"])
    pack = await client.get(f"/api/cases/{case_id}/evidence-pack", headers=h)
    assert pack.status == 200 and pack.content_type == "application/zip"
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(await pack.read())).namelist()
    assert f"evidence/{ident}-box.png" in names and "case.json" in names


# -- malformed requests: schema-driven, then property-based ------------------------------------------


def malformed_for(schema: dict[str, Any]) -> list[str]:
    """Values the parameter's own schema forbids: out of range, not in the enum, against the pattern."""
    kind = schema.get("type")
    if kind == "integer":
        out = ["ten", "1.5", ""]
        if "minimum" in schema:
            out.append(str(schema["minimum"] - 1))
        if "maximum" in schema:
            out.append(str(schema["maximum"] + 1))
        return [v for v in out if v != ""]
    if kind == "boolean":
        return ["maybe", "2"]
    if kind == "array" and "enum" in schema.get("items", {}):
        good = schema["items"]["enum"][0]
        return ["teleport", f"{good},teleport"]
    if kind == "string":
        out = []
        if "maxLength" in schema:
            out.append("x" * (schema["maxLength"] + 1))
        if "pattern" in schema:
            out.append("!!not valid!!")
        return out
    return []


async def test_every_declared_parameter_rejects_malformed_values_with_a_4xx(world: World, client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    case_id, _ = await world.first("shop-a", "NEW")
    tried = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    for bad in malformed_for(param["schema"]):
                        url = path.replace("{id}", str(case_id)).replace("{action}", "note")
                        resp = await client.request(
                            method, url, params={param["name"]: bad}, headers=world.auth("admin")
                        )
                        tried += 1
                        assert 400 <= resp.status < 500, (method, path, param["name"], bad, resp.status)
                        assert (await resp.json())["error"]
                elif param["in"] == "path":
                    for bad in ("abc", "-1", "0", "9" * 30, "1.5", "%20"):
                        url = path.replace("{" + param["name"] + "}", bad)
                        url = url.replace("{id}", str(case_id)).replace("{action}", "note")
                        resp = await client.request(method, url, headers=world.auth("admin"))
                        tried += 1
                        assert 400 <= resp.status < 500, (method, url, resp.status)
            if method == "post" and "requestBody" in op:
                url = path.replace("{id}", str(case_id)).replace("{action}", "note")
                for body, ctype in (
                    (b"{not json", "application/json"),
                    (b"[1, 2]", "application/json"),
                    (b'"text"', "application/json"),
                    (b"\xff\xfe", "application/json"),
                    (b"a=b", "text/plain"),
                    (b"--x\r\n", "multipart/form-data; boundary=x"),
                    (b'{"params": []}', "application/json"),
                    (b'{"text": 5, "params": {"note": {"a": 1}}}', "application/json"),
                ):
                    resp = await client.post(
                        url, data=body, headers={**world.auth("admin"), "Content-Type": ctype}
                    )
                    tried += 1
                    assert 400 <= resp.status < 500, (url, body, resp.status, await resp.text())
                    assert (await resp.json())["error"]
    assert tried > 80
    # unknown routes and methods under /api answer JSON 4xx too
    assert (await client.get("/api/nope", headers=world.auth("admin"))).status == 404
    wrong = await client.delete(f"/api/cases/{case_id}", headers=world.auth("admin"))
    assert wrong.status == 405 and "not allowed" in (await wrong.json())["error"]


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_random_malformed_requests_never_get_a_500(world: World, client, data: st.DataObject) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    ops = sorted((m, p, op) for p, spec in doc["paths"].items() for m, op in spec.items())
    method, path, op = data.draw(st.sampled_from(ops), label="operation")
    real_id = await world.case_id("shop-a", "C50001")
    case_id = data.draw(
        st.one_of(
            st.just(str(real_id)),
            _text.filter(lambda s: "/" not in s and "?" not in s and "#" not in s and s.strip()),
        ),
        label="id",
    )
    url = path.replace("{id}", case_id or "x").replace(
        "{action}",
        data.draw(
            st.sampled_from(["note", "agree_refund", "assign", "record_appeal_outcome", "x"]), label="action"
        ),
    )
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] + ["junk"]
    query = data.draw(st.dictionaries(st.sampled_from(names), _text, max_size=4), label="query")
    body = data.draw(
        st.one_of(st.binary(max_size=64), _json_values.map(lambda v: json.dumps(v).encode())), label="body"
    )
    ctype = data.draw(
        st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
        label="content-type",
    )
    user = data.draw(st.sampled_from(["admin", "alice", "vera"]), label="user")
    headers = {**world.auth(user), "Content-Type": ctype}
    # header values a client can send at all: printable ASCII
    key = data.draw(
        st.one_of(
            st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=130)
        ),
        label="idempotency-key",
    )
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = await client.request(
        method, url, params=query, data=body if method == "post" else None, headers=headers
    )
    assert resp.status < 500, (method, url, query, body, resp.status, await resp.text())
    if resp.status >= 400:
        assert (await resp.json())["error"]


async def test_counts_are_over_exactly_the_listed_rows(world: World, client) -> None:
    """Urgency cards, facets and the total of /api/cases/counts match the rows /api/cases lists, for
    every filter and scope (orders included when listed)."""
    from datetime import datetime, timedelta

    def bucket(due: str | None, now: datetime) -> str:
        if due is None:
            return "none"
        left = datetime.fromisoformat(due) - now
        if left < timedelta(0):
            return "breached"
        if left < timedelta(hours=24):
            return "lt_24h"
        return "lt_72h" if left < timedelta(hours=72) else "later"

    now = world.hub.now()
    for user, query in (
        ("admin", ""),
        ("admin", "orders=false"),
        ("alice", ""),
        ("alice", "awaiting=seller&due=24h"),
        ("admin", "party=buyer"),
        ("admin", "shop=shop-b&due=72h"),
        ("bob", "status=requested,platform_review"),
        ("admin", "q=C50001"),
        ("admin", "dispute=1"),
    ):
        listed: list[dict[str, Any]] = []
        cursor = None
        while True:
            url = f"/api/cases?limit=200&{query}" + (f"&cursor={cursor}" if cursor else "")
            page = await (await client.get(url, headers=world.auth(user))).json()
            listed.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        counts = await (await client.get(f"/api/cases/counts?{query}", headers=world.auth(user))).json()
        assert counts["total"] == len(listed), (user, query)
        want_urgency = dict.fromkeys(("breached", "lt_24h", "lt_72h", "later", "none"), 0)
        for c in listed:
            want_urgency[bucket(c["next_action"]["due_at"], now)] += 1
        assert counts["urgency"] == want_urgency, (user, query)
        for facet, key in (
            ("shop", "shop"),
            ("awaiting", "awaiting"),
            ("item", "item"),
            ("platform", "platform"),
        ):
            want: dict[str, int] = {}
            for c in listed:
                want[c[key]] = want.get(c[key], 0) + 1
            assert counts["facets"][facet] == want, (user, query, facet)
        want_status: dict[str, int] = {}
        for c in listed:
            if c["item"] == "case":
                want_status[c["status"]] = want_status.get(c["status"], 0) + 1
        assert counts["facets"]["status"] == want_status, (user, query)
        assert all(c["next_action"]["party"] == c["awaiting"] for c in listed)


async def test_openapi_documents_the_next_action_and_its_version(world: World, client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["info"]["version"].startswith("2.")
    schemas = doc["components"]["schemas"]
    case_props = set(schemas["Case"]["properties"])
    action_props = set(schemas["NextAction"]["properties"])
    items = (await (await client.get("/api/cases?limit=200", headers=world.auth("admin"))).json())["items"]
    assert {c["item"] for c in items} == {"case", "order"}
    for c in items:
        assert set(c) <= case_props, set(c) - case_props
        assert set(c["next_action"]) <= action_props, set(c["next_action"]) - action_props
    params = {p["name"] for p in doc["paths"]["/api/cases"]["get"]["parameters"]}
    assert {"awaiting", "party", "orders"} <= params
