"""The columns of 17网's order and after-sales exports, and a shop's own overrides.

17网 publishes no API and no export specification (no SDK, no documentation; only private site
endpoints), so this table is the contract: each field has the Chinese header the exports carry by
default, a few aliases seen in re-saved or older exports, and whether the file is refused without
it. A shop whose export reads differently maps its headers with the ``columns`` setting (JSON
``{"field": "header"}``; a key ``purchase.<field>`` or ``return.<field>`` limits it to one kind of
file) or with settings named ``column.<field>``. Headers not in the table are refused unless
``ignore_columns`` lists them, so a changed export format is noticed instead of silently mis-read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import ConfigError


class FileKind(StrEnum):
    PURCHASE = "purchase"  #: 订单导出: one row per order line
    RETURN = "return"  #: 退款退货导出: one row per after-sales case


class ValueType(StrEnum):
    TEXT = "text"
    ID = "id"  #: an identifier: digits Excel may have turned into a number
    TIME = "time"  #: Beijing time
    YUAN = "yuan"  #: an amount in yuan, stored as fen
    INT = "int"
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    type: ValueType = ValueType.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


T = ValueType

PURCHASE_COLUMNS: tuple[Column, ...] = (
    Column("order_id", "订单号", T.ID, True, ("订单编号", "17网订单号"), "the 17网 order number"),
    Column("created_at", "下单时间", T.TIME, True, ("创建时间",), "when the merchant ordered"),
    Column("status", "订单状态", T.TEXT, True, ("状态",), "the order's status, raw"),
    Column("style_no", "货号", T.TEXT, True, ("商品货号", "款号"), "the stall's style number"),
    Column("quantity", "数量", T.INT, True, ("购买数量",), "pieces of this line"),
    Column("unit_price", "单价", T.YUAN, True, ("拿货价", "商品单价"), "price paid per piece (yuan)"),
    Column("line_id", "子订单号", T.ID, False, ("商品编号",), "the line's own id, when exported"),
    Column("paid_at", "付款时间", T.TIME),
    Column("shipped_at", "发货时间", T.TIME),
    Column("completed_at", "完成时间", T.TIME, False, ("交易成功时间", "确认收货时间")),
    Column("updated_at", "更新时间", T.TIME, False, ("最后更新时间",)),
    Column("title", "商品名称", T.TEXT, False, ("商品标题",)),
    Column("color", "颜色", T.TEXT, False, ("颜色分类",)),
    Column("size", "尺码", T.TEXT, False, ("尺寸",)),
    Column("category", "类目", T.TEXT, False, ("商品类目",)),
    Column("stall", "档口", T.TEXT, False, ("档口名称", "供应商")),
    Column("market", "市场", T.TEXT),
    Column("current_price", "档口现价", T.YUAN, False, ("当前价", "现价"), "the stall's price today"),
    Column("item_status", "商品状态", T.TEXT, False, (), "在售 / 已下架"),
    Column("special_price", "特价", T.BOOL, False, ("是否特价",)),
    Column("line_status", "拿货状态", T.TEXT, False, ("商品拿货状态",), "已拿货 / 缺货 / 已下架"),
    Column("ship_option", "发货方式", T.TEXT, False, (), "e.g. 下单三天有货先发"),
    Column("service_fee", "代发费", T.YUAN, False, ("服务费",)),
    Column("postage", "运费", T.YUAN, False, ("快递费",)),
    Column("paid_total", "实付金额", T.YUAN, False, ("订单金额", "实付款")),
    Column("recipient", "收货人", T.TEXT, False, ("收件人",)),
    Column("phone", "联系电话", T.TEXT, False, ("手机", "收货人手机")),
    Column("address", "收货地址", T.TEXT, False, ("详细地址",)),
    Column("courier", "快递公司", T.TEXT, False, ("物流公司",)),
    Column("waybill", "快递单号", T.ID, False, ("运单号", "物流单号")),
    Column("remark", "备注", T.TEXT, False, ("订单备注", "卖家备注"), "the sale order id goes here"),
)

RETURN_COLUMNS: tuple[Column, ...] = (
    Column("return_id", "退货单号", T.ID, True, ("售后单号", "退款单号"), "the 17网 after-sales number"),
    Column("order_id", "订单号", T.ID, True, ("订单编号", "17网订单号")),
    Column("applied_at", "申请时间", T.TIME, True, ("创建时间",)),
    Column("status", "退货状态", T.TEXT, True, ("售后状态", "状态")),
    Column("type", "售后类型", T.TEXT, False, ("类型",), "退货退款 / 仅退款 / 换货"),
    Column("reason", "退货原因", T.TEXT, False, ("退款原因",)),
    Column("style_no", "货号", T.TEXT, False, ("商品货号", "款号")),
    Column("color", "颜色", T.TEXT, False, ("颜色分类",)),
    Column("size", "尺码", T.TEXT, False, ("尺寸",)),
    Column("quantity", "退货数量", T.INT, False, ("数量",)),
    Column("condition", "商品状况", T.TEXT, False, ("货品状况",), "完好 / 已水洗 / 剪吊牌 ..."),
    Column("return_courier", "退货快递公司", T.TEXT, False, ("退货物流公司",)),
    Column("return_waybill", "退货运单号", T.ID, False, ("退货快递单号", "退回单号")),
    Column("return_address", "退货地址", T.TEXT),
    Column("daifa_signed_at", "代发签收时间", T.TIME, False, ("签收时间",)),
    Column("refund_amount", "退款金额", T.YUAN, False, ("实退金额",)),
    Column("completed_at", "完成时间", T.TIME, False, ("处理时间",)),
    Column("updated_at", "更新时间", T.TIME, False, ("最后更新时间",)),
    Column("note", "处理说明", T.TEXT, False, ("备注", "说明")),
)

COLUMNS: Mapping[FileKind, tuple[Column, ...]] = {
    FileKind.PURCHASE: PURCHASE_COLUMNS,
    FileKind.RETURN: RETURN_COLUMNS,
}
#: The field whose header tells the two kinds of file apart.
KEY_FIELD: Mapping[FileKind, str] = {FileKind.PURCHASE: "order_id", FileKind.RETURN: "return_id"}


@dataclass(frozen=True)
class ColumnMap:
    """A shop's headers for one kind of file: header text -> field, and the header each field expects."""

    kind: FileKind
    by_header: Mapping[str, Column]
    expected: Mapping[str, str]  #: field -> the header shown in errors (the override or the default)
    ignored: frozenset[str]

    def column(self, field: str) -> Column:
        return next(c for c in COLUMNS[self.kind] if c.field == field)


