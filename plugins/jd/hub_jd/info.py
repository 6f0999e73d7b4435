"""What JD registers: its settings, capabilities and the API names behind them."""

from __future__ import annotations

from hub.platform import Capability, ParamSpec, PlatformInfo, SettingSpec

PLATFORM_ID = "jd"
#: The JOS router; ``/routerjson`` answers JSON (the official SDKs pick their parser by this suffix).
JOS_GATEWAY = "https://api.jd.com/routerjson"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(name="app_key", help="JOS app key (开放平台应用 AppKey)", required=True),
    SettingSpec(name="app_secret", help="JOS app secret: signs every call", required=True, secret=True),
    SettingSpec(name="access_token", help="the shop's OAuth access_token", required=True, secret=True),
    SettingSpec(
        name="bu_id", help="商家编号 buId: the vendor id every service-order call names", required=True
    ),
    SettingSpec(name="operate_pin", help="operatePin: the JD account the actions are made as", required=True),
    SettingSpec(name="operate_nick", help="operateNick: that account's display name", required=True),
    SettingSpec(name="gateway_url", help="JOS router URL", default=JOS_GATEWAY, kind="url"),
    SettingSpec(name="request_timeout", help="seconds one call may take", default="30", kind="number"),
    SettingSpec(name="sync_window", help="largest span of update time one list call covers", default="1d"),
    SettingSpec(name="initial_sync_days", help="days the first sync of a shop reads back", default="30"),
    SettingSpec(
        name="return_address",
        help="the address returned goods are sent to (audit approval: returnDetailAddress)",
        default="",
    ),
    SettingSpec(name="return_contact", help="the return address's contact name", default=""),
    SettingSpec(name="return_mobile", help="the return address's mobile number", default=""),
    # Shop policy: JD publishes no handling time limit we could verify (README, "Rules").
    SettingSpec(name="audit_within", help="shop policy: review a new service order within", default="24h"),
    SettingSpec(name="receive_within", help="shop policy: register returned goods within", default="48h"),
    SettingSpec(name="reship_within", help="shop policy: send exchange goods within", default="24h"),
    SettingSpec(name="buyer_return_within", help="shop policy: chase a buyer's return after", default="7d"),
    SettingSpec(
        name="buyer_confirm_within", help="shop policy: follow up exchange goods after", default="7d"
    ),
)

CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        action="agree_return",
        label="Approve: the buyer sends the goods back",
        label_zh="审核通过（客户寄回）",
        api="jingdong.asc.audit.send",
        params=(
            ParamSpec(
                name="notes",
                help="review note, approveNotes (default: 同意)",
                label_zh="审核意见",
                help_zh="不填为“同意”",
            ),
            ParamSpec(
                name="address",
                help="return address (default: the shop's return_address)",
                label_zh="寄回地址",
                help_zh="不填则用店铺设置的退货地址",
            ),
        ),
    ),
    Capability(
        action="refuse",
        label="Refuse the service order",
        label_zh="审核不通过",
        api="jingdong.asc.audit.refuse",
        params=(
            ParamSpec(
                name="notes",
                help="review note: why refused (approveNotes)",
                required=True,
                label_zh="拒绝理由",
            ),
        ),
    ),
    Capability(
        action="confirm_receipt",
        label="Register the returned goods",
        label_zh="收货登记",
        api="jingdong.asc.receive.register",
        params=(ParamSpec(name="remark", help="receipt note (receiveRemark)", label_zh="收货备注"),),
    ),
    Capability(
        action="reship",
        label="Send the exchange goods (换新)",
        label_zh="换新发货",
        api="jingdong.asc.process.renew",
        params=(ParamSpec(name="remark", help="processing note (operateRemark)", label_zh="处理备注"),),
    ),
    Capability(
        action="appeal",
        label="Appeal",
        label_zh="申诉",
        supported=False,
        reason="京东开放平台没有可用的服务单申诉接口：请在京麦后台申诉，再在此登记 "
        "(no verified appeal API for service orders: appeal in the JD merchant backend, then record it here)",
    ),
)

INFO = PlatformInfo(
    id=PLATFORM_ID,
    name="JD",
    name_zh="京东",
    settings=SETTINGS,
    capabilities=CAPABILITIES,
    # No published per-API quota was found; a modest shop-wide rate (README, "Limits").
    rate_limits={"*": 10.0},
)
