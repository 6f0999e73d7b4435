"""What the Taobao plugin registers: settings, capabilities, rate limits (no IO, no logic)."""

from __future__ import annotations

from pathlib import Path

from hub.platform import Capability, ParamSpec, PlatformInfo, SettingSpec

from .client import SIGN_METHODS, TOP_GATEWAY
from .rules import POLICY_SETTINGS

PLATFORM_ID = "taobao"

#: Trade types to read. TOP returns only ``guarantee_trade,auto_delivery,ec,cod,step`` unless
#: told, and leaves out e.g. ``fixed`` (一口价) (the ``type`` parameter of
#: taobao.trades.sold.increment.get), so the adapter lists them all (TOP's Trade.type values).
DEFAULT_TRADE_TYPES = (
    "fixed,auction,guarantee_trade,step,independent_simple_trade,independent_shop_trade,auto_delivery,"
    "ec,cod,game_equipment,shopex_trade,netcn_trade,external_trade,o2o_offlinetrade,nopaid,pre_auth_type,"
    "tmall_i18n"
)

SETTINGS = (
    SettingSpec(name="app_key", help="TOP app key (开放平台应用 AppKey)", required=True),
    SettingSpec(name="app_secret", help="TOP app secret, signs every request", required=True, secret=True),
    SettingSpec(
        name="session",
        help="the seller's authorisation (SessionKey / access token)",
        required=True,
        secret=True,
    ),
    SettingSpec(name="gateway_url", help="TOP router URL", default=TOP_GATEWAY),
    SettingSpec(name="sign_method", help="request signature method", default="md5", choices=SIGN_METHODS),
    SettingSpec(
        name="tmall",
        help="a Tmall shop (天猫): reads Tmall disputes, Tmall-only actions",
        default="false",
        choices=("true", "false"),
    ),
    SettingSpec(
        name="simplify",
        help="ask TOP for simplified JSON (simplify=true)",
        default="false",
        choices=("true", "false"),
    ),
    SettingSpec(
        name="sync_window",
        help="largest modified-time window per request (TOP: at most 1d, recommended 30m or less)",
        default="30m",
        maximum="1d",  # TOP refuses a modified-time span over one day
    ),
    SettingSpec(
        name="trade_types",
        help="trade types to sync (comma list; TOP skips unlisted types)",
        default=DEFAULT_TRADE_TYPES,
    ),
    SettingSpec(
        name="tmc_group",
        help="TMC group name to consume push messages from (empty: default group)",
        default="",
    ),
    SettingSpec(
        name="rate_limit",
        help="calls per second this shop makes across all APIs (TOP bans a shop beyond its quota)",
        default="40",
    ),
    SettingSpec(name="request_timeout", help="seconds to wait for one gateway answer", default="30"),
    SettingSpec(
        name="default_ship_within",
        help="ship time when the listing promises none: Taobao's rule is 72h after payment; a shop whose "
        "listings promise less (e.g. 48h) sets it (its due times are then shop policy)",
        default="72h",
    ),
    SettingSpec(
        name="read_logistics_trace",
        help="read the logistics trace of shipped trades (taobao.logistics.trace.search): the "
        "sign-for time starts the 7-day no-reason window, the pickup shows a fake shipment",
        default="true",
        choices=("true", "false"),
    ),
    SettingSpec(
        name="no_reason_excluded_categories",
        help="category ids (cid, comma list) the shop's 7-day no-reason exclusions cover "
        "(e.g. custom-made or perishable categories); shown in the eligibility check",
        default="",
    ),
    SettingSpec(
        name="no_reason_unsupported_items",
        help="listing ids (num_iid, comma list) whose page says 不支持七天无理由; "
        "shown in the eligibility check",
        default="",
    ),
    # Shop policy: figures no platform source fixes (docs/rules/taobao.md, "Shop-policy settings").
    *(
        SettingSpec(name=name, help=help_text, default=default)
        for name, default, help_text in POLICY_SETTINGS
    ),
)

