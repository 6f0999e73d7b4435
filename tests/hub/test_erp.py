"""ERP documents through the command line: the steps cases reach become documents, each delivered
once per sink (file and signed webhook), failures recorded and retried without duplicates."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.store.base import tbl
from tests.hub.erp_seed import env, hub, seed_erp


async def _orphan_claim(url: str) -> None:
    """Turn one delivered row back into a claim a dead process left an hour ago."""
    from hub.erp.records import ErpDeliveryRecord
    from hub.store.engine import create_engine

    d = tbl(ErpDeliveryRecord)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            first = (await conn.execute(select(d.c.id).order_by(d.c.id))).scalar()
            ago = datetime.now(UTC) - timedelta(hours=1)
            await conn.execute(update(d).where(d.c.id == first).values(status="sending", updated_at=ago))
    finally:
        await engine.dispose()


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark"
    assert raw.count(b"\xef\xbb\xbf") == 1, "one byte-order mark, at the start only"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_file_sink_documents_once(db_url: str, tmp_path: Path, monkeypatch, capsys):
    env(monkeypatch, tmp_path)
    assert hub(capsys, db_url, "db", "upgrade")[0] == 0
    ids = seed_erp(db_url)
    folder = tmp_path / "erp"
    code, out, err = hub(capsys, db_url, "sink", "add", "files", "--kind", "file", "--dir", str(folder))
    assert code == 0, err

    code, out, err = hub(capsys, db_url, "erp", "run", "--json")
    assert code == 0, err
    result = json.loads(out)
    # C1 registered/received/settled, C2, C3, C4 received/exchange_shipped, C5, C6 return + dispute,
    # C8 registered (then closed)
    assert result["made"] == 11 and result["delivered"] == 11 and result["failed"] == 0

    ret = read_csv(folder / "return.csv")
    assert ret[0][:3] == ["单据编号", "单据类型", "步骤"] and "入库类型" in ret[0]
    c1 = [r for r in ret[1:] if r[0].startswith(f"TH-{ids['C1']:06d}")]
    assert [r[2] for r in c1] == ["registered", "received", "settled"]
    quality = ret[0].index("入库类型")
    assert c1[1][quality] == "次品入库"  # a quality fault goes to defective stock
    sku, qty = ret[0].index("商家编码"), ret[0].index("数量")
    assert c1[0][sku] == "SKU-RED-M" and c1[0][qty] == "2"

    comp = read_csv(folder / "compensation_refund.csv")
    amount, kind = comp[0].index("金额(元)"), comp[0].index("退款类型")
    assert sorted((r[amount], r[kind]) for r in comp[1:]) == [("12.00", "仅退款"), ("8.00", "补差价")]
    assert [r[2] for r in read_csv(folder / "exchange.csv")[1:]] == ["received", "exchange_shipped"]
    reship = read_csv(folder / "reship_order.csv")
    assert reship[1][reship[0].index("补发单")] == "是"
    assert reship[1][reship[0].index("原订单号")] == "O5"
    assert not any(r[0].startswith(f"TH-{ids['C7']:06d}") for r in ret)  # not agreed: nothing
    assert [r[2] for r in ret[1:] if r[0].startswith(f"TH-{ids['C8']:06d}")] == ["registered"]

    # a second pass (the next sync) makes and sends nothing again
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, out, _ = hub(capsys, db_url, "erp", "run", "--json")
    assert json.loads(out)["made"] == 0 and json.loads(out)["delivered"] == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    # a process that died after writing a document but before recording it leaves a "sending"
    # claim: a later pass takes it back, and the file already has the number: no duplicate row
    asyncio.run(_orphan_claim(db_url))
    code, out, _ = hub(capsys, db_url, "erp", "run", "--json")
    assert json.loads(out)["delivered"] == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    # closing the dispute record (维权单) makes its closing document with the responsible parties
    code, out, err = hub(
        capsys,
        db_url,
        "erp",
        "close-dispute",
        str(ids["C6"]),
        "--department",
        "仓库",
        "--person",
        "张三",
        "--penalty-yuan",
        "30",
    )
    assert code == 0, err
    code, out, _ = hub(capsys, db_url, "erp", "run", "--json")
    assert json.loads(out)["made"] == 1
    dispute = read_csv(folder / "dispute.csv")
    closed = next(r for r in dispute[1:] if r[2] == "closed")
    head = dispute[0]
    assert (closed[head.index("责任部门")], closed[head.index("责任人")], closed[head.index("罚款(元)")]) == (
        "仓库",
        "张三",
        "30.00",
    )
    code, out, _ = hub(
        capsys, db_url, "erp", "close-dispute", str(ids["C6"]), "--department", "x", "--person", "y"
    )
    assert "closed before" in out

    # visible on the case
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["C1"]))
    assert "ERP documents:" in out and f"TH-{ids['C1']:06d}-RK  return received" in out
    assert "files delivered" in out
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["C1"]), "--json")
    docs = json.loads(out)["erp_documents"]
    assert [d["step"] for d in docs] == ["registered", "received", "settled"]
    assert all(d["deliveries"][0]["status"] == "delivered" for d in docs)

    code, out, _ = hub(capsys, db_url, "sink", "list")
    assert "files  file" in out and "delivered 12" in out


def test_sink_bad_input(tmp_path: Path, monkeypatch, capsys):
    env(monkeypatch, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    assert hub(capsys, url, "db", "upgrade")[0] == 0
    code, _, err = hub(capsys, url, "sink", "add", "x", "--kind", "file")
    assert code == 2 and "needs a folder (--dir)" in err
    code, _, err = hub(capsys, url, "sink", "add", "x", "--kind", "webhook", "--url", "ftp://x")
    assert code == 2 and "http(s) URL" in err
    code, _, err = hub(capsys, url, "sink", "add", "x", "--kind", "fax", "--dir", "d")
    assert code == 2 and "unknown sink kind 'fax'" in err
    code, _, err = hub(capsys, url, "sink", "add", "x", "--kind", "file", "--dir", "d", "--kinds", "invoice")
    assert code == 2 and "unknown document kind invoice" in err
    assert hub(capsys, url, "sink", "add", "x", "--kind", "file", "--dir", "d")[0] == 0
    code, _, err = hub(capsys, url, "sink", "add", "x", "--kind", "file", "--dir", "d")
    assert code == 2 and "already exists" in err
    code, _, err = hub(capsys, url, "sink", "remove", "nope")
    assert code != 0 and "no sink named 'nope'" in err
    code, _, err = hub(
        capsys,
        url,
        "erp",
        "close-dispute",
        "1",
        "--department",
        "d",
        "--person",
        "p",
        "--penalty-yuan",
        "1.234",
    )
    assert code == 2 and "more than two decimals" in err


class Receiver:
    """A webhook receiver on loopback: refuses while ``failing``, checks every signature."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.failing = True
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(outer.secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(want, self.headers.get("X-Hub-Signature-256", "")):
                    outer.bad_signatures += 1
                    self.send_response(401)
                elif outer.failing:
                    outer.refused += 1
                    self.send_response(503)
                else:
                    doc = json.loads(body)
                    assert self.headers["Idempotency-Key"] == doc["idempotency_key"]
                    outer.accepted.append(doc)
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"busy" if outer.failing else b"ok")

            def log_message(self, *a: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/erp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver("s3cret")
    yield r
    r.close()


def test_webhook_sink_signed_retried_never_twice(db_url: str, tmp_path: Path, monkeypatch, capsys, receiver):
    env(monkeypatch, tmp_path)
    monkeypatch.setenv("ERP_HOOK_SECRET", "s3cret")
    assert hub(capsys, db_url, "db", "upgrade")[0] == 0
    ids = seed_erp(db_url)
    code, _, err = hub(
        capsys,
        db_url,
        "sink",
        "add",
        "hook",
        "--kind",
        "webhook",
        "--url",
        receiver.url,
        "--secret",
        "env:ERP_HOOK_SECRET",
        "--kinds",
        "compensation_refund,return",
    )
    assert code == 0, err

    # the receiver is down: each delivery is tried a few times, then recorded as failed
    code, out, _ = hub(capsys, db_url, "erp", "run", "--json")
    res = json.loads(out)
    assert code == 1 and res["delivered"] == 0 and res["failed"] == 7  # C1 x3, C2, C3, C6, C8
    assert receiver.refused == 21 and receiver.bad_signatures == 0
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["C2"]))
    assert "hook failed (HTTP 503: busy)" in out
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["C2"]), "--json")
    (doc,) = json.loads(out)["erp_documents"]
    assert doc["deliveries"][0]["status"] == "failed" and doc["deliveries"][0]["next_attempt_at"]

    # the back-off has not passed: the next pass sends nothing
    receiver.failing = False
    code, out, _ = hub(capsys, db_url, "erp", "run", "--json")
    assert json.loads(out)["delivered"] == 0 and not receiver.accepted

    # replay retries the failed ones now; a later replay re-sends nothing
    code, out, _ = hub(capsys, db_url, "sink", "replay", "hook")
    assert code == 0 and "delivered 7, failed 0" in out
    numbers = [d["number"] for d in receiver.accepted]
    assert len(numbers) == len(set(numbers)) == 7
    c2 = next(d for d in receiver.accepted if d["case_id"] == ids["C2"])
    assert c2["amount_fen"] == 1200 and c2["amount_yuan"] == "12.00" and c2["refund_type"] == "仅退款"
    assert c2["platform_order_id"] == "O2" and c2["items"] == [
        {"sku": "SKU-RED-M", "title": "连衣裙 红色 M", "qty": 2}
    ]
    code, out, _ = hub(capsys, db_url, "sink", "replay", "hook")
    assert "delivered 0" in out and len(receiver.accepted) == 7
    code, out, _ = hub(capsys, db_url, "case", "show", str(ids["C2"]))
    assert "hook delivered" in out


def test_xlsx_file_sink_appends(tmp_path: Path, monkeypatch, capsys):
    from openpyxl import load_workbook

    env(monkeypatch, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    assert hub(capsys, url, "db", "upgrade")[0] == 0
    seed_erp(url)
    folder = tmp_path / "x"
    assert (
        hub(
            capsys,
            url,
            "sink",
            "add",
            "x",
            "--kind",
            "file",
            "--format",
            "xlsx",
            "--dir",
            str(folder),
            "--kinds",
            "return",
            "--warehouse",
            "杭州仓",
        )[0]
        == 0
    )
    assert hub(capsys, url, "erp", "run")[0] == 0
    rows = list(load_workbook(folder / "return.xlsx").active.iter_rows(values_only=True))
    assert rows[0][0] == "单据编号" and len(rows) == 6  # header + C1 x3 + C6 + C8 registered
    assert rows[1][rows[0].index("仓库")] == "杭州仓"
