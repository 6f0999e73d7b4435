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

_PROOF_HELP = "proof image: GIF/JPG/PNG, at most 130000 bytes (required on Tmall)"
_PROOF_HELP_ZH = "图片格式 GIF/JPG/PNG，不超过 130000 字节（天猫必填）"

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
                help="refund amount in fen (default: the amount the buyer asked for)",
                type="amount",
                label_zh="退款金额",
                help_zh="单位：元，两位小数；不填则按买家申请的金额退款",
            ),
            ParamSpec(
                name="code",
                help="SMS verification code, when the platform asks for one",
                label_zh="短信验证码",
                help_zh="平台要求验证时填写",
            ),
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse refund",
        label_zh="拒绝退款",
        api="taobao.refund.refuse",
        params=(
            ParamSpec(
                name="message",
                help="refusal message, 2-200 characters",
                required=True,
                label_zh="拒绝理由",
                help_zh="2-200 个字，买家可见",
            ),
            ParamSpec(
                name="proof",
                help=_PROOF_HELP,
                type="file",
                label_zh="凭证图片",
                help_zh=_PROOF_HELP_ZH,
            ),
            ParamSpec(
                name="reason_id",
                help="refusal reason id (taobao.refund.refusereason.get)",
                type="integer",
                label_zh="拒绝原因编号",
                help_zh="平台的拒绝原因编号",
            ),
        ),
    ),
    Capability(
        action="agree_return",
        label="Agree return",
        label_zh="同意退货",
        api="taobao.rp.returngoods.agree",
        params=(
            ParamSpec(
                name="address_id",
                help="the seller's return address id (seller_address_id; taobao.logistics.address.search)",
                required=True,
                label_zh="退货地址",
                help_zh="买家按此地址寄回商品",
                dynamic_choices=True,
            ),
            ParamSpec(name="remark", help="a note to the buyer", label_zh="给买家的说明"),
            ParamSpec(
                name="name",
                help="receiver's name (Taobao only)",
                label_zh="收货人姓名",
                help_zh="仅淘宝",
            ),
            ParamSpec(
                name="address",
                help="return address text (Taobao only)",
                label_zh="退货地址详情",
                help_zh="仅淘宝",
            ),
            ParamSpec(name="post", help="post code (Taobao only)", label_zh="邮编", help_zh="仅淘宝"),
            ParamSpec(name="tel", help="telephone (Taobao only)", label_zh="电话", help_zh="仅淘宝"),
            ParamSpec(name="mobile", help="mobile phone (Taobao only)", label_zh="手机", help_zh="仅淘宝"),
            ParamSpec(
                name="post_fee_bear_role",
                help="who pays the return postage: 1 the buyer, 0 the seller",
                type="integer",
                label_zh="退货运费承担方",
                help_zh="1 = 买家，0 = 卖家",
            ),
        ),
    ),
    Capability(
        action="refuse_return",
        label="Refuse returned goods (Tmall)",
        label_zh="拒绝收货（天猫）",
        api="taobao.rp.returngoods.refuse",
        params=(
            ParamSpec(
                name="proof",
                help="proof image: GIF/JPG/PNG, at most 5 MB",
                type="file",
                required=True,
                label_zh="凭证图片",
                help_zh="图片格式 GIF/JPG/PNG，不超过 5 MB",
            ),
            ParamSpec(
                name="reason_id",
                help="refusal reason id (taobao.refund.refusereason.get)",
                type="integer",
                required=True,
                label_zh="拒绝原因编号",
                help_zh="平台的拒绝原因编号",
            ),
        ),
    ),
    Capability(
        action="review",
        label="Review refund (Tmall)",
        label_zh="审核退款（天猫）",
        api="taobao.rp.refund.review",
        params=(
            ParamSpec(name="operator", help="the reviewer's name", required=True, label_zh="审核人姓名"),
            ParamSpec(
                name="result",
                help="true: approved; false: not approved, or the approval withdrawn",
                type="boolean",
                required=True,
                label_zh="审核结果",
                help_zh="通过：审核通过；不通过：不通过或反审核",
            ),
            ParamSpec(name="message", help="review note", label_zh="审核备注"),
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
