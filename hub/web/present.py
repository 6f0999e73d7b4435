"""How the pages present what the core and the plugins hand over: times in Beijing time (also inside
free text), timeline events in the page's language, insights in an agent's order, the platform's own
status with its label. Nothing here knows a platform by name: it reads the unified vocabulary and
generic fields (``*_status_label`` facts, ``title_zh``/``body_zh`` in an insight's data)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ..clock import CST
from ..money import fen_to_yuan

#: an ISO 8601 time with an offset, as ``datetime.isoformat()`` writes it into messages
ISO_TIME = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})\b"
)


def fmt_time(value: str | datetime | None, full: bool = False) -> str:
    """A time in Beijing time, as the agents read it."""
    if not value:
        return "—"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S" if full else "%m-%d %H:%M")


def beijing_text(text: str | None, lang: str = "zh") -> str:
    """``text`` with every ISO time (UTC or any offset) rewritten in Beijing time, to the minute."""
    if not text:
        return ""
    suffix = " 北京时间" if lang == "zh" else " Beijing time"

    def one(m: re.Match[str]) -> str:
        try:
            when = datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
        except ValueError:
            return m.group(0)
        return when.astimezone(CST).strftime("%Y-%m-%d %H:%M") + suffix

    return ISO_TIME.sub(one, text)


def status_label(facts: Mapping[str, Any] | None) -> str | None:
    """The platform's own name for its status, when a plugin keeps one in the case's facts
    (``platform_status_label`` or any ``*_status_label``), e.g. 拼多多's "退货退款，待商家处理"."""
    if not facts:
        return None
    value = facts.get("platform_status_label")
    if isinstance(value, str) and value.strip():
        return value.strip()
    for key, value in facts.items():
        if key.endswith("_status_label") and isinstance(value, str) and value.strip():
            return value.strip()
    return None


Label = Callable[[str, str | None], str]


def _money(fen: object) -> str:
    return f"¥{fen_to_yuan(fen)}" if isinstance(fen, int) and not isinstance(fen, bool) else "—"


def event_text(
    event: Mapping[str, Any], label: Label, lang: str, action_names: Mapping[str, str] | None = None
) -> str:
    """A timeline event in the page's language, from its kind and data (the stored summary is
    English, written for logs and the CLI); an event hub cannot word keeps its summary."""
    summary = beijing_text(str(event.get("summary") or ""), lang)
    if lang != "zh":
        return summary
    kind = event.get("kind")
    data: Mapping[str, Any] = event.get("data") or {}
    if kind == "created":
        m = re.search(r"\(([^()]*)\)\s*$", summary)
        text = f"买家申请{label('kind', data.get('kind'))}"
        if data.get("refund_fen"):
            text += f" · {_money(data.get('refund_fen'))}"
        return text + (f" · 平台状态 {m.group(1)}" if m else "")
    if kind == "status_changed" and data.get("to"):
        to = label("status", data.get("to"))
        text = f"状态：{label('status', data['from'])} → {to}" if data.get("from") else f"状态：{to}"
        return text + (f" · 平台状态 {data['platform_status']}" if data.get("platform_status") else "")
    if kind == "dispute_changed":
        dkind = data.get("kind") or summary.split(" ", 1)[0].rstrip(":")
        before = label("dispute_status", data["from"]) if data.get("from") else None
        after = label("dispute_status", data["to"]) if data.get("to") else "结束"
        head = label("dispute_kind", dkind) if dkind else "纠纷"
        return f"{head}：{before} → {after}" if before else f"{head}：{after}"
    if kind == "kind_changed" and data.get("to"):
        return f"类型：{label('kind', data.get('from'))} → {label('kind', data['to'])}"
    if kind == "amount_changed":
        return f"退款金额：{_money(data.get('from'))} → {_money(data.get('to'))}"
    if kind == "return_shipped" and data.get("waybill"):
        return f"买家退货运单号 {data['waybill']}"
    if kind == "deadline_changed":
        due = data.get("due_at")
        return (
            "截止时间："
            + (f"{fmt_time(due, True)} 北京时间" if due else "无")
            + (f" · 规则 {data['rule_id']}" if data.get("rule_id") else "")
        )
    if kind == "action" and data.get("action"):
        name = (action_names or {}).get(data["action"]) or data["action"]
        text = f"{name}：{label('action_status', data.get('status'))}"
        _, sep, message = summary.partition(" — ")
        return text + (f" — {message}" if sep else "")
    if kind == "evidence_added":
        return "上传凭证：" + summary.split(": ", 1)[-1]
    return summary


def arrange_insights(insights: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Insights in the order an agent reads them: what the case is linked to, then the risks
    (danger, then warning), then the rest (guides, eligibility, upstream steps) in the plugin's
    order. Times inside the text are given in Beijing time; an amount already stated in the title is
    not repeated beside it; a plugin's Chinese wording (``data.title_zh``/``body_zh``) is used on
    Chinese pages."""
    rank = {"danger": 1, "warning": 2}
    out: list[dict[str, Any]] = []
    for i in insights:
        item = dict(i)
        data = item.get("data") or {}
        if lang == "zh":
            item["title"] = data.get("title_zh") or item.get("title")
            item["body"] = data.get("body_zh") or item.get("body")
        item["title"] = beijing_text(item.get("title"), lang)
        item["body"] = beijing_text(item.get("body"), lang)
        amount = item.get("amount_fen")
        item["show_amount"] = amount is not None and f"¥{fen_to_yuan(amount)}" not in item["title"]
        out.append(item)
    return sorted(
        out,
        key=lambda i: 0 if i.get("kind") == "link" else rank.get(str(i.get("level")), 3),
    )
