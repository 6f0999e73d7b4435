"""The reports and ledger pages, their JSON twins (``GET /api/reports``, ``GET /api/ledger``) and
the ledger's file download. Scoped like every page: an agent sees only their shops; the ledger is
for admins and viewers (the read-only role finance uses)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from ..domain import Party
from ..ledger import build_ledger, csv_bytes, ledger_doc, lost_parcels, totals, xlsx_bytes
from ..money import fen_to_yuan
from ..reportdays import DayRange, day_range, today_beijing
from ..reports import build_report, shops_in_scope
from ..svgchart import bar_chart
from . import auth
from .i18n import MESSAGES, labeller
from .keys import LANG, hub_key
from .middlewares import ApiError
from .views import principal_of, render

routes = web.RouteTableDef()

#: the pages' words (added to the workbench's vocabulary when the app loads this module)
MESSAGES.update(
    {
        "nav_reports": {"zh": "报表", "en": "Reports"},
        "nav_ledger": {"zh": "售后账", "en": "Ledger"},
        "rp_title": {"zh": "售后报表", "en": "After-sales report"},
        "rp_from": {"zh": "开始日期", "en": "From"},
        "rp_to": {"zh": "结束日期", "en": "To"},
        "rp_all_shops": {"zh": "全部店铺", "en": "All shops"},
        "rp_apply": {"zh": "查询", "en": "Apply"},
        "rp_days_note": {"zh": "按北京时间自然日统计，含首尾两天", "en": "Beijing days, both ends included"},
        "rp_opened": {"zh": "新建售后", "en": "Cases opened"},
        "rp_requested": {"zh": "申请金额", "en": "Requested"},
        "rp_refunded": {"zh": "退款成功", "en": "Refunded"},
        "rp_refunded_money": {"zh": "退款金额", "en": "Refunded money"},
        "rp_by_shop": {"zh": "按店铺", "en": "By shop"},
        "rp_by_platform": {"zh": "按平台", "en": "By platform"},
        "rp_by_reason": {"zh": "按售后原因", "en": "By reason"},
        "rp_cases": {"zh": "售后数", "en": "Cases"},
        "rp_money": {"zh": "金额（元）", "en": "Amount (¥)"},
        "rp_reason": {"zh": "售后原因", "en": "Reason"},
        "rp_no_reason": {"zh": "（未填写原因）", "en": "(no reason)"},
        "rp_first_reply": {"zh": "首次响应", "en": "First reply"},
        "rp_median": {"zh": "首次响应时长中位数", "en": "Median time to first reply"},
        "rp_replied": {"zh": "已响应 / 新建", "en": "Answered / opened"},
        "rp_missed": {"zh": "超时未处理", "en": "Deadlines missed"},
        "rp_missed_total": {"zh": "商家超时次数", "en": "Merchant deadlines missed"},
        "rp_auto_agreed": {"zh": "平台自动同意", "en": "Agreed by the platform"},
        "rp_money_lost": {"zh": "因此损失金额（元）", "en": "Money lost (¥)"},
        "rp_overdue_open": {"zh": "当前已超时未处理", "en": "Open and overdue now"},
        "rp_on_expiry": {"zh": "超时后平台处理", "en": "What the platform did"},
        "rp_to_status": {"zh": "变为状态", "en": "Moved to"},
        "rp_late": {"zh": "延迟发货", "en": "Late shipment"},
        "rp_at_risk": {"zh": "有延迟发货风险的订单", "en": "Orders at risk"},
        "rp_overdue": {"zh": "其中已超时", "en": "Of which overdue"},
        "rp_incurred": {"zh": "已延迟发货（期间内）", "en": "Shipped late (in range)"},
        "rp_orders": {"zh": "订单数", "en": "Orders"},
        "rp_penalty": {"zh": "赔付金额（元）", "en": "Penalty (¥)"},
        "rp_agents": {"zh": "客服处理量", "en": "Per agent"},
        "rp_agent": {"zh": "客服", "en": "Agent"},
        "rp_actions": {"zh": "操作次数", "en": "Actions"},
        "rp_done": {"zh": "成功", "en": "Done"},
        "rp_failed": {"zh": "失败", "en": "Failed"},
        "rp_item": {"zh": "项目", "en": "Item"},
        "rp_value": {"zh": "数值", "en": "Value"},
        "lg_title": {"zh": "售后账（按店铺、按日）", "en": "After-sales ledger (per shop and day)"},
        "lg_day": {"zh": "日期", "en": "Day"},
        "lg_refunds": {"zh": "退款", "en": "Refunds"},
        "lg_compensation": {"zh": "补偿", "en": "Compensation"},
        "lg_postage": {"zh": "承担退货运费", "en": "Return postage borne"},
        "lg_late": {"zh": "延迟发货赔付", "en": "Late-shipment penalties"},
        "lg_upstream": {"zh": "17网退款到账", "en": "17网 refunds received"},
        "lg_goods": {"zh": "承担货款", "en": "Goods cost borne"},
        "lg_total": {"zh": "合计", "en": "Total"},
        "lg_count": {"zh": "笔", "en": "n"},
        "lg_download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
        "lg_download_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
        "lg_lost": {"zh": "丢件（按月）", "en": "Lost parcels per month"},
        "lg_month": {"zh": "月份", "en": "Month"},
        "lg_by_day": {"zh": "每日退款与赔付（元）", "en": "Money out per day (¥)"},
    }
)

DEFAULT_DAYS = 7


def _principal(request: web.Request) -> auth.Principal:
    return principal_of(request)


def _days(request: web.Request) -> DayRange:
    """The ``from``/``to`` query (Beijing days); default the last seven days up to today."""
    today = today_beijing(request.app[hub_key].now())
    first = request.query.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    last = request.query.get("to") or today.isoformat()
    return day_range(first, last, names=("from", "to"))


async def _scope(request: web.Request, principal: auth.Principal) -> tuple[list[int] | None, str]:
    """The shop ids to report on: the caller's, narrowed to ``shop`` (a name, or names separated by
    commas) when given. A shop outside the caller's scope reads as unknown (nothing tells an agent
    it exists)."""
    text = request.query.get("shop", "").strip()
    names = sorted({n.strip() for n in text.split(",") if n.strip()})
    if not names:
        return (list(principal.shop_ids) if principal.shop_ids is not None else None), ""
    found = await shops_in_scope(request.app[hub_key].engine, principal.shop_ids, names)
    missing = sorted(set(names) - {name for name, _ in found.values()})
    if missing:
        raise ApiError(400, f"shop: unknown shop {', '.join(missing)[:200]!r}")
    return list(found), text


def _sourcing(request: web.Request) -> set[str]:
    registry = request.app[hub_key].registry.platforms
    return {pid for pid, info in registry.items() if info.merchant_side is Party.BUYER}


def _may_read_ledger(principal: auth.Principal) -> None:
    if principal.role not in ("admin", "viewer"):
        raise ApiError(403, "the ledger is for admins and viewers (finance)")


async def _report(request: web.Request) -> tuple[dict[str, Any], str]:
    principal = _principal(request)
    days = _days(request)
    ids, shop = await _scope(request, principal)
    hub = request.app[hub_key]
    return await build_report(hub.engine, days, shop_ids=ids, now=hub.now()), shop


async def _ledger(request: web.Request) -> tuple[DayRange, Any, Any, str]:
    principal = _principal(request)
    _may_read_ledger(principal)
    days = _days(request)
    ids, shop = await _scope(request, principal)
    engine = request.app[hub_key].engine
    rows = await build_ledger(engine, days, shop_ids=ids, sourcing=_sourcing(request))
    lost = await lost_parcels(engine, days, shop_ids=ids)
    return days, rows, lost, shop


async def _shop_choices(request: web.Request) -> list[str]:
    found = await shops_in_scope(request.app[hub_key].engine, _principal(request).shop_ids)
    return sorted(name for name, _ in found.values())


@routes.get("/api/reports", name="api_reports")
async def api_reports(request: web.Request) -> web.Response:
    """The report's figures: what ``hub report --json`` prints, within the caller's shops."""
    report, _ = await _report(request)
    return web.json_response(report)


@routes.get("/api/ledger", name="api_ledger")
async def api_ledger(request: web.Request) -> web.Response:
    """The ledger: what ``hub ledger --json`` prints, within the caller's shops."""
    days, rows, lost, _ = await _ledger(request)
    return web.json_response(ledger_doc(days, rows, lost))


