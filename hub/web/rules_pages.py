"""The rule pages: ``/rules`` (every platform's deadline rules), ``/rules/<platform>`` (one
platform's) and ``/rules/<rule_id>`` (one rule in full), the pages a deadline's "source" links to.

They read the rule tables the plugins ship (:class:`hub.rules.Rule` rows: figure, start event,
counting, party and action, consequence, source) — the same rows that compute the deadlines — so a
page can never disagree with a due time. The long form of each row is the repository's
``docs/rules/<platform>.md`` section headed by the rule id; the page names it for developers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from ..rules import Rule, RuleTable
from ..runtime import Hub
from ..store.shops import list_shop_rows, shop_from_row
from .i18n import labeller, translator
from .keys import LANG, hub_key
from .middlewares import ApiError
from .present import source_terms, zh_text

routes = web.RouteTableDef()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


async def rule_tables(hub: Hub) -> dict[str, RuleTable]:
    """The rule table of every platform with a shop, by platform id (adapters are made, never
    used: a table is data). Kept on the Hub: the tables are code and do not change while it runs."""
    cached: dict[str, RuleTable] | None = hub.__dict__.get("_rule_tables")
    if cached is not None:
        return cached
    tables: dict[str, RuleTable] = {}
    for row in await list_shop_rows(hub.engine):
        if row.platform in tables or row.platform not in hub.registry.platforms:
            continue
        adapter = hub.adapter(shop_from_row(row))
        try:
            tables[row.platform] = adapter.rule_table()
        finally:
            await adapter.close()
    hub.__dict__["_rule_tables"] = tables
    return tables


def figure(rule: Rule, lang: str) -> str:
    """The rule's time in words: "72 小时", "7 个自然日", or "无时限" with the reason."""
    d = rule.duration
    zh = lang == "zh"
    if d is None:
        why = (rule.no_clock_reason_zh if zh else rule.no_clock_reason) or ""
        return ("无时限" if zh else "no clock") + (f"：{why}" if zh and why else f": {why}" if why else "")
    if rule.counting == "natural_days":
        return f"{d.days} 个自然日" if zh else f"{d.days} natural days"
    # rules speak of hours up to 72 ("72 小时"), of days beyond ("7 天")
    if d % timedelta(days=1) == timedelta(0) and d > timedelta(hours=72):
        return f"{d.days} 天" if zh else f"{d.days} days"
    hours, rest = divmod(int(d.total_seconds()), 3600)
    if rest == 0:
        return f"{hours} 小时" if zh else f"{hours} hours"
    return f"{hours} 小时 {rest // 60} 分钟" if zh else f"{hours} h {rest // 60} min"


def applies_to(rule: Rule, lang: str) -> str:
    """Which cases or orders the row covers, in the page's language (conditions on the platform's
    own codes and facts are listed on the page's raw-data fold, not here)."""
    label = labeller(lang)
    m = rule.match
    zh = lang == "zh"
    sep = "、" if zh else ", "
    if m.subject == "order":
        head = "订单" if zh else "orders"
        states = [label("order_status", s) for s in sorted(m.statuses)]
    else:
        head = "售后单" if zh else "after-sales cases"
        states = [label("status", s) for s in sorted(m.statuses)]
    parts = [head]
    if states:
        parts.append(("状态：" if zh else "status: ") + sep.join(states))
    if m.kinds:
        parts.append(("类型：" if zh else "kind: ") + sep.join(label("kind", k) for k in sorted(m.kinds)))
    if m.dispute_kinds:
        parts.append(
            ("纠纷：" if zh else "dispute: ")
            + sep.join(label("dispute_kind", k) for k in sorted(m.dispute_kinds))
        )
    if m.dispute_statuses:
        shown = [
            ("无纠纷" if zh else "none") if s == "none" else label("dispute_status", s)
            for s in sorted(m.dispute_statuses)
        ]
        parts.append(("纠纷状态：" if zh else "dispute status: ") + sep.join(shown))
    if m.platform_statuses or m.facts:
        parts.append("另有平台状态条件（见原始数据）" if zh else "with platform conditions (see raw data)")
    return "；".join(parts) if zh else "; ".join(parts)


