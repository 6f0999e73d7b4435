"""The shop policy page (``/policy``, admins only) and the auto-rules page (``/auto``: rules, their
dry-run and history; admins edit). Forms post with the session's CSRF token like every page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..auto import repo as auto_repo
from ..auto.runner import dry_run
from ..auto.service import add_rule, rule_dict, run_dict, version_dict
from ..clicommon import UsageError
from ..errors import ConfigError
from ..policy.cli import effective_arg
from ..policy.keys import FORMS, KEYS
from ..policy.store import history, policy_state, set_policy
from ..store.pages_repo import shop_names
from ..store.shops import list_shop_rows
from .keys import LANG, hub_key
from .middlewares import CSRF_FIELD, ApiError
from .views import principal_of, render

routes = web.RouteTableDef()

#: page labels (zh, en)
LABELS = {
    "policy_title": ("店铺策略", "Shop policy"),
    "policy_intro": (
        "店铺自己的时限与阈值：设置后立即（或自指定日期起）生效，并重新计算该店铺未结案件与订单的期限。",
        "The shop's own clocks and thresholds: in force at once (or from a date); the shop's open cases "
        "and orders are re-evaluated.",
    ),
    "key": ("项目", "Key"),
    "value": ("当前值", "Value"),
    "source": ("来源", "Source"),
    "drives": ("影响的规则设置", "Drives"),
    "scheduled": ("待生效", "Scheduled"),
    "new_value": ("新值", "New value"),
    "from": ("生效日期（北京时间，可留空）", "From (Beijing date, optional)"),
    "save": ("保存", "Save"),
    "default": ("默认值", "default"),
    "set": ("已设置", "set"),
    "shop_setting": ("店铺设置", "shop setting"),
    "history": ("历史", "History"),
    "reevaluated": ("已重新计算", "Re-evaluated"),
    "cases": ("个未结案件", "open cases"),
    "orders": ("个订单", "orders"),
    "auto_title": ("自动规则", "Auto-rules"),
    "paused": ("所有自动规则已暂停", "All auto-rules are paused"),
    "pause": ("全部暂停", "Pause all"),
    "resume": ("恢复运行", "Resume"),
    "enable": ("启用", "Enable"),
    "disable": ("停用", "Disable"),
    "enabled": ("已启用", "enabled"),
    "disabled": ("未启用", "disabled"),
    "condition": ("条件", "Condition"),
    "action": ("动作", "Action"),
    "shops": ("店铺", "Shops"),
    "cap": ("每日上限（元）", "Daily cap (yuan)"),
    "dry_run": ("试运行（近 30 天）", "Dry-run (last 30 days)"),
    "now": ("当前", "now"),
    "past": ("历史", "history"),
    "would_move": ("涉及金额（元）", "Money (yuan)"),
    "capped": ("超出每日上限", "stopped by the cap"),
    "versions": ("版本", "Versions"),
    "runs": ("执行记录", "History"),
    "add_rule": ("新增或修改规则", "Add or change a rule"),
    "name": ("名称", "Name"),
    "params": ("参数（K=V，每行一个）", "Parameters (K=V, one a line)"),
    "case": ("案件", "Case"),
    "outcome": ("结果", "Outcome"),
    "none": ("暂无", "none"),
}


def _labels(lang: str) -> dict[str, str]:
    return {k: (zh if lang == "zh" else en) for k, (zh, en) in LABELS.items()}


def _admin(request: web.Request, what: str) -> Any:
    principal = principal_of(request)
    if not principal.is_admin:
        raise ApiError(403, f"only admins {what}")
    return principal


@routes.get("/policy", name="policy")
async def policy_page(request: web.Request) -> web.Response:
    """Every shop's policy: values in force, their source, scheduled values, history; a form each."""
    _admin(request, "see and change shop policies")
    hub = request.app[hub_key]
    shops = []
    async with hub.engine.connect() as conn:
        for row in await list_shop_rows(hub.engine):
            info = hub.registry.platforms.get(row.platform)
            state = await policy_state(conn, row, info, hub.now())
            shops.append(
                {
                    "name": row.name,
                    "platform": row.platform,
                    "policy": [c.as_dict() for c in state.values()],
                    "history": (await history(conn, row.id))[:20],
                }
            )
    q = request.query
    return render(
        request,
        "policy.html",
        L=_labels(request.get(LANG, "zh")),
        shops=shops,
        forms=FORMS,
        keys=KEYS,
        error=q.get("error"),
        done=q.get("done"),
    )


