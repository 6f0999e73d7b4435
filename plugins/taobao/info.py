"""What the Taobao plugin registers: settings, capabilities, rate limits (no IO, no logic)."""

from __future__ import annotations

from pathlib import Path

from hub.platform import Capability, ParamSpec, PlatformInfo, SettingSpec

from .client import SIGN_METHODS, TOP_GATEWAY
from .rules import SHIP_WARNING_DEFAULT, SHIP_WARNING_SETTING

PLATFORM_ID = "taobao"

#: Trade types to read. TOP returns only ``guarantee_trade,auto_delivery,ec,cod,step`` unless
#: told, and leaves out e.g. ``fixed`` (一口价) (platform-apis.md §1.2 increment.get ``type``), so
#: the adapter lists them all (the values are the Trade.type comment of bububa/opentaobao).
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
        name=SHIP_WARNING_SETTING,
        help="shop policy: list unshipped orders this long before the "
        "72 h late-shipment limit (DOMAIN.md: at least 48h)",
        default=SHIP_WARNING_DEFAULT,
    ),
)

_PROOF_HELP = "proof image: GIF/JPG/PNG, at most 130000 bytes (required on Tmall)"

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
                help="amount to refund in fen (default: the requested amount)",
                type="integer",
            ),
            ParamSpec(name="code", help="SMS verification code, when the platform asked for one"),
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse refund",
        label_zh="拒绝退款",
        api="taobao.refund.refuse",
        params=(
            ParamSpec(name="message", help="refusal message, 2-200 characters", required=True),
            ParamSpec(name="proof", help=_PROOF_HELP, type="file"),
            ParamSpec(
                name="reason_id", help="refuse reason id (taobao.refund.refusereason.get)", type="integer"
            ),
        ),
    ),
    Capability(
        action="agree_return",
        label="Agree return",
        label_zh="同意退货",
        api="taobao.rp.returngoods.agree",
        params=(
            ParamSpec(name="address_id", help="seller return address id (seller_address_id)", required=True),
            ParamSpec(name="remark", help="note to the buyer"),
            ParamSpec(name="name", help="receiver name (Taobao only)"),
            ParamSpec(name="address", help="return address (Taobao only)"),
            ParamSpec(name="post", help="postcode (Taobao only)"),
            ParamSpec(name="tel", help="telephone (Taobao only)"),
            ParamSpec(name="mobile", help="mobile (Taobao only)"),
            ParamSpec(
                name="post_fee_bear_role", help="who pays return postage: 1 buyer, 0 seller", type="integer"
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
                name="proof", help="proof image: GIF/JPG/PNG, at most 5 MB", type="file", required=True
            ),
            ParamSpec(
                name="reason_id",
                help="refuse reason id (taobao.refund.refusereason.get)",
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
            ParamSpec(name="operator", help="reviewer's name (审核人姓名)", required=True),
            ParamSpec(
                name="result",
                help="true: approve; false: reject or withdraw the approval",
                type="boolean",
                required=True,
            ),
            ParamSpec(name="message", help="review note"),
        ),
    ),
    Capability(
        action="confirm_receipt",
        label="Confirm returned goods",
        label_zh="确认收货",
        supported=False,
        reason="TOP has no separate confirm-receipt API for returns: agree the refund once the goods arrive",
    ),
    Capability(
        action="appeal",
        label="Appeal a ruling",
        label_zh="维权申诉",
        supported=False,
        reason="TOP exposes no appeal API: appeals are filed in the seller centre (卖家中心)",
    ),
)

#: TOP publishes daily per-appkey quotas and per-API bans (code 7 "This ban will last for N more
#: seconds", platform-apis.md §1.4), not a per-second figure; this keeps a shop well under bursts
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