def rule_view(rule: Rule, platform: str, lang: str) -> dict[str, Any]:
    """One row as the pages show it."""
    label = labeller(lang)
    zh = lang == "zh"
    penalty = None
    if rule.penalty is not None:
        cap = rule.penalty.cap_fen
        if zh:
            penalty = f"实付金额的 {rule.penalty.percent}%" + (f"，最多 ¥{cap // 100}" if cap else "")
        else:
            penalty = f"{rule.penalty.percent} % of the paid amount" + (
                f", at most ¥{cap // 100}" if cap else ""
            )
    doc = DOCS / f"{platform}.md"
    return {
        "id": rule.id,
        "platform": platform,
        "title": (zh_text(rule.summary_zh) or rule.summary_zh) if zh else rule.summary_en,
        "party": label("party", rule.party.value),
        "action": label("deadline_action", rule.action),
        "figure": figure(rule, lang),
        "has_clock": rule.duration is not None,
        "counting": translator(lang)("counting_" + rule.counting),
        "start_event": (
            zh_text(rule.start_event_zh)
            or ("进入当前状态时" if rule.anchors == ("status_since",) else "相关事件发生时")
        )
        if zh
        else (rule.start_event or ", ".join(rule.anchors)),
        "consequence": (zh_text(rule.consequence_zh) or rule.on_expiry.label("zh"))
        if zh
        else (rule.consequence_en or rule.on_expiry.label("en")),
        "policy": rule.policy,
        "setting": rule.setting,
        "penalty": penalty,
        "applies": applies_to(rule, lang),
        # a source is cited in English words: its Chinese names on a Chinese page, the text folded
        "basis": source_terms(rule.source) if zh else rule.source,
        "source": rule.source,
        "doc": f"docs/rules/{platform}.md#{rule.id}" if doc.exists() else None,
        "raw": {
            "platform_statuses": sorted(rule.match.platform_statuses),
            "facts": {k: repr(v) for k, v in rule.match.facts.items()},
            "anchors": list(rule.anchors),
            "on_expiry": rule.on_expiry.value,
        },
    }


def _render(request: web.Request, template: str, **ctx: Any) -> web.Response:
    from .views import render  # the pages' one renderer (translations, the caller, CSRF)

    return render(request, template, **ctx)


async def _platform_rules(request: web.Request, only: str | None) -> web.Response:
    hub = request.app[hub_key]
    lang = request.get(LANG, "zh")
    tables = await rule_tables(hub)
    if only is not None and only not in tables:
        raise ApiError(404, f"no rules for platform {only[:40]!r}")
    groups = []
    for pid in sorted(tables):
        if only is not None and pid != only:
            continue
        table = tables[pid]
        groups.append(
            {
                "platform": pid,
                "rules": [rule_view(r, pid, lang) for r in table.rules],
                "constraints": [
                    {
                        "action": _action_name(hub, pid, c.action, lang),
                        "reason": (zh_text(c.reason_zh) or c.reason_zh) if lang == "zh" else c.reason_en,
                    }
                    for c in table.constraints
                ],
            }
        )
    return _render(request, "rules.html", groups=groups, only=only, platforms=sorted(tables))


def _action_name(hub: Hub, platform: str, action: str, lang: str) -> str:
    """An action by the platform's own label for it (its capability), else the vocabulary's."""
    cap = hub.registry.platforms[platform].capability(action)
    if cap is not None:
        return cap.label_zh if lang == "zh" else cap.label
    return labeller(lang)("deadline_action", action)


@routes.get("/rules", name="rules")
async def rules_index(request: web.Request) -> web.Response:
    """Every platform's deadline rules (``?platform=`` for one)."""
    only = request.query.get("platform") or None
    return await _platform_rules(request, only)


@routes.get("/rules/{name}", name="rule")
async def rule_page(request: web.Request) -> web.Response:
    """One rule (``/rules/taobao.refund_reply_72h``) or one platform's rules (``/rules/taobao``)."""
    name = request.match_info["name"]
    hub = request.app[hub_key]
    tables = await rule_tables(hub)
    if name in tables:
        return await _platform_rules(request, name)
    platform = name.split(".", 1)[0]
    table: RuleTable | None = tables.get(platform)
    rule = next((r for r in table.rules if r.id == name), None) if table else None
    if rule is None:
        raise ApiError(404, f"no rule {name[:80]!r}")
    lang = request.get(LANG, "zh")
    return _render(request, "rule.html", r=rule_view(rule, platform, lang))


def rule_urls(tables: Mapping[str, RuleTable]) -> list[str]:
    """Every rule page's path (for tests and the docs)."""
    return [f"/rules/{r.id}" for t in tables.values() for r in t.rules]