_PROOF_HELP = "凭证图片：GIF/JPG/PNG，不超过 130000 字节（天猫必填） (proof image)"

CAPABILITIES = (
    Capability(
        action="agree_refund",
        label="Agree refund",
        label_zh="同意退款",
        money_moves=True,
        api="taobao.rp.refunds.agree",
        params=(
            ParamSpec(
                name="amount_fen",
                help="退款金额，单位：分（默认为买家申请的金额） (amount in fen)",
                type="integer",
            ),
            ParamSpec(name="code", help="短信验证码，平台要求时填写 (SMS verification code)"),
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse refund",
        label_zh="拒绝退款",
        api="taobao.refund.refuse",
        params=(
            ParamSpec(name="message", help="拒绝理由，2-200 个字符 (refusal message)", required=True),
            ParamSpec(name="proof", help=_PROOF_HELP, type="file"),
            ParamSpec(name="reason_id", help="拒绝原因 ID（taobao.refund.refusereason.get）", type="integer"),
        ),
    ),
    Capability(
        action="agree_return",
        label="Agree return",
        label_zh="同意退货",
        api="taobao.rp.returngoods.agree",
        params=(
            ParamSpec(name="address_id", help="卖家退货地址 ID（seller_address_id）", required=True),
            ParamSpec(name="remark", help="给买家的说明 (remark)"),
            ParamSpec(name="name", help="收货人姓名（仅淘宝）"),
            ParamSpec(name="address", help="退货地址（仅淘宝）"),
            ParamSpec(name="post", help="邮编（仅淘宝）"),
            ParamSpec(name="tel", help="电话（仅淘宝）"),
            ParamSpec(name="mobile", help="手机（仅淘宝）"),
            ParamSpec(name="post_fee_bear_role", help="退货运费承担方：1 买家，0 卖家", type="integer"),
        ),
    ),
    Capability(
        action="refuse_return",
        label="Refuse returned goods (Tmall)",
        label_zh="拒绝收货（天猫）",
        api="taobao.rp.returngoods.refuse",
        params=(
            ParamSpec(name="proof", help="凭证图片：GIF/JPG/PNG，不超过 5 MB", type="file", required=True),
            ParamSpec(
                name="reason_id",
                help="拒绝原因 ID（taobao.refund.refusereason.get）",
                type="integer",
                required=True,
            ),
        ),
    ),
    Capability(
        action="review",
        label="Review refund (Tmall)",
        label_zh="审核退款（天猫）",
        api="taobao.rp.refund.review",
        params=(
            ParamSpec(name="operator", help="审核人姓名 (operator)", required=True),
            ParamSpec(
                name="result",
                help="true：审核通过；false：不通过或反审核",
                type="boolean",
                required=True,
            ),
            ParamSpec(name="message", help="审核备注 (message)"),
        ),
    ),
    Capability(
        action="confirm_receipt",
        label="Confirm returned goods",
        label_zh="确认收货",
        supported=False,
        reason="开放平台没有单独的退货确认收货接口：收到退货后直接“同意退款” (no confirm-receipt API in TOP)",
    ),
    Capability(
        action="appeal",
        label="Appeal a ruling",
        label_zh="维权申诉",
        supported=False,
        reason="开放平台没有申诉接口：请在卖家中心发起申诉 (no appeal API in TOP)",
    ),
)

#: TOP publishes daily per-appkey quotas and per-API bans (code 7 "This ban will last for N more
#: seconds", TOP error code 7), not a per-second figure; this keeps a shop well under bursts
#: and the engine honours the ban seconds on top of it.
RATE_LIMITS = {"*": 40.0}

INFO = PlatformInfo(
    id=PLATFORM_ID,
    name="Taobao / Tmall",
    name_zh="淘宝 / 天猫",
    settings=SETTINGS,
    capabilities=CAPABILITIES,
    rate_limits=RATE_LIMITS,
    docs=str(Path(__file__).with_name("README.md")),
)
