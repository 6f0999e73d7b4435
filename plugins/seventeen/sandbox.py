"""A simulated 17网 account: a month of purchases and returns, written as the merchant's exports.

17网 has no API, so its sandbox serves nothing: it writes the files a merchant downloads from
17网 (订单导出 as GBK CSV and XLSX, 退货导出 as UTF-8 CSV and XLSX, overlapping so re-imports are
proven harmless) into the import folder, and a simulated 代发 moves the returns along a clock it
controls (signs parcels, takes them to the stall, refunds at the stall's current price, confirms
receipt 12 days after shipment), re-writing the exports as time passes. Deterministic for a seed,
relative to the clock's now so the demo's deadlines look real.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.clock import CST
from hub.money import fen_to_yuan
from hub.platform import DemoShop
from hub.testing.fake_server import FakeClock, WallClock

#: The sale orders the demo's purchases fulfil, written in the purchase remarks (see README.md,
#: "Demo links"). Plugins never import each other, so these follow the other sandboxes' id schemes.
#: Taobao demo trades 310, 311 (agreed returns the buyer must ship), 314 (a return on its way back)
#: and 305 (a return request) of plugins/taobao/sandbox.py's 淘宝演示店: tid = 2231958349000 + n * 7919.
DEMO_TAOBAO_TIDS = ("2231960803890", "2231960811809", "2231960835566", "2231960764295")
#: Pinduoduo order_sn is ``YYMMDD-<15 digits>``: the PDD demo generates these two sales (2.5 and
#: 1.5 days old, plugins/pinduoduo/sandbox_data.py LINKED_SUFFIXES), dated in Beijing time.
DEMO_PDD_SUFFIXES = ("900000000000001", "900000000000002")

STALLS = ("沙河南城 3F-A128 衣丽坊", "十三行 新中国大厦 5F-520 潮品", "沙河富壹 2F-B066 简约风")
ADDRESS = "广州市白云区沙河镇 17网代发仓 退货组 (收件人: 代发退货 020-1717xxxx)"
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周婷", "吴昊")
COURIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递")
STYLES = (  # (货号, 商品名称, 类目, price fen)
    ("A8821", "法式碎花连衣裙 收腰显瘦", "连衣裙", 5800),
    ("B3307", "宽松纯棉T恤 女 夏", "T恤", 2200),
    ("C1190", "高腰阔腿牛仔裤", "牛仔裤", 4500),
    ("D5012", "针织开衫 外搭", "针织衫", 3900),
    ("E7730", "冰丝防晒衬衫", "衬衫", 3300),
)
COLORS = ("黑色", "白色", "杏色", "蓝色", "粉色")
SIZES = ("S", "M", "L", "XL")

PURCHASE_HEADERS = (
    "订单号",
    "下单时间",
    "付款时间",
    "发货时间",
    "完成时间",
    "更新时间",
    "订单状态",
    "档口",
    "货号",
    "商品名称",
    "颜色",
    "尺码",
    "类目",
    "数量",
    "单价",
    "档口现价",
    "商品状态",
    "特价",
    "拿货状态",
    "发货方式",
    "代发费",
    "运费",
    "实付金额",
    "收货人",
    "联系电话",
    "收货地址",
    "快递公司",
    "快递单号",
    "备注",
)
RETURN_HEADERS = (
    "退货单号",
    "订单号",
    "申请时间",
    "退货状态",
    "售后类型",
    "退货原因",
    "货号",
    "颜色",
    "尺码",
    "退货数量",
    "商品状况",
    "退货快递公司",
    "退货运单号",
    "退货地址",
    "代发签收时间",
    "退款金额",
    "完成时间",
    "更新时间",
    "处理说明",
)


@dataclass
class SimLine:
    style_no: str
    title: str
    category: str
    color: str
    size: str
    qty: int
    price_fen: int
    stall: str
    current_fen: int | None = None
    delisted: bool = False
    special: bool = False
    line_status: str = "已拿货"


@dataclass
class SimPurchase:
    order_id: str
    created: datetime
    lines: list[SimLine]
    recipient: str
    phone: str
    remark: str = ""
    status: str = "已发货"
    paid: datetime | None = None
    shipped: datetime | None = None
    completed: datetime | None = None
    updated: datetime | None = None
    courier: str = ""
    waybill: str = ""
    ship_option: str = "等齐再发"
    fee_fen: int = 300
    postage_fen: int = 500

    @property
    def total_fen(self) -> int:
        return sum(ln.price_fen * ln.qty for ln in self.lines) + self.fee_fen + self.postage_fen


@dataclass
class SimReturn:
    return_id: str
    order_id: str
    line: int
    qty: int
    applied: datetime
    status: str
    reason: str
    type: str = "退货退款"
    condition: str = "完好"
    courier: str = ""
    waybill: str = ""
    address: str = ""
    signed: datetime | None = None
    refund_fen: int | None = None
    completed: datetime | None = None
    updated: datetime | None = None
    note: str = ""
    corrupt: bool = False


@dataclass
class ExportWorld:
    """17网 as the merchant sees it through exports, with a simulated 代发 on a controllable clock."""

    clock: FakeClock = field(default_factory=FakeClock)
    seed: int = 17
    purchases: dict[str, SimPurchase] = field(default_factory=dict)
    returns: dict[str, SimReturn] = field(default_factory=dict)
    sale_links: dict[str, str] = field(default_factory=dict)  #: purchase id -> sale id in its remark
    extra_files: list[Path] = field(default_factory=list)
    transit: timedelta = timedelta(days=2)
    processing: timedelta = timedelta(days=4)

    # ------------------------------------------------------------------ generation
    def generate(self, *, filler: int = 24) -> None:
        now = self.clock.now()
        rng = random.Random(self.seed)
        self.purchases.clear()
        self.returns.clear()
        seq = [0]

        def order_id(at: datetime) -> str:
            seq[0] += 1
            return f"17{at.astimezone(CST):%y%m%d}{seq[0]:06d}"

        def line(
            style: int = -1, color: str | None = None, size: str | None = None, qty: int = 1, **kw: Any
        ) -> SimLine:
            s = STYLES[style if style >= 0 else rng.randrange(len(STYLES))]
            fields: dict[str, Any] = {"title": s[1], "category": s[2], "current_fen": s[3], **kw}
            return SimLine(
                style_no=s[0],
                color=color or rng.choice(COLORS),
                size=size or rng.choice(SIZES),
                qty=qty,
                price_fen=s[3],
                stall=STALLS[int(s[0][1:]) % len(STALLS)],
                **fields,
            )

        def purchase(
            age_days: float,
            lines: list[SimLine],
            *,
            ship_after_h: float | None = 20,
            remark: str = "",
            status: str | None = None,
            **kw: Any,
        ) -> SimPurchase:
            created = now - timedelta(days=age_days)
            p = SimPurchase(
                order_id=order_id(created),
                created=created,
                lines=lines,
                recipient=rng.choice(NAMES),
                phone=f"13{rng.randint(0, 10**9 - 1):09d}",
                remark=remark,
                paid=created + timedelta(minutes=rng.randint(1, 20)),
                **kw,
            )
            if ship_after_h is not None and created + timedelta(hours=ship_after_h) < now:
                p.shipped = created + timedelta(hours=ship_after_h)
                p.courier = rng.choice(COURIERS)
                p.waybill = f"ZT{rng.randint(10**11, 10**12 - 1)}"
                p.status = "已发货"
            else:
                p.status = "拿货中"
            if status:
                p.status = status
            p.updated = max(t for t in (p.created, p.paid, p.shipped) if t)
            self.purchases[p.order_id] = p
            return p

        def sale_id(kind: str, n: int, day: datetime) -> str:
            return f"{day.astimezone(CST):%y%m%d}-{DEMO_PDD_SUFFIXES[n]}"

        def ret(
            p: SimPurchase,
            status: str,
            applied_days_ago: float,
            *,
            line_no: int = 0,
            qty: int | None = None,
            **kw: Any,
        ) -> SimReturn:
            rid = f"TH{p.order_id[2:]}{len(self.returns) + 1:02d}"
            applied = now - timedelta(days=applied_days_ago)
            r = SimReturn(
                return_id=rid,
                order_id=p.order_id,
                line=line_no,
                qty=qty if qty is not None else p.lines[line_no].qty,
                applied=applied,
                status=status,
                reason=kw.pop("reason", "尺码不合适"),
                **kw,
            )
            r.updated = max(t for t in (r.applied, r.signed, r.completed) if t)
            self.returns[rid] = r
            p.status = "退货中" if status not in ("退货成功", "已关闭", "已取消", "已寄回商家") else p.status
            return r

        # -- linked purchases: the sale ids in their remarks (the demo's return chains) -------------
        tb = DEMO_TAOBAO_TIDS
        p = purchase(11.9, [line(0, "黑色", "M")], ship_after_h=7, remark=f"淘宝 {tb[0]} 买家退货中")
        self.sale_links[p.order_id] = tb[0]  # the buyer must still ship: 17网 auto-confirms first
        intimate = line(1, "白色", "L", category="内衣", title="无痕内衣 套装")
        p = purchase(11.9, [intimate], remark=f"tb:{tb[1]}")
        self.sale_links[p.order_id] = tb[1]  # intimate: the stall takes nothing back
        p = purchase(14.9, [line(0, "杏色", "S", current_fen=4800)], ship_after_h=10, remark=tb[2])
        self.sale_links[p.order_id] = tb[2]  # the price dropped 58 -> 48 yuan; already applied on 17网
        ret(p, "待审核", 0.9, reason="买家退货(淘宝)")
        p = purchase(2.9, [line(3, c, "M") for c in ("黑色", "白色", "杏色")], remark=f"淘宝单号{tb[3]}")
        self.sale_links[p.order_id] = tb[3]  # 看版: one size, 3 colours
        # Pinduoduo sales of 2.5 and 1.5 days ago (plugins/pinduoduo/sandbox_data.py LINKED_SUFFIXES).
        for n, age in enumerate((2.5, 1.5)):
            sale = sale_id("pdd", n, now - timedelta(days=age))
            p = purchase(age, [line(2 + n, "蓝色", "L")], remark=f"拼多多 {sale}")
            self.sale_links[p.order_id] = sale

        # -- every 17网 return state ----------------------------------------------------------------
        p = purchase(9, [line(4, "白色", "M")])
        ret(p, "待审核", 0.5)
        p = purchase(8, [line(2, "黑色", "M")])
        ret(p, "代发已同意", 1.5, address=ADDRESS)
        p = purchase(10, [line(0, "粉色", "L")])
        ret(
            p,
            "已寄回",
            2.5,
            address=ADDRESS,
            courier="中通快递",
            waybill=f"ZT{rng.randint(10**11, 10**12 - 1)}",
        )
        p = purchase(12, [line(1, "黑色", "S", qty=2)])
        ret(
            p,
            "代发已签收",
            4,
            address=ADDRESS,
            courier="圆通速递",
            waybill=f"YT{rng.randint(10**11, 10**12 - 1)}",
            signed=now - timedelta(days=2),
        )
        p = purchase(16, [line(3, "杏色", "L")])
        ret(
            p,
            "档口处理中",
            9,
            address=ADDRESS,
            courier="韵达快递",
            waybill=f"YD{rng.randint(10**11, 10**12 - 1)}",
            signed=now - timedelta(days=7),
            note="大促期间处理延迟",
        )  # overdue: 3-5 days passed
        p = purchase(20, [line(0, "黑色", "L", current_fen=5000)])
        ret(
            p,
            "退货成功",
            12,
            address=ADDRESS,
            courier="中通快递",
            waybill=f"ZT{rng.randint(10**11, 10**12 - 1)}",
            signed=now - timedelta(days=9),
            refund_fen=5000,
            completed=now - timedelta(days=5),
            note="档口按当前售价退货 50.00",
        )
        p = purchase(22, [line(4, "蓝色", "M", special=True)])
        ret(
            p,
            "退货失败",
            14,
            address=ADDRESS,
            courier="申通快递",
            waybill=f"ST{rng.randint(10**11, 10**12 - 1)}",
            signed=now - timedelta(days=11),
            completed=now - timedelta(days=7),
            note="特价商品档口不退",
        )
        p = purchase(7, [line(1, "白色", "M")])
        ret(p, "待审核", 1, type="换货", reason="换尺码")  # no exchange on 17网
        p = purchase(15, [line(2, "黑色", "S")])
        ret(p, "已取消", 10, completed=now - timedelta(days=9))
        p = purchase(13, [line(3, "黑色", "L", qty=5)])
        ret(p, "待审核", 2, qty=5, reason="买家退货")  # over the style cap (demo cap 3)
        p = purchase(9.5, [line(4, "杏色", "S")])
        ret(p, "待仓库质检", 1.2, reason="质量问题")  # a status this plugin does not know: kept, flagged
        p = purchase(11, [line(0, "白色", "M")])
        ret(p, "待审核", 0.8, condition="已水洗", reason="不想要了")  # washed: not returnable

        # -- orders in every other state ----------------------------------------------------------
        purchase(
            1,
            [line(1, "黑色", "M", line_status="缺货"), line(2, "白色", "S")],
            ship_after_h=None,
            status="缺货",
            ship_option="下单三天有货先发",
        )
        purchase(
            2,
            [line(3, "粉色", "S", delisted=True, line_status="已下架")],
            ship_after_h=None,
            status="下架退款中",
        )
        purchase(0.2, [line()], ship_after_h=None, status="待付款")
        purchase(6, [line()], ship_after_h=None, status="已取消")
        for _ in range(filler):
            age = rng.uniform(0.5, 30)
            p = purchase(age, [line(qty=rng.choice((1, 1, 2)))])
            if p.shipped and p.shipped + timedelta(days=12) <= now:
                p.status, p.completed = "交易成功", p.shipped + timedelta(days=12)
                p.updated = p.completed
        for p in self.purchases.values():
            if p.status == "待付款":
                p.paid = None
            if p.status == "已发货" and p.shipped and p.shipped + timedelta(days=12) <= now:
                p.status, p.completed = "交易成功", p.shipped + timedelta(days=12)
            p.updated = max(t for t in (p.created, p.paid, p.shipped, p.completed) if t)

    # ------------------------------------------------------------------ the simulated 代发
    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.tick()

    def tick(self) -> None:
        """Move every record as far as the clock allows, each change at the time it happened."""
        now = self.clock.now()
        for r in self.returns.values():
            p = self.purchases[r.order_id]
            ln = p.lines[r.line]
            if r.status == "待审核" and r.applied + timedelta(days=1) <= now:
                r.status, r.address, r.updated = "代发已同意", ADDRESS, r.applied + timedelta(days=1)
            if r.status == "已寄回" and r.updated and r.updated + self.transit <= now:
                r.signed = r.updated + self.transit
                r.status, r.updated = "代发已签收", r.signed
            if r.status in ("代发已签收", "档口处理中") and r.signed and r.signed + self.processing <= now:
                done = r.signed + self.processing
                if ln.delisted or ln.special or ln.category == "内衣":
                    r.status, r.note = "退货失败", "档口拒退"
                else:
                    r.status = "退货成功"
                    r.refund_fen = (ln.current_fen if ln.current_fen is not None else ln.price_fen) * r.qty
                r.completed = r.updated = done
                p.updated = max(p.updated or done, done)
        for p in self.purchases.values():
            if p.status == "已发货" and p.shipped and p.shipped + timedelta(days=12) <= now:
                p.status, p.completed = "交易成功", p.shipped + timedelta(days=12)
                p.updated = p.completed
            if (
                p.status == "缺货"
                and p.ship_option == "下单三天有货先发"
                and p.created + timedelta(days=3) <= now
            ):
                p.status, p.shipped = "已发货", p.created + timedelta(days=3)
                p.courier, p.waybill = COURIERS[0], f"ZT{p.order_id[-9:]}"
                p.updated = p.shipped

    def ship_return(self, return_id: str, waybill: str) -> None:
        """The merchant shipped an agreed return (what they also record with enter_return_waybill)."""
        r = self.returns[return_id]
        r.status, r.waybill, r.courier, r.updated = "已寄回", waybill, COURIERS[1], self.clock.now()

    # ------------------------------------------------------------------ harness helpers
    def expected_counts(self) -> dict[str, int]:
        return {"purchase": len(self.purchases), "purchase_return": len(self.returns)}

    def corrupt_one(self) -> str:
        """Blank the order number of one open return (the file still reads; the record cannot map)."""
        r = next(r for r in self.returns.values() if r.status in ("待审核", "代发已同意") and not r.corrupt)
        r.corrupt, r.updated = True, self.clock.now()
        return r.return_id

    def modify_one(self) -> str:
        """Move one open return a step on, as of now."""
        now = self.clock.now()
        for r in self.returns.values():
            if r.corrupt:
                continue
            if r.status == "待审核":
                r.status, r.address, r.updated = "代发已同意", ADDRESS, now
                return r.return_id
            if r.status == "代发已同意":
                r.status, r.waybill, r.courier, r.updated = "已寄回", f"YD{now:%m%d%H%M%S}", COURIERS[2], now
                return r.return_id
        raise LookupError("no open return left to modify")

    # ------------------------------------------------------------------ the export files
    def purchase_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = []
        for p in sorted(self.purchases.values(), key=lambda x: x.created):
            for ln in p.lines:
                rows.append(
                    [
                        p.order_id,
                        p.created,
                        p.paid,
                        p.shipped,
                        p.completed,
                        p.updated,
                        p.status,
                        ln.stall,
                        ln.style_no,
                        ln.title,
                        ln.color,
                        ln.size,
                        ln.category,
                        ln.qty,
                        ln.price_fen,
                        ln.current_fen,
                        "已下架" if ln.delisted else "在售",
                        "是" if ln.special else "否",
                        ln.line_status,
                        p.ship_option,
                        p.fee_fen,
                        p.postage_fen,
                        p.total_fen if p.paid else None,
                        p.recipient,
                        p.phone,
                        "浙江省杭州市西湖区文三路 100 号",
                        p.courier,
                        p.waybill,
                        p.remark,
                    ]
                )
        return rows

    def return_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = []
        for r in sorted(self.returns.values(), key=lambda x: x.applied):
            ln = self.purchases[r.order_id].lines[r.line]
            rows.append(
                [
                    r.return_id,
                    "" if r.corrupt else r.order_id,
                    r.applied,
                    r.status,
                    r.type,
                    r.reason,
                    ln.style_no,
                    ln.color,
                    ln.size,
                    r.qty,
                    r.condition,
                    r.courier,
                    r.waybill,
                    r.address,
                    r.signed,
                    r.refund_fen,
                    r.completed,
                    r.updated,
                    r.note,
                ]
            )
        return rows

    def write(self, folder: Path) -> list[Path]:
        """Write the exports: every order as a GBK CSV, the last 10 days again as XLSX; every return
        as a UTF-8 CSV, the last 7 days again as XLSX. Overlaps are deliberate."""
        folder.mkdir(parents=True, exist_ok=True)
        now = self.clock.now()
        prows, rrows = self.purchase_rows(), self.return_rows()
        recent_p = [r for r in prows if r[1] >= now - timedelta(days=10)]
        recent_r = [r for r in rrows if r[2] >= now - timedelta(days=7)]
        paths = [
            write_csv(
                folder / "17网订单导出_近30天.csv",
                PURCHASE_HEADERS,
                prows,
                "gb18030",
                money_cols=(14, 15, 20, 21, 22),
            ),
            write_xlsx(
                folder / "17网订单导出_近10天.xlsx",
                PURCHASE_HEADERS,
                recent_p,
                money_cols=(14, 15, 20, 21, 22),
            ),
            write_csv(folder / "17网退货导出.csv", RETURN_HEADERS, rrows, "utf-8-sig", money_cols=(15,)),
            write_xlsx(folder / "17网退货导出_近7天.xlsx", RETURN_HEADERS, recent_r, money_cols=(15,)),
        ]
        return paths

    def write_malformed(self, folder: Path) -> Path:
        """An export with a bad date: reported as a problem, none of it imported."""
        rows = self.purchase_rows()[:2]
        for row in rows:
            row[1] = "2026-13-45 25:61:00"
        path = write_csv(
            folder / f"17网订单导出_坏文件{len(self.extra_files) + 1}.csv",
            PURCHASE_HEADERS,
            rows,
            "utf-8",
            money_cols=(14, 15, 20, 21, 22),
        )
        self.extra_files.append(path)
        return path


def _cell(value: Any, money: bool) -> Any:
    if value is None:
        return ""
    if money and isinstance(value, int):
        return fen_to_yuan(value)
    if isinstance(value, datetime):
        return value.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    return value


def write_csv(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    encoding: str,
    money_cols: Sequence[int] = (),
) -> Path:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v, i in money_cols) for i, v in enumerate(row)])
    tmp = path.with_name(path.name + ".part")  # written aside, then renamed: never read half-written
    tmp.write_bytes(buf.getvalue().encode(encoding))
    tmp.replace(path)
    return path


def write_xlsx(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]], money_cols: Sequence[int] = ()
) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "导出数据"
    sheet.append(["17网 一起做网店 数据导出"])  # a title line above the header, as Excel exports have
    sheet.append(list(headers))
    for row in rows:
        out: list[Any] = []
        for i, v in enumerate(row):
            if isinstance(v, datetime):
                out.append(v.astimezone(CST).replace(tzinfo=None))  # Excel has no time zones
            elif i in money_cols and isinstance(v, int):
                out.append(v / 100)  # a float of yuan, as Excel keeps it
            else:
                out.append(v)
        sheet.append(out)
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
    return path


class SeventeenSandbox:
    """The sandbox ``hub demo`` starts: writes the exports and offers one shop reading them."""

    def __init__(self, *, clock: FakeClock | None = None, seed: int = 17) -> None:
        self._real_time = clock is None
        self.world = ExportWorld(clock=clock or WallClock(), seed=seed)  # the demo's follows real time
        self.folder: Path | None = None

    async def start(self, workdir: str) -> Sequence[DemoShop]:
        if self._real_time:
            self.world.clock.set(datetime.now(UTC).replace(microsecond=0))
        self.world.generate()
        self.folder = Path(workdir) / "seventeen" / "imports"
        self.world.write(self.folder)
        return [DemoShop(name="17网代发", settings={"import_dir": str(self.folder), "style_return_cap": "3"})]

    def advance(self, delta: timedelta) -> None:
        """Move the clock; the simulated 代发 acts and the exports are downloaded again."""
        self.world.advance(delta)
        if self.folder is not None:
            self.world.write(self.folder)

    async def stop(self) -> None:
        return None  # nothing served: the files stay for the merchant to look at
