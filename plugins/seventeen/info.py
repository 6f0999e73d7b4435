"""17网's PlatformInfo: settings and capabilities (which actions are recorded, which cannot exist)."""

from __future__ import annotations

from pathlib import Path

from hub.domain import Party
from hub.platform import Capability, ParamSpec, PlatformInfo, SettingSpec

from .chain import SALE_SHIP_DEFAULT, SALE_SHIP_SETTING, TRANSIT_DEFAULT, TRANSIT_SETTING
from .eligibility import DEFAULT_INTIMATE, DEFAULT_UNSELLABLE
from .rules import (
    PROCESSING_DEFAULT,
    PROCESSING_SETTING,
    REFUSED_DEFAULT,
    REFUSED_SETTING,
    SHIP_RETURN_DEFAULT,
    SHIP_RETURN_SETTING,
)

PLATFORM_ID = "seventeen"
NO_API = (
    "17网没有开放接口，请在17网网站上操作"
    " (17网 publishes no API, no SDK, no documentation: do it on the website)"
)

SETTINGS = (
    SettingSpec(
        name="import_dir",
        help="folder of 17网 order and after-sales exports (CSV/XLSX), read every sync; "
        "default: <the shop's data folder>/imports",
        kind="path",
        must_exist=True,  # a folder that is not there is a typo: refused at `hub shop add/set`
    ),
    SettingSpec(
        name="columns",
        help='JSON {"field": "header"} for exports whose headers differ from the defaults; '
        'a key "purchase.<field>" or "return.<field>" applies to one kind of file',
        default="",
    ),
    SettingSpec(
        name="column.*",
        help="column.<field>=<header>: one column's header (wins over the columns JSON)",
    ),
    SettingSpec(
        name="ignore_columns", help='comma-separated headers to skip ("*": every unknown header)', default=""
    ),
    SettingSpec(
        name="import_max_mb",
        help="largest export file read, in MB (a bigger one is refused, named)",
        default="100",
    ),
    SettingSpec(
        name="import_max_rows",
        help="most rows one export may hold (an XLSX can expand to millions; refused, named)",
        default="500000",
    ),
    SettingSpec(
        name=PROCESSING_SETTING,
        help="how long 代发 takes after signing for a return (17网's FAQ: 3-5 days; "
        "raise it for 大促 and holidays)",
        default=PROCESSING_DEFAULT,
    ),
    SettingSpec(
        name=SHIP_RETURN_SETTING,
        help="shop policy: natural days (from the next 00:00 Beijing time) to ship a return and "
        "enter its tracking number once 代发 agreed (17网 states no figure)",
        default=SHIP_RETURN_DEFAULT,
    ),
    SettingSpec(
        name=REFUSED_SETTING,
        help="shop policy: natural days to arrange with 代发 the way back of goods the stall "
        "refused (17网 states no figure)",
        default=REFUSED_DEFAULT,
    ),
    SettingSpec(
        name=SALE_SHIP_SETTING,
        help="shop policy: the sale's ship window from payment, used to flag a 17网 shortage when "
        "the linked sale order states no ship deadline of its own",
        default=SALE_SHIP_DEFAULT,
    ),
    SettingSpec(
        name=TRANSIT_SETTING,
        help="the quickest a buyer's return parcel reaches 代发 (for the return chain)",
        default=TRANSIT_DEFAULT,
    ),
    SettingSpec(
        name="style_return_cap",
        help="pieces of one style the stalls take back (17网's FAQ: 'a certain number', "
        "no figure; empty: not checked)",
        default="",
    ),
    SettingSpec(name="stall_return_caps", help="per-stall caps: 'stall=n,stall2=m'", default=""),
    SettingSpec(
        name="kanban_return_max",
        help="pieces of one style in one size but several colours (看版) a stall "
        "takes back (17网's FAQ: none or partly)",
        default="0",
    ),
    SettingSpec(
        name="intimate_categories",
        help="categories never returnable (贴身衣物), matched against the category data "
        "(类目 column or style_categories), never against product titles",
        default=DEFAULT_INTIMATE,
    ),
    SettingSpec(
        name="style_categories",
        help="货号=类目 pairs, comma-separated, for exports without a 类目 column "
        "(e.g. 'B3307=内衣,C1190=牛仔裤')",
        default="",
    ),
    SettingSpec(
        name="unsellable_conditions",
        help="extra condition words that make goods unsellable (影响二次销售), on top of the "
        "built-in phrasings (washed, tag cut, worn, smells ...); a negation before one cancels it",
        default=DEFAULT_UNSELLABLE,
    ),
)

_RECORDED = "recorded in hub's 17网 ledger after you did it on 17网 (no API)"

