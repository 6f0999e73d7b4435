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
    # the platform's own status codes are not repeated here: the case page names them in its
    # raw-data panel, and the unified status says the same in Chinese
    if kind == "created":
        text = f"买家申请{label('kind', data.get('kind'))}"
        if data.get("refund_fen"):
            text += f" · {_money(data.get('refund_fen'))}"
        return text
    if kind == "status_changed" and data.get("to"):
        to = label("status", data.get("to"))
        return f"状态：{label('status', data['from'])} → {to}" if data.get("from") else f"状态：{to}"
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
        name = (action_names or {}).get(data["action"]) or label("hub_action", data["action"])
        text = f"{name}：{label('action_status', data.get('status'))}"
        _, sep, message = summary.partition(" — ")
        said = zh_text(message) if sep else None
        return text + (f" — {said}" if said else "")
    if kind == "evidence_added":
        return "上传凭证：" + summary.split(": ", 1)[-1]
    if kind == "linked" and data.get("order"):
        role = {"purchase": "采购单", "sale": "销售订单"}.get(str(data.get("role")), "订单")
        return f"关联到{role} {data['order']}（{label('link_method', data.get('method'))}）"
    return zh_text(summary) or summary if has_english(summary) else summary


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
            title = data.get("title_zh") or item.get("title")
            item["title"] = zh_text(title) or title
            body = data.get("body_zh") or item.get("body")
            item["body"] = zh_text(body) or body
        item["title"] = beijing_text(item.get("title"), lang)
        item["body"] = beijing_text(item.get("body"), lang)
        amount = item.get("amount_fen")
        item["show_amount"] = amount is not None and f"¥{fen_to_yuan(amount)}" not in item["title"]
        out.append(item)
    return sorted(
        out,
        key=lambda i: 0 if i.get("kind") == "link" else rank.get(str(i.get("level")), 3),
    )


#: a CJK ideograph: text with one is (at least partly) Chinese
_CJK = re.compile(r"[\u3400-\u9fff]")
#: a bracketed aside: (...), [...] or （...）, innermost first
_ASIDE = re.compile(r"\s*(?:\([^()\[\]（）]*\)|\[[^()\[\]（）]*\]|（[^()\[\]（）]*）)")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
#: a snake_case field name (``good_return_time``), with the separator after it
_FIELD_NAME = re.compile(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b\s*[，,、]?\s*")


def zh_text(text: object) -> str | None:
    """The Chinese of a plugin's bilingual text for a Chinese page, or ``None`` when it has none.

    Plugins word agent-facing text as "中文 (English)" (a reason, a help line, a source): the
    English asides — bracketed parts without a Chinese character, like "(no appeal API in TOP)" or
    a "[source ...]" citation — are dropped. Text with no Chinese at all gives ``None``: the caller
    shows its own Chinese instead.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    # a trailing "[citation]" (a constraint's source, appended by the core) is for developers
    if value.endswith("]") and " [" in value:
        value = value[: value.rindex(" [")]
    previous = None
    while previous != value:
        previous = value
        value = _ASIDE.sub(lambda m: m.group(0) if _mostly_chinese(m.group(0)) else "", value)
    # "中文 · English" (a plugin's two titles side by side): the Chinese ones
    if " · " in value:
        value = " · ".join(p for p in value.split(" · ") if _mostly_chinese(p)) or value
    # a developer's field name inside a Chinese sentence ("买家确认收货（receive_time，…）")
    value = _FIELD_NAME.sub("", value)
    value = re.sub(r"\s*(?:\(\s*\)|（\s*）)", "", value)
    value = value.strip(" ;；,，:")
    # mostly English with a Chinese name inside ("the merchant is the buyer on 17网") is English
    return value if _mostly_chinese(value) else None


def _mostly_chinese(text: str) -> bool:
    """Chinese characters weigh at least a third of the Latin letters (a Chinese sentence may
    name an API or a code; an English one may name a Chinese page)."""
    cjk = len(_CJK.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(text))
    return cjk > 0 and cjk * 3 >= latin


def has_english(text: str) -> bool:
    """Whether ``text`` has a Latin word (two letters or more)."""
    return _LATIN_WORD.search(text) is not None


_CJK_TERM = re.compile(r"[0-9A-Za-z]*[\u3400-\u9fff][\u3400-\u9fff0-9·、/“”]*")


def source_terms(source: object) -> str | None:
    """The Chinese names inside an English citation ("Taobao refund rules (退款流程): …" gives
    "退款流程"), for a Chinese page; ``None`` when it names none (the page then shows no source:
    the rule page has it in full)."""
    terms = [t for t in _CJK_TERM.findall(str(source or "")) if not has_english(t)]
    return " · ".join(dict.fromkeys(terms)) or None


def disabled_reason(reason: object, label: Label, t: Callable[..., str], lang: str) -> str:
    """Why an action is disabled, in the page's language: hub's own reasons by their label, a
    plugin's bilingual reason by its Chinese, an English-only reason as "not available now"."""
    text = "" if reason is None else str(reason)
    if lang != "zh":
        return label("reason", text) if text else ""
    known = label("reason", text)
    if known != text:
        return known
    return zh_text(text) or t("reason_unavailable")


def span_zh(value: object) -> str:
    """A setting's span as an agent reads it: "12h" → "12 小时", "3d" → "3 天", "30m" → "30 分钟";
    anything else (a number, a time of day) as it is."""
    text = str(value or "").strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text)
    if not m:
        return text or "—"
    unit = {"s": "秒", "m": "分钟", "h": "小时", "d": "天"}[m.group(2)]
    return f"{m.group(1)} {unit}"


def lag_zh(seconds: int | None) -> str:
    """A sync lag in Chinese units (秒, 分钟, 小时, 天)."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds} 秒"
    if seconds < 7200:
        return f"{seconds // 60} 分钟"
    if seconds < 172800:
        return f"{seconds // 3600} 小时 {seconds % 3600 // 60:02d} 分"
    return f"{seconds // 86400} 天 {seconds % 86400 // 3600} 小时"
