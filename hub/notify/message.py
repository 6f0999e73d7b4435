"""The alert message: several work items in one Chinese message, soonest deadline first.

Each line says the shop, the platform (its Chinese label), the case, who must act and what, the
deadline in Beijing time and the time left (or how long ago it passed), and links to the case on
the workbench when ``HUB_PUBLIC_URL`` says where the workbench is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..clock import CST

#: items listed one by one in a message; the rest are counted ("…及另外 N 件")
DEFAULT_CAP = 10
#: the longest markdown text sent (WeCom takes 4096 bytes; DingTalk more)
MAX_BYTES = 4000

_PARTY_ZH = {
    "merchant": "我方（商家）",
    "buyer": "买家",
    "platform": "平台",
    "supplier": "供货方（档口/代发）",
}


@dataclass(frozen=True)
class AlertItem:
    """One work item's deadline, as a message shows it."""

    item: str  #: case or order
    item_id: int
    shop: str
    platform: str
    platform_label: str
    external_id: str
    party: str
    action: str
    due_at: datetime
    consequence_zh: str | None = None
    link: str | None = None

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The item in the webhook body (English keys, values as stored)."""
        return {
            "item": self.item,
            "id": self.item_id,
            "shop": self.shop,
            "platform": self.platform,
            "platform_label": self.platform_label,
            "external_id": self.external_id,
            "party": self.party,
            "action": self.action,
            "due_at": self.due_at.isoformat(),
            "seconds_left": int((self.due_at - now).total_seconds()),
            "consequence_zh": self.consequence_zh,
            "link": self.link,
        }


@dataclass(frozen=True)
class Message:
    title: str
    markdown: str
    items: tuple[AlertItem, ...]
    more: int  #: items counted but not listed


def beijing(at: datetime) -> str:
    return at.astimezone(CST).strftime("%m-%d %H:%M")


def remaining(due: datetime, now: datetime) -> str:
    """``剩余 1 小时 20 分`` / ``已超时 3 小时``: the time left, in words an agent reads at a glance."""
    left = due - now
    text = _span(abs(left))
    return f"剩余 {text}" if left >= timedelta(0) else f"已超时 {text}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {mins} 分" if mins else f"{hours} 小时"
    return f"{max(mins, 1)} 分钟" if delta > timedelta(0) else "0 分钟"


def action_label(action: str) -> str:
    """The next action in Chinese: the workbench's label when it has one."""
    try:
        from ..web.i18n import labeller
    except ImportError:  # the workbench is optional: the action's own name then
        return action
    return labeller("zh")("deadline_action", action)


def line(it: AlertItem, now: datetime) -> str:
    what = "售后单" if it.item == "case" else "订单"
    ident = f"[{it.external_id}]({it.link})" if it.link else it.external_id
    who = _PARTY_ZH.get(it.party, it.party)
    text = (
        f"- **{it.shop}**（{it.platform_label}）{what} {ident}：待{who}{action_label(it.action)}，"
        f"截止 {beijing(it.due_at)}（北京时间），{remaining(it.due_at, now)}"
    )
    if it.consequence_zh:
        text += f"；超时后果：{it.consequence_zh}"
    return text


def compose(items: Sequence[AlertItem], now: datetime, *, cap: int = DEFAULT_CAP) -> Message:
    """One message for ``items`` (soonest first): the first ``cap`` listed, the rest counted;
    fewer are listed when the text would pass :data:`MAX_BYTES`."""
    ordered = sorted(items, key=lambda i: (i.due_at, i.item, i.item_id))
    overdue = sum(i.due_at <= now for i in ordered)
    title = f"超时预警：{len(ordered)} 件售后即将到期" + (f"（{overdue} 件已超时）" if overdue else "")
    cap = max(1, cap)
    while True:
        shown, more = ordered[:cap], max(0, len(ordered) - cap)
        lines = [f"### {title}", "", *(line(i, now) for i in shown)]
        if more:
            lines.append(f"- …及另外 {more} 件")
        text = "\n".join(lines)
        if len(text.encode("utf-8")) <= MAX_BYTES or cap == 1:
            return Message(title=title, markdown=text, items=tuple(ordered), more=more)
        cap -= 1


def test_message(channel: str, shops: Sequence[str], within: timedelta) -> Message:
    """What ``hub notify test`` sends: says which alerts will arrive here, lists no item."""
    scope = "、".join(shops) if shops else "全部店铺"
    text = (
        f"### hub 测试消息\n\n通道 **{channel}** 已连通。{scope}的售后在截止前 {_span(within)}内"
        "将在这里收到超时预警（每个截止时间提醒一次）。"
    )
    return Message(title="hub 测试消息", markdown=text, items=(), more=0)