CAPABILITIES = (
    Capability(
        action="apply_return",
        label="Return applied on 17网",
        label_zh="已线上申请退货",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="return_id",
                help="the 退货单号 17网 shows (so later exports merge into this case)",
                label_zh="退货单号",
                help_zh="17网显示的退货单号（以后导入的数据会并入本单）",
            ),
            ParamSpec(name="quantity", help="pieces to return", type="integer", label_zh="退货件数"),
            ParamSpec(
                name="style_no",
                help="货号 of the line returned (when the order has several)",
                label_zh="货号",
                help_zh="订单有多个商品时填写",
            ),
            ParamSpec(name="color", help="颜色", label_zh="颜色"),
            ParamSpec(name="size", help="尺码", label_zh="尺码"),
            ParamSpec(
                name="reason",
                help="退货原因 as chosen on 17网 (a wrong reason forfeits compensation)",
                label_zh="退货原因",
                help_zh="与17网上选择的一致（原因选错将失去赔付）",
            ),
            ParamSpec(
                name="condition",
                help="condition of the goods (washed, tags cut ...)",
                label_zh="商品状况",
                help_zh="例如：已洗过、吊牌已剪",
            ),
        ),
    ),
    Capability(
        action="daifa_agreed",
        label="代发 agreed",
        label_zh="代发已同意",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="return_address",
                help="the return address 代发 gave",
                required=True,
                label_zh="退货地址",
                help_zh="代发给出的退货地址",
            ),
        ),
    ),
    Capability(
        action="enter_return_waybill",
        label="Return waybill entered",
        label_zh="已填写退货运单号",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="waybill",
                help="the return parcel's own tracking number",
                required=True,
                label_zh="退货运单号",
                help_zh="退回包裹自己的快递单号",
            ),
            ParamSpec(name="courier", help="快递公司", label_zh="快递公司"),
            ParamSpec(
                name="mid_way_recall",
                help="the parcel was recalled mid-way (17网's outbound number is then accepted)",
                type="boolean",
                label_zh="中途拦截召回",
                help_zh="包裹中途召回时，可填17网寄出的单号",
            ),
        ),
    ),
    Capability(
        action="daifa_signed",
        label="代发 signed for the return",
        label_zh="代发已签收",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="signed_at",
                help="when 代发 signed (ISO time; default now)",
                label_zh="签收时间",
                help_zh="例如 2026-12-01T10:00:00+08:00；不填为现在",
            ),
            ParamSpec(
                name="return_id",
                help="the return case, when recording a parcel for an order",
                label_zh="退货单号",
                help_zh="在订单上登记包裹时填写对应的退货单",
            ),
        ),
    ),
    Capability(
        action="stall_result",
        label="Stall's decision",
        label_zh="档口退货结果",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="accepted",
                help="the stall took the goods back",
                type="boolean",
                required=True,
                label_zh="档口是否接受退货",
            ),
            ParamSpec(
                name="refund_fen",
                help="amount refunded, in fen (the stall's current price)",
                type="amount",
                label_zh="退款金额",
                help_zh="按档口当前价格退款，单位：元",
            ),
            ParamSpec(
                name="reason",
                help="why the stall refused",
                label_zh="拒绝原因",
                help_zh="档口拒绝退货的理由",
            ),
        ),
    ),
    Capability(
        action="extend_receipt",
        label="Receipt extended",
        label_zh="已延长收货",
        api=_RECORDED,
        params=(
            ParamSpec(
                name="days",
                help="days extended (1-7, once)",
                type="integer",
                label_zh="延长天数",
                help_zh="1-7 天，只能延长一次",
            ),
        ),
    ),
    Capability(
        action="exchange",
        label="Exchange",
        label_zh="换货",
        supported=False,
        reason="17网暂不支持换货：先退货，再重新下单 (no exchange on 17网: return, then order again)",
    ),
    Capability(
        action="agree_refund",
        label="Agree refund",
        label_zh="同意退款",
        supported=False,
        reason=(
            "在17网上我方是买家，退款由代发和档口决定"
            " (the merchant is the buyer: the supplier decides refunds)"
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse",
        label_zh="拒绝",
        supported=False,
        reason="在17网上我方是买家，没有可拒绝的申请 (the merchant is the buyer: nothing to refuse)",
    ),
    Capability(
        action="agree_return",
        label="Agree return",
        label_zh="同意退货",
        supported=False,
        reason=(
            "17网的退货由代发同意，请用“代发已同意”登记"
            " (the supplier agrees returns: record it with daifa_agreed)"
        ),
    ),
    Capability(
        action="confirm_receipt", label="Confirm receipt", label_zh="确认收货", supported=False, reason=NO_API
    ),
    Capability(
        action="appeal",
        label="Appeal",
        label_zh="申诉",
        supported=False,
        reason=(
            "17网没有申诉流程；退货原因选错将失去后续赔付"
            " (no appeal flow; a wrong return reason forfeits compensation)"
        ),
    ),
)

README = Path(__file__).with_name("README.md")

INFO = PlatformInfo(
    id=PLATFORM_ID,
    # On 17网 the merchant buys: the platform's "buyer" is the merchant, its "seller" the supplier.
    merchant_side=Party.BUYER,
    name="17zwd (17网 dropshipping)",
    name_zh="17网 一起做网店",
    settings=SETTINGS,
    capabilities=CAPABILITIES,
    rate_limits={},
    docs=str(README),
)
