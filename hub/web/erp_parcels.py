"""The workbench's ERP and logistics parts: the case page's "ERP 单据" and logistics blocks, and
the page of returned parcels that match no case (``/parcels``), matched by waybill."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..erp.repo import case_documents
from ..errors import HubError
from ..logistics.commands import ACTION_ZH, ROLE_ZH, STATE_ZH
from ..logistics.kuaidi100 import company_name
from ..logistics.repo import case_parcels, match, unmatched
from .keys import hub_key
from .middlewares import ApiError

routes = web.RouteTableDef()

#: Chinese names of the document kinds, steps and delivery outcomes the case page shows
KIND_ZH = {
    "compensation_refund": "补偿退款单",
    "return": "退货单",
    "exchange": "换货单",
    "reship_order": "补发订单",
    "dispute": "维权单",
}
STEP_ZH = {
    "refunded": "已退款",
    "registered": "登记",
    "received": "收货入库",
    "settled": "结算",
    "exchange_shipped": "换货发出",
    "created": "新建补发单",
    "opened": "建档",
    "closed": "结案",
}
DELIVERY_ZH = {"delivered": "已送达", "failed": "失败", "sending": "发送中"}


async def case_blocks(hub: Any, case_id: int) -> dict[str, Any]:
    """What the case page's ERP and logistics blocks show (the caller already checked access)."""
    return {
        "erp_documents": await case_documents(hub.engine, case_id),
        "parcels": await case_parcels(hub.engine, case_id),
        "erp_zh": {"kind": KIND_ZH, "step": STEP_ZH, "delivery": DELIVERY_ZH},
        "parcel_zh": {"state": STATE_ZH, "role": ROLE_ZH, "action": ACTION_ZH},
        "courier": company_name,
    }


@routes.get("/parcels", name="parcels")
async def parcels_page(request: web.Request) -> web.Response:
    """Returned parcels that match no case, with a form to match one to a case by waybill."""
    from .views import principal_of, render

    principal = principal_of(request)
    if not principal.can_act:
        raise ApiError(403, "viewers cannot match parcels")
    items = await unmatched(request.app[hub_key].engine)
    if principal.shop_ids is not None:  # a parcel that kept its shop is seen in that shop's scope only
        items = [p for p in items if p["shop_id"] is None or p["shop_id"] in principal.shop_ids]
    return render(
        request,
        "parcels.html",
        parcels=items,
        parcel_zh={"state": STATE_ZH, "role": ROLE_ZH},
        courier=company_name,
        error=request.query.get("error"),
        matched=request.query.get("matched"),
    )


@routes.post("/parcels/match", name="parcels_match")
async def parcels_match(request: web.Request) -> web.StreamResponse:
    """Match a parcel to a case the caller may act on (post/redirect/get)."""
    from .service import case_view
    from .views import principal_of

    principal = principal_of(request)
    if not principal.can_act:
        raise ApiError(403, "viewers cannot match parcels")
    hub = request.app[hub_key]
    form = await request.post()
    waybill = str(form.get("waybill") or "").strip()
    text = str(form.get("case_id") or "").strip()
    if not text.isdigit():
        raise web.HTTPSeeOther(location="/parcels?" + urlencode({"error": f"案件号无效：{text[:40]}"}))
    case_id = int(text)
    try:
        await case_view(hub, principal, case_id)  # 404 for a case outside the caller's shops
        await match(hub.engine, waybill, case_id, principal.name, hub.now())
    except ApiError as err:
        raise web.HTTPSeeOther(location="/parcels?" + urlencode({"error": err.message[:200]})) from None
    except HubError as err:
        raise web.HTTPSeeOther(location="/parcels?" + urlencode({"error": str(err)[:200]})) from None
    from ..logistics.watcher import reevaluate, watch_settings

    await reevaluate(hub.engine, watch_settings(hub), hub.now(), None)
    raise web.HTTPSeeOther(location="/parcels?" + urlencode({"matched": f"{waybill} → {case_id}"}))