@routes.get("/reports", name="reports")
async def reports_page(request: web.Request) -> web.Response:
    """Charts (inline SVG) and their tables over a range of Beijing days."""
    report, shop = await _report(request)
    lang = request.get(LANG, "zh")
    label = labeller(lang)
    registry = request.app[hub_key].registry.platforms

    def m(key: str) -> str:
        return MESSAGES[key]["zh" if lang == "zh" else "en"]

    no_reason = m("rp_no_reason")

    def platform(pid: str) -> str:
        info = registry.get(pid)
        return pid if info is None else info.name_zh if lang == "zh" else info.name

    def reason(text: str) -> str:
        return no_reason if text == "(none)" else text

    c = report["cases"]
    d = report["deadlines"]
    charts = {
        "by_shop": bar_chart([(g["shop"], g["cases"]) for g in c["by_shop"]], title=m("rp_by_shop")),
        "by_platform": bar_chart(
            [(platform(g["platform"]), g["cases"]) for g in c["by_platform"]], title=m("rp_by_platform")
        ),
        "by_reason": bar_chart(
            [(reason(g["reason"]), g["cases"]) for g in c["by_reason"]], title=m("rp_by_reason")
        ),
        "missed": bar_chart(
            [(label("on_expiry", o["on_expiry"]), o["cases"]) for o in d["by_outcome"]], title=m("rp_missed")
        ),
        "late": bar_chart(
            [
                (m("rp_at_risk"), report["late_shipment"]["at_risk"]["penalty_fen"]),
                (m("rp_overdue"), report["late_shipment"]["overdue"]["penalty_fen"]),
                (m("rp_incurred"), report["late_shipment"]["incurred"]["penalty_fen"]),
            ],
            title=m("rp_late"),
            value_text=fen_to_yuan,
        ),
        "agents": bar_chart(
            [(label("actor", a["agent"]), a["cases"]) for a in report["agents"]], title=m("rp_agents")
        ),
    }
    return render(
        request,
        "reports.html",
        report=report,
        charts=charts,
        shop=shop,
        shops=await _shop_choices(request),
        platform_label=platform,
        reason_label=reason,
        duration=_duration_zh if lang == "zh" else _duration_en,
    )


