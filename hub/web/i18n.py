"""The workbench's two languages: Chinese (the default: the agents are Chinese) and English.

Unified vocabulary values (statuses, kinds, parties...) get a label in each language; the pages
show the platform's own term (``platform_status``, the platform's Chinese name) beside them.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "app_title": {"zh": "售后工作台", "en": "After-sales workbench"},
    "nav_worklist": {"zh": "工作列表", "en": "Work list"},
    "nav_sync": {"zh": "同步状态", "en": "Sync status"},
    "nav_audit": {"zh": "审计日志", "en": "Audit log"},
    "logout": {"zh": "退出", "en": "Log out"},
    "login": {"zh": "登录", "en": "Log in"},
    "login_title": {"zh": "登录售后工作台", "en": "Log in to the workbench"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_limited": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins: try again later"},
    "role_admin": {"zh": "管理员", "en": "admin"},
    "role_agent": {"zh": "客服", "en": "agent"},
    "role_viewer": {"zh": "只读", "en": "viewer"},
    "open_cases": {"zh": "待处理售后", "en": "Open cases"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "platform": {"zh": "平台", "en": "Platform"},
    "shop": {"zh": "店铺", "en": "Shop"},
    "kind": {"zh": "类型", "en": "Kind"},
    "status": {"zh": "状态", "en": "Status"},
    "awaiting": {"zh": "待谁处理", "en": "Who acts"},
    "due_within": {"zh": "截止时间", "en": "Due within"},
    "dispute_only": {"zh": "仅看纠纷", "en": "Disputes only"},
    "search": {"zh": "搜索", "en": "Search"},
    "search_hint": {"zh": "订单号 / 售后单号 / 买家", "en": "order id / after-sales id / buyer"},
    "apply": {"zh": "筛选", "en": "Apply"},
    "clear": {"zh": "清除", "en": "Clear"},
    "any": {"zh": "全部", "en": "any"},
    "deadline": {"zh": "截止", "en": "Deadline"},
    "countdown": {"zh": "剩余时间", "en": "Time left"},
    "on_expiry": {"zh": "超时后果", "en": "On expiry"},
    "case": {"zh": "售后单", "en": "Case"},
    "order": {"zh": "订单", "en": "Order"},
    "buyer": {"zh": "买家", "en": "Buyer"},
    "refund": {"zh": "退款金额", "en": "Refund"},
    "assignee": {"zh": "负责人", "en": "Assignee"},
    "no_cases": {"zh": "没有符合条件的售后单", "en": "No cases match"},
    "next_page": {"zh": "下一页", "en": "Next page"},
    "first_page": {"zh": "第一页", "en": "First page"},
    "breached": {"zh": "已超时", "en": "Breached"},
    "lt_24h": {"zh": "24 小时内", "en": "< 24 h"},
    "lt_72h": {"zh": "72 小时内", "en": "< 72 h"},
    "later": {"zh": "72 小时以上", "en": "Later"},
    "none": {"zh": "无截止", "en": "No deadline"},
    "no_deadline": {"zh": "无截止时间", "en": "no deadline"},
    "updated_live": {"zh": "自动刷新", "en": "Live"},
    "new_cases": {"zh": "列表已更新", "en": "List updated"},
    "timeline": {"zh": "处理记录", "en": "Timeline"},
    "actions": {"zh": "操作", "en": "Actions"},
    "insights": {"zh": "处理建议", "en": "Insights"},
    "dispute": {"zh": "纠纷", "en": "Dispute"},
    "evidence": {"zh": "凭证", "en": "Evidence"},
    "upload_evidence": {"zh": "上传凭证", "en": "Upload evidence"},
    "evidence_help": {
        "zh": "图片、PDF、视频或文本，最大 10 MB",
        "en": "Images, PDF, video or text, at most 10 MB",
    },
    "description": {"zh": "说明", "en": "Description"},
    "upload": {"zh": "上传", "en": "Upload"},
    "evidence_pack": {"zh": "下载凭证包", "en": "Download evidence pack"},
    "linked_orders": {"zh": "关联订单", "en": "Linked orders"},
    "raw_record": {"zh": "平台原始数据", "en": "Raw record"},
    "notes": {"zh": "备注", "en": "Notes"},
    "add_note": {"zh": "添加备注", "en": "Add note"},
    "assign": {"zh": "分配", "en": "Assign"},
    "unassigned": {"zh": "未分配", "en": "unassigned"},
    "rule": {"zh": "规则", "en": "Rule"},
    "source": {"zh": "来源", "en": "Source"},
    "source_platform": {"zh": "平台给出", "en": "stated by the platform"},
    "source_rule": {"zh": "平台规则", "en": "a platform rule"},
    "source_policy": {"zh": "店铺策略（可在店铺设置中修改）", "en": "shop policy (a shop setting)"},
    "next_action": {"zh": "下一步", "en": "Next action"},
    "via": {"zh": "来自关联", "en": "via"},
    "own_action": {"zh": "本单自身", "en": "This case itself"},
    "no_clock": {"zh": "无时限", "en": "no clock"},
    "start_event": {"zh": "计时起点", "en": "Clock starts"},
    "orders_toggle": {"zh": "含待发货订单", "en": "Include orders"},
    "item_order": {"zh": "订单", "en": "order"},
    "item": {"zh": "类别", "en": "Item"},
    "confirm_money": {
        "zh": "我已核对金额，确认执行此操作",
        "en": "I have checked the amount: perform this action",
    },
    "confirm_needed": {
        "zh": "涉及资金的操作需要勾选确认",
        "en": "Tick the confirmation: this action moves money",
    },
    "disabled_because": {"zh": "不可用：", "en": "Not available: "},
    "result": {"zh": "操作结果", "en": "Result"},
    "replayed": {"zh": "（重复提交，未再次执行）", "en": "(a repeat: nothing was sent again)"},
    "action_history": {"zh": "操作记录", "en": "Action history"},
    "idempotency_key": {"zh": "幂等键", "en": "Idempotency key"},
    "none_yet": {"zh": "暂无", "en": "none yet"},
    "back_to_list": {"zh": "返回列表", "en": "Back to the list"},
    "sync_title": {"zh": "店铺同步状态", "en": "Shop sync status"},
    "last_success": {"zh": "最近成功同步", "en": "Last successful sync"},
    "last_run": {"zh": "最近一次同步", "en": "Last run"},
    "lag": {"zh": "延迟", "en": "Lag"},
    "errors": {"zh": "错误", "en": "Errors"},
    "needs_reauth": {"zh": "需要重新授权", "en": "Needs re-authorisation"},
    "quarantined": {"zh": "隔离记录", "en": "Quarantined records"},
    "never": {"zh": "从未", "en": "never"},
    "ok": {"zh": "正常", "en": "OK"},
    "resource": {"zh": "资源", "en": "Resource"},
    "error": {"zh": "错误", "en": "Error"},
    "first_seen": {"zh": "首次出现", "en": "First seen"},
    "not_found": {"zh": "找不到该页面或售后单", "en": "No such page or case"},
    "forbidden": {"zh": "没有权限", "en": "Not allowed"},
    "bad_request": {"zh": "请求有误", "en": "Bad request"},
    "server_error": {"zh": "服务器内部错误", "en": "Internal error"},
    "request_id": {"zh": "请求编号", "en": "Request id"},
    "facts": {"zh": "事实数据", "en": "Facts"},
    "reason": {"zh": "原因", "en": "Reason"},
    "created": {"zh": "创建", "en": "Created"},
    "updated": {"zh": "更新", "en": "Updated"},
    "paid": {"zh": "实付", "en": "Paid"},
    "waybill": {"zh": "运单号", "en": "Waybill"},
    "return_waybill": {"zh": "退货运单号", "en": "Return waybill"},
    "link_method": {"zh": "关联方式", "en": "Linked by"},
    "tracked_disputes": {"zh": "登记的纠纷 / 申诉", "en": "Tracked disputes / appeals"},
    "platform_dispute": {"zh": "平台纠纷", "en": "Platform dispute"},
    "appeal_open": {"zh": "可申诉", "en": "appeal open"},
    "who_acts": {"zh": "待处理方", "en": "Who acts"},
    "due_at": {"zh": "截止于", "en": "Due at"},
    "shops_col": {"zh": "店铺", "en": "Shops"},
    "at": {"zh": "时间", "en": "At"},
    "actor": {"zh": "操作人", "en": "Actor"},
    "what": {"zh": "事件", "en": "What"},
    "detail": {"zh": "详情", "en": "Detail"},
    "cases_total": {"zh": "共 {n} 条", "en": "{n} cases"},
    "runs": {"zh": "同步次数", "en": "Runs"},
    "open": {"zh": "查看", "en": "Open"},
    "penalty": {"zh": "罚款", "en": "Penalty"},
    "download": {"zh": "下载", "en": "Download"},
    "language": {"zh": "English", "en": "中文"},
    "no_dispute": {"zh": "无纠纷，平台未介入", "en": "No dispute: the platform is not involved"},
    "waits_for": {"zh": "等待{party}处理", "en": "waiting for the {party}"},
    "due_short": {"zh": "截止", "en": "due"},
    "beijing_time": {"zh": "北京时间", "en": "Beijing time"},
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "requested": ("待商家处理", "requested"),
        "seller_refused": ("商家已拒绝", "seller refused"),
        "awaiting_return": ("待买家退货", "awaiting return"),
        "return_shipped": ("买家已退货", "return shipped"),
        "awaiting_reship": ("待商家补发", "awaiting reship"),
        "reshipped": ("已补发", "reshipped"),
        "refunding": ("退款中", "refunding"),
        "platform_review": ("平台介入中", "platform review"),
        "succeeded": ("售后成功", "succeeded"),
        "closed": ("售后关闭", "closed"),
    },
    "kind": {
        "refund_only": ("仅退款", "refund only"),
        "return_refund": ("退货退款", "return & refund"),
        "exchange": ("换货", "exchange"),
        "reship": ("补发", "reship"),
        "repair": ("维修", "repair"),
        "compensation": ("补偿", "compensation"),
    },
    "party": {
        "merchant": ("我方（商家）", "merchant (us)"),
        "seller": ("我方（商家）", "merchant (us)"),
        "buyer": ("买家", "buyer"),
        "platform": ("平台", "platform"),
        "supplier": ("供货方（档口/代发）", "supplier"),
        "none": ("无", "nobody"),
    },
    "item": {
        "case": ("售后单", "case"),
        "order": ("订单", "order"),
    },
    "on_expiry": {
        "auto_agree": ("自动同意", "auto-agreed"),
        "auto_refund": ("自动退款", "auto-refunded"),
        "auto_close": ("自动关闭", "auto-closed"),
        "auto_confirm": ("自动确认", "auto-confirmed"),
        "escalation_opens": ("可申请介入", "escalation opens"),
        "penalty": ("罚款", "penalty"),
        "scrapped": ("包裹报废", "parcel scrapped"),
        "overdue": ("逾期", "overdue"),
        "nothing": ("无", "nothing"),
        "auto_cancel": ("自动取消", "auto-cancelled"),
        "ruled_against": ("平台按现有证据判定", "ruled on the evidence at hand"),
        "window_closes": ("期限关闭", "window closes"),
    },
    "deadline_action": {
        "reply": ("回复处理", "reply"),
        "ship_return": ("寄回商品", "ship the return"),
        "confirm_receipt": ("确认收货", "confirm receipt"),
        "ship": ("发货", "ship"),
        "appeal": ("申诉", "appeal"),
        "escalate": ("申请客服介入", "ask the platform to step in"),
        "agree_refund": ("同意退款", "agree the refund"),
        "agree_return": ("同意退货", "agree the return"),
        "refuse": ("拒绝", "refuse"),
        "recall_parcel": ("召回包裹", "recall the parcel"),
        "extend_receipt": ("延长收货", "extend receipt"),
        "apply_return": ("申请退货", "apply for the return"),
        "claim_return": ("认领退货包裹", "claim the return parcel"),
        "enter_return_waybill": ("填写退货单号", "enter the return waybill"),
        "stall_result": ("档口处理退货", "the stall handles the return"),
        "ship_available": ("先发有货商品", "ship what is in stock"),
        "exchange": ("换货", "exchange"),
        "request_no_reason_return": ("申请七天无理由退货", "request a no-reason return"),
        "hold_and_answer_refund": ("暂停发货，处理退款申请", "hold the shipment, answer the refund"),
        "submit_evidence": ("提交凭证", "submit evidence"),
        "buyer_decides": ("买家决定是否修改或申请介入", "the buyer decides"),
        "reship": ("补发/换货发出", "send the goods"),
        "refund": ("退款到账", "refund"),
        "review": ("平台处理", "platform review"),
        "none": ("无", "nothing"),
    },
    "order_status": {
        "pending_payment": ("待付款", "pending payment"),
        "paid": ("待发货", "paid"),
        "shipped": ("已发货", "shipped"),
        "completed": ("交易成功", "completed"),
        "refunding": ("售后中", "refunding"),
        "cancelled": ("已取消", "cancelled"),
        "closed": ("交易关闭", "closed"),
    },
    "event_kind": {
        "created": ("新售后", "created"),
        "status_changed": ("状态变更", "status changed"),
        "dispute_changed": ("纠纷变更", "dispute changed"),
        "kind_changed": ("类型变更", "kind changed"),
        "amount_changed": ("金额变更", "amount changed"),
        "return_shipped": ("买家退货", "return shipped"),
        "deadline_changed": ("截止变更", "deadline changed"),
        "action": ("操作", "action"),
        "note": ("备注", "note"),
        "evidence_added": ("凭证", "evidence"),
        "linked": ("关联", "linked"),
    },
    "actor": {
        "platform": ("平台", "platform"),
        "system": ("系统", "system"),
        "sync": ("同步", "sync"),
    },
    "dispute_field": {
        "external_id": ("纠纷单号", "dispute id"),
        "platform_status": ("平台状态", "platform status"),
        "subtype": ("类别", "subtype"),
        "opened_at": ("发起时间", "opened"),
        "updated_at": ("更新时间", "updated"),
        "due_at": ("截止时间", "due"),
        "note": ("平台说明", "platform's note"),
        "ruling": ("裁决", "ruling"),
        "reason": ("原因", "reason"),
    },
    "link_method": {
        "remark": ("采购单备注中的订单号", "sale id in the purchase's remark"),
        "match": ("收件人与商品匹配", "recipient and goods match"),
        "manual": ("手工关联", "linked by hand"),
    },
    "reason": {
        # hub's own reasons for a disabled action (the plugins word theirs)
        "no appeal recorded for this case": ("尚未登记申诉", "no appeal recorded for this case"),
    },
    "dispute_kind": {
        "intervention": ("平台介入", "intervention"),
        "complaint": ("维权", "complaint"),
        "appeal": ("申诉", "appeal"),
    },
    "dispute_status": {
        "open": ("进行中", "open"),
        "evidence_required": ("需补充凭证", "evidence required"),
        "under_review": ("审核中", "under review"),
        "ruled_for_buyer": ("判买家胜", "ruled for buyer"),
        "ruled_for_seller": ("判商家胜", "ruled for seller"),
        "withdrawn": ("已撤销", "withdrawn"),
    },
    "action_status": {
        "done": ("已完成", "done"),
        "recorded": ("已登记", "recorded"),
        "failed": ("失败", "failed"),
        "pending": ("处理中", "pending"),
        "needs_verification": ("需要验证码", "needs verification"),
    },
    "insight_kind": {
        "guide": ("处理指引", "guide"),
        "eligibility": ("资格判断", "eligibility"),
        "warning": ("风险提示", "warning"),
        "upstream_step": ("上游步骤", "upstream step"),
        "link": ("关联", "link"),
    },
    "sync_status": {
        "ok": ("正常", "ok"),
        "partial": ("部分失败", "partial"),
        "failed": ("失败", "failed"),
        "reauth": ("需重新授权", "needs re-auth"),
        "running": ("同步中", "running"),
        "skipped": ("已跳过", "skipped"),
    },
}


def pick_lang(value: str | None) -> str:
    """A supported language code, Chinese unless English is asked for."""
    return value if value in LANGS else DEFAULT_LANG


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **fmt)`` for templates: the message in ``lang`` (the key itself when unknown)."""
    lang = pick_lang(lang)

    def t(key: str, **fmt: object) -> str:
        text = MESSAGES.get(key, {}).get(lang) or key
        return text.format(**fmt) if fmt else text

    return t


def labeller(lang: str) -> Callable[[str, str | None], str]:
    """``label(group, value)``: the vocabulary label of a unified value (the value itself when unknown)."""
    index = 0 if pick_lang(lang) == "zh" else 1

    def label(group: str, value: str | None) -> str:
        if value is None:
            return "—"
        pair = LABELS.get(group, {}).get(value)
        return pair[index] if pair else value

    return label
