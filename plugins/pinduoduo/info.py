"""What the Pinduoduo plugin registers: settings, capabilities and the published call limits.

Everything here is data: the CLI validates shop settings against :data:`SETTINGS`, ``hub plugins``
prints :data:`CAPABILITIES`, and the rate limiter is built from :data:`RATE_LIMITS`.
"""

from __future__ import annotations

from pathlib import Path

from hub.platform import Capability, ParamSpec, PlatformInfo, SettingSpec

from .rules import POLICY_SETTINGS

PLATFORM_ID = "pinduoduo"

#: The real PDD router (PDD's request protocol; the http variant is no longer allowed).
DEFAULT_GATEWAY = "https://gw-api.pinduoduo.com/api/router"
#: The PMC message websocket (PDD message push).
DEFAULT_PUSH_URL = "wss://message-api.pinduoduo.com"

#: Where to do in the merchant backend what the open platform has no API for.
REFUSE_WHERE = "the merchant backend (商家后台, the case's 售后详情 page: 驳回)"
APPEAL_WHERE = "商家后台 → 订单售后详情页 → 售后状态 → 维权申诉"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(name="client_id", help="开放平台应用 client_id", required=True),
    SettingSpec(
        name="client_secret", help="开放平台应用 client_secret (signs every call)", required=True, secret=True
    ),
    SettingSpec(
        name="access_token",
        help="店铺授权 access_token (pdd.pop.auth.token.create)",
        required=True,
        secret=True,
    ),
    SettingSpec(name="gateway_url", help="API router URL", default=DEFAULT_GATEWAY),
    SettingSpec(name="push_url", help="PMC message websocket base URL", default=DEFAULT_PUSH_URL),
    SettingSpec(
        name="after_sales_status_filter",
        help=(
            "How pdd.refund.list.increment.get is asked for every status: 'all' sends "
            "after_sales_status=1 (全部, 2018 doc and the official example); 'each' asks every "
            "documented status code in turn (27 calls a window) if the live API refuses 1"
        ),
        default="all",
        choices=("all", "each"),
    ),
    SettingSpec(name="request_timeout", help="seconds one API call may take", default="30"),
    SettingSpec(
        name="initial_sync_days",
        help="how many days back the first sync of a shop reads (PDD windows are 30 minutes: 48 calls a day)",
        default="30",
    ),
    SettingSpec(
        name="rate_limit",
        help="calls a second this shop makes in all (PDD publishes per-API limits only; empty: the default)",
    ),
    # Shop policy: figures PDD does not publish (docs/rules/pinduoduo.md, "Shop-policy settings").
    *(SettingSpec(name=name, help=text, default=default) for name, default, text in POLICY_SETTINGS),
)

CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        action="agree_refund",
        label="Agree refund",
        label_zh="同意退款",
        money_moves=True,
        api="pdd.refund.agree",
        params=(
            ParamSpec(
                name="operate_desc", help="message to the buyer", label_zh="给买家留言", help_zh="买家可见"
            ),
        ),
    ),
    Capability(
        action="agree_return",
        label="Agree return",
        label_zh="同意退货",
        api="pdd.refund.returngoods.agree",
        params=(
            ParamSpec(
                name="return_address_id",
                help="退货地址 id from pdd.refund.address.list.get; default: the shop's default address",
                label_zh="退货地址编号",
                help_zh="不填则使用店铺的默认退货地址",
            ),
            ParamSpec(
                name="operate_desc", help="message to the buyer", label_zh="给买家留言", help_zh="买家可见"
            ),
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse",
        label_zh="驳回",
        supported=False,
        reason="拼多多开放平台没有驳回接口：请在商家后台售后详情页驳回，再在此登记 "
        "(no API to refuse an after-sales request: refuse on the case's page in the merchant backend, "
        "then record it in hub)",
    ),
    Capability(
        action="appeal",
        label="Appeal",
        label_zh="维权申诉",
        supported=False,
        reason=f"拼多多开放平台没有申诉接口：请在{APPEAL_WHERE}提交申诉（附凭证包），再在此登记 "
        "(no appeal API: appeal in the merchant backend with the evidence pack, then record it in hub)",
    ),
)

#: Published per-API limits (PDD's API documentation), as (calls, per seconds) for one shop:
#: refund.list.increment.get: 商家 100 次/10 秒; order.list.get: 商家 10000 次/60 秒;
#: refund.information.get: 接口总 1400 次/1 秒 (a global cap, so also an upper bound per shop).
RATE_LIMITS: dict[str, float | tuple[int, float]] = {
    "pdd.refund.list.increment.get": (100, 10.0),
    "pdd.order.list.get": (10000, 60.0),
    "pdd.refund.information.get": (1400, 1.0),
}

INFO = PlatformInfo(
    id=PLATFORM_ID,
    name="Pinduoduo",
    name_zh="拼多多",
    settings=SETTINGS,
    capabilities=CAPABILITIES,
    rate_limits=RATE_LIMITS,
    docs=str(Path(__file__).with_name("README.md")),
)