@routes.post("/policy/{shop}", name="policy_set")
async def policy_set(request: web.Request) -> web.StreamResponse:
    """Set the filled-in values of one shop (checked; the shop's cases re-evaluated)."""
    principal = _admin(request, "change shop policies")
    hub = request.app[hub_key]
    shop = request.match_info["shop"]
    form = await request.post()
    values = {k.key: str(form.get(k.key, "")).strip() for k in KEYS}
    values = {k: v for k, v in values.items() if v}
    try:
        effective = effective_arg(str(form.get("from", "")).strip() or None)
        result = await set_policy(hub, shop, values, effective_at=effective, actor=f"web:{principal.name}")
    except (ConfigError, UsageError) as err:
        where = "/policy?" + urlencode({"error": str(err)[:300]}) + f"#shop-{shop}"
        raise web.HTTPSeeOther(location=where) from None
    done = f"{shop}: {', '.join(f'{k}={v}' for k, v in values.items())} · {result.cases}/{result.orders}"
    raise web.HTTPSeeOther(location="/policy?" + urlencode({"done": done}) + f"#shop-{shop}")


@routes.get("/auto", name="auto")
async def auto_page(request: web.Request) -> web.Response:
    """The auto-rules in the caller's shops, each with its dry-run, versions and history."""
    principal = principal_of(request)
    hub = request.app[hub_key]
    scope = set(await shop_names(hub.engine, principal.shop_ids))
    since = timedelta(days=30)
    rules = []
    for row in await auto_repo.all_rules(hub.engine):
        if not principal.is_admin and not set(row.shops or []) <= scope:
            continue
        rules.append(
            {
                **rule_dict(row),
                "dry_run": (await dry_run(hub, row, since)).as_dict(),
                "versions": [version_dict(v) for v in await auto_repo.versions(hub.engine, row.id)],
                "runs": [run_dict(r) for r in await auto_repo.runs(hub.engine, row.id, limit=30)],
            }
        )
    q = request.query
    return render(
        request,
        "auto.html",
        L=_labels(request.get(LANG, "zh")),
        rules=rules,
        paused=await auto_repo.is_paused(hub.engine),
        error=q.get("error"),
        done=q.get("done"),
        can_edit=principal.is_admin,
        csrf_name=CSRF_FIELD,
    )


@routes.post("/auto/switch/{verb}", name="auto_switch")
async def auto_switch(request: web.Request) -> web.StreamResponse:
    """The kill switch: pause or resume every rule."""
    principal = _admin(request, "pause or resume auto-rules")
    verb = request.match_info["verb"]
    if verb not in ("pause", "resume"):
        raise ApiError(404, "no such switch")
    hub = request.app[hub_key]
    await auto_repo.set_paused(hub.engine, verb == "pause", f"web:{principal.name}", hub.now())
    raise web.HTTPSeeOther(location="/auto")


@routes.post("/auto/rules/{name}/{verb}", name="auto_enable")
async def auto_enable(request: web.Request) -> web.StreamResponse:
    """Enable or disable one rule."""
    _admin(request, "enable or disable auto-rules")
    verb = request.match_info["verb"]
    if verb not in ("enable", "disable"):
        raise ApiError(404, "no such action")
    hub = request.app[hub_key]
    try:
        await auto_repo.set_enabled(hub.engine, request.match_info["name"], verb == "enable", hub.now())
    except ConfigError as err:
        raise ApiError(404, str(err)) from None
    raise web.HTTPSeeOther(location=f"/auto#rule-{request.match_info['name']}")


@routes.post("/auto/rules", name="auto_add")
async def auto_add(request: web.Request) -> web.StreamResponse:
    """Add a rule or a new version of one (checked like ``hub auto add``; it starts disabled)."""
    principal = _admin(request, "add auto-rules")
    hub = request.app[hub_key]
    form = await request.post()
    params: dict[str, str] = {}
    try:
        for line in str(form.get("params", "")).splitlines():
            if line.strip():
                if "=" not in line:
                    raise ConfigError(f"parameter {line.strip()!r}: give K=V")
                k, v = line.split("=", 1)
                params[k.strip()] = v.strip()
        row = await add_rule(
            hub,
            name=str(form.get("name", "")).strip(),
            shops=[s.strip() for s in str(form.get("shops", "")).split(",") if s.strip()],
            condition=str(form.get("condition", "")).strip(),
            action=str(form.get("action", "")).strip(),
            params=params,
            daily_cap_yuan=str(form.get("cap", "")).strip() or None,
            actor=f"web:{principal.name}",
        )
    except ConfigError as err:
        raise web.HTTPSeeOther(location="/auto?" + urlencode({"error": str(err)[:300]})) from None
    raise web.HTTPSeeOther(location="/auto?" + urlencode({"done": f"{row.name} v{row.version}"}))


__all__ = ["routes"]