def _overrides(settings: Mapping[str, str]) -> dict[str, str]:
    """``columns`` JSON plus ``column.<field>`` settings, the latter winning."""
    out: dict[str, str] = {}
    raw = (settings.get("columns") or "").strip()
    if raw:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ConfigError(f"setting 'columns' is not JSON: {err}") from err
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ConfigError(
                'setting \'columns\' must be a JSON object of field -> header, e.g. {"remark": "留言"}'
            )
        out.update({str(k): v for k, v in data.items()})
    for key, value in settings.items():
        if key.startswith("column.") and value:
            out[key[len("column.") :]] = value
    known = {c.field for cols in COLUMNS.values() for c in cols}
    for key in out:
        field = key.split(".", 1)[1] if key.split(".", 1)[0] in ("purchase", "return") and "." in key else key
        if field not in known:
            raise ConfigError(
                f"column override names unknown field {key!r} (known: {', '.join(sorted(known))})"
            )
    return out


def normalise_header(text: str) -> str:
    """Headers compare without surrounding spaces, full-width brackets or a trailing unit like ``(元)``."""
    text = text.strip().replace("\ufeff", "").replace("（", "(").replace("）", ")")
    for unit in ("(元)", "(件)"):
        if text.endswith(unit):
            text = text[: -len(unit)].strip()
    return text


def column_map(kind: FileKind, settings: Mapping[str, str]) -> ColumnMap:
    """The shop's column map for ``kind``: its overrides first, then the default headers and aliases."""
    overrides = _overrides(settings)
    by_header: dict[str, Column] = {}
    expected: dict[str, str] = {}
    for col in COLUMNS[kind]:
        own = overrides.get(f"{kind.value}.{col.field}") or overrides.get(col.field)
        if own:
            by_header[normalise_header(own)] = col
            expected[col.field] = own
        else:
            expected[col.field] = col.header
            for header in (col.header, *col.aliases):
                by_header.setdefault(normalise_header(header), col)
    ignored = frozenset(
        normalise_header(h)
        for h in (settings.get("ignore_columns") or "").replace("，", ",").split(",")
        if h.strip()
    )
    return ColumnMap(kind=kind, by_header=by_header, expected=expected, ignored=ignored)