@routes.get("/ledger", name="ledger")
async def ledger_page(request: web.Request) -> web.Response:
    """The after-sales ledger per shop and Beijing day, with downloads for finance."""
    days, rows, lost, shop = await _ledger(request)
    per_day: dict[str, int] = {}
    for r in rows:
        out = r.refunds_fen + r.compensation_fen + r.postage_fen + r.late_shipment_fen
        per_day[r.day] = per_day.get(r.day, 0) + out
    lang = "zh" if request.get(LANG, "zh") == "zh" else "en"
    chart = bar_chart(
        sorted(per_day.items()), title=MESSAGES["lg_by_day"][lang], value_text=fen_to_yuan, limit=40
    )
    return render(
        request,
        "ledger.html",
        rows=rows,
        total=totals(rows),
        lost=lost,
        chart=chart,
        first=days.first.isoformat(),
        last=days.last.isoformat(),
        shop=shop,
        shops=await _shop_choices(request),
    )


@routes.get("/ledger/export", name="ledger_export")
async def ledger_export(request: web.Request) -> web.Response:
    """The ledger as a file: ``format=csv`` (UTF-8 with BOM) or ``format=xlsx``."""
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise ApiError(400, "format: use csv or xlsx")
    days, rows, lost, _ = await _ledger(request)
    name = f"ledger-{days.first.isoformat()}-{days.last.isoformat()}.{fmt}"
    if fmt == "csv":
        body, ctype = csv_bytes(rows), "text/csv; charset=utf-8"
    else:
        body, ctype = (
            xlsx_bytes(rows, lost),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return web.Response(
        body=body,
        headers={"Content-Type": ctype, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _duration_zh(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    h, m = seconds // 3600, seconds % 3600 // 60
    return f"{h}小时{m}分" if h else f"{m}分{seconds % 60}秒"


def _duration_en(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    h, m = seconds // 3600, seconds % 3600 // 60
    return f"{h}h {m}m" if h else f"{m}m {seconds % 60}s"
