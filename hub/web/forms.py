"""Reading what callers send: work-list filters from a query string, action parameters from a form
or a JSON body. Both the pages and the API use these, so a bad value gets the same clear 4xx answer
(never a 500) wherever it comes from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from multidict import MultiMapping

from ..actions import APPEAL_OUTCOMES
from ..clock import parse_duration
from ..domain import AfterSaleKind, AfterSaleStatus, Party
from ..money import typed_yuan_to_fen
from ..store.cases import CaseFilter, decode_cursor
from .auth import Principal
from .middlewares import ApiError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_SEARCH = 120
#: the "due within" choices the page offers (the API takes any duration, e.g. 36h)
DUE_CHOICES = ("0h", "24h", "72h", "7d")
_NUMBER = re.compile(r"[0-9]{1,18}")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,120}$")

KINDS = tuple(k.value for k in AfterSaleKind)
STATUSES = tuple(s.value for s in AfterSaleStatus)
PARTIES = tuple(p.value for p in Party)
#: accepted for a party filter: the parties, and ``seller`` (the old name of ``merchant``)
PARTY_NAMES = (*PARTIES, "seller")

#: parameters of hub's own actions (the core lists none: they are the same on every platform)
HUB_PARAMS: dict[str, tuple[dict[str, Any], ...]] = {
    "note": ({"name": "note", "help": "the note", "type": "text", "required": True, "label_zh": "备注"},),
    "assign": (
        {
            "name": "agent",
            "help": "the agent (empty: unassign)",
            "type": "agent",
            "required": False,
            "label_zh": "负责人",
            "help_zh": "留空则取消分配",
        },
    ),
    "record_refusal": (
        {
            "name": "note",
            "help": "why it was refused",
            "type": "text",
            "required": True,
            "label_zh": "拒绝原因",
            "help_zh": "在平台后台拒绝时填写的理由",
        },
    ),
    "record_appeal": (
        {
            "name": "subtype",
            "help": "what is appealed (e.g. late_shipment)",
            "type": "string",
            "required": False,
            "label_zh": "申诉事项",
            "help_zh": "申诉的是什么，例如延迟发货、处罚、裁决",
        },
        {
            "name": "note",
            "help": "the appeal as filed",
            "type": "text",
            "required": False,
            "label_zh": "申诉内容",
            "help_zh": "在平台提交的申诉说明",
        },
    ),
    "record_appeal_outcome": (
        {
            "name": "outcome",
            "help": "the platform's ruling",
            "type": "choice",
            "choices": APPEAL_OUTCOMES,
            "required": True,
            "label_zh": "申诉结果",
            "help_zh": "平台的裁决",
        },
        {
            "name": "note",
            "help": "the ruling's text",
            "type": "text",
            "required": False,
            "label_zh": "裁决说明",
        },
    ),
}


@dataclass
class ListQuery:
    """A parsed work-list query: the filter, paging, and what was selected (to redraw the form)."""

    filter: CaseFilter
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    selected: dict[str, list[str]] = field(default_factory=dict)
    due: str = ""
    search: str = ""
    dispute: bool = False
    status_param: list[str] = field(default_factory=list)
    orders: bool = True
    #: "我的待办": cases assigned to the caller plus unassigned ones in their shops (``?mine=1``)
    mine: bool = False


def _values(query: MultiMapping[str], name: str) -> list[str]:
    """Repeated (``?kind=a&kind=b``) or comma-separated (``?kind=a,b``) values, blanks dropped."""
    out: list[str] = []
    for raw in query.getall(name, []):
        out.extend(v.strip() for v in str(raw).split(",") if v.strip())
    return list(dict.fromkeys(out))


def _check(name: str, values: Sequence[str], allowed: Sequence[str]) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ApiError(
            400, f"unknown {name} {', '.join(repr(b) for b in bad[:5])[:200]} (one of: {', '.join(allowed)})"
        )
    return list(values)


def _flag(query: MultiMapping[str], name: str) -> bool:
    value = str(query.get(name, "")).strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ApiError(400, f"{name} must be true or false, not {value[:40]!r}")


def parse_list_query(
    query: MultiMapping[str], principal: Principal, platforms: Sequence[str], now: datetime
) -> ListQuery:
    """The work-list filter from a query string, scoped to the caller's shops."""
    plats = _check("platform", _values(query, "platform"), platforms)
    kinds = _check("kind", _values(query, "kind"), KINDS)
    statuses = _values(query, "status")
    if statuses == ["open"]:
        statuses = []
    statuses = _check("status", statuses, (*STATUSES, "open"))
    if "open" in statuses:
        raise ApiError(400, "status 'open' cannot be combined with other statuses")
    # ``party`` and ``awaiting`` are one filter: the next action's party ("seller" = "merchant")
    parties = _check("awaiting", [*_values(query, "awaiting"), *_values(query, "party")], PARTY_NAMES)
    awaiting = list(dict.fromkeys(Party.parse(p).value for p in parties))
    # a shop outside the caller's scope simply matches nothing: saying "no such shop" would tell
    # an agent which shops exist
    shops = [s[:120] for s in _values(query, "shop")]
    due = str(query.get("due", "")).strip()
    due_within: timedelta | None = None
    if due:
        try:
            due_within = parse_duration(due)
        except ValueError as err:
            raise ApiError(400, f"due: {err}") from None
        if not timedelta(0) <= due_within <= timedelta(days=3650):
            raise ApiError(400, "due must be between 0h and 3650d")
    search = str(query.get("q", "")).strip()
    if len(search) > MAX_SEARCH:
        raise ApiError(400, f"q is longer than {MAX_SEARCH} characters")
    limit_text = str(query.get("limit", DEFAULT_LIMIT)).strip()
    if not is_number(limit_text) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    cursor = str(query.get("cursor", "")).strip() or None
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError:
            raise ApiError(
                400, "cursor is not a page cursor this server gave (start again without it)"
            ) from None
    dispute = _flag(query, "dispute")
    mine = _flag(query, "mine")
    # orders whose merchant clock runs are listed unless turned off (?orders=false)
    # (the page's form sends a hidden "0" before its checkbox's "1": any "on" value wins)
    orders = True
    if "orders" in query:
        values = [str(v).strip().lower() for v in query.getall("orders")]
        bad = [v for v in values if v not in ("", "0", "false", "no", "off", "1", "true", "yes", "on")]
        if bad:
            raise ApiError(400, f"orders must be true or false, not {bad[0][:40]!r}")
        orders = any(v in ("1", "true", "yes", "on") for v in values)
    f = CaseFilter(
        platforms=plats,
        shops=shops,
        kinds=kinds,
        statuses=statuses or None,
        awaiting=awaiting,
        due_within=due_within,
        dispute_only=dispute,
        search=search or None,
        shop_ids=principal.shop_ids,
        now=now,
        orders=orders,
        mine=principal.name if mine else None,
    )
    return ListQuery(
        filter=f,
        limit=int(limit_text),
        cursor=cursor,
        due=due,
        search=search,
        dispute=dispute,
        selected={"platform": plats, "shop": shops, "kind": kinds, "status": statuses, "awaiting": awaiting},
        status_param=statuses,
        orders=orders,
        mine=mine,
    )


def is_number(text: str) -> bool:
    """ASCII digits that fit a 64-bit id (``str.isdigit`` also accepts '²' and other digits int() refuses)."""
    return _NUMBER.fullmatch(text) is not None


def check_key(key: object) -> str | None:
    """An idempotency key: 8-120 characters of letters, digits and ``._:-`` (None when not given)."""
    if key is None or key == "":
        return None
    if not isinstance(key, str) or not _KEY.match(key):
        raise ApiError(422, "idempotency key must be 8-120 characters: letters, digits, '.', '_', ':' or '-'")
    return key


def param_specs(action: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parameters an action takes: the platform's ParamSpecs, or hub's own for its actions."""
    if action.get("origin") == "hub":
        return [dict(p) for p in HUB_PARAMS.get(str(action["action"]), ())]
    return [dict(p) for p in action.get("params") or ()]


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def coerce_params(
    specs: Sequence[Mapping[str, Any]],
    given: Mapping[str, Any],
    *,
    agents: Sequence[str] = (),
    yuan: bool = False,
    lang: str = "en",
) -> dict[str, Any]:
    """Check ``given`` against the action's parameters and convert each to its type.

    Unknown names, wrong types and missing required values are a 422 that names the parameter
    (in Chinese, by its Chinese label, when ``lang`` is ``zh``: the case page's form).
    ``amount`` parameters are integer fen, except from a form (``yuan=True``), which sends 元 with
    at most two decimals: converted to fen here, once. ``file`` parameters are evidence ids of the
    case (checked by the callers; the core passes the file's content to the plugin); blank optional
    values are left out so the platform's defaults apply.
    """
    zh = lang == "zh"

    def fail(spec: Mapping[str, Any], en: str, cn: str) -> ApiError:
        name = str(spec["name"])
        if zh:
            return ApiError(422, f"“{spec.get('label_zh') or name}”{cn}")
        return ApiError(422, f"parameter {name} {en}")

    known = {str(s["name"]): s for s in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise ApiError(422, f"unknown parameter {', '.join(unknown)[:200]} (parameters: {names})")
    out: dict[str, Any] = {}
    for name, spec in known.items():
        value = given.get(name)
        kind = str(spec.get("type") or "string")
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required") and kind != "agent":
                raise fail(spec, f"is required ({spec.get('help', '')})", "必须填写")
            if kind == "agent":
                out[name] = ""
            continue
        if kind == "amount" and yuan:
            try:
                fen = typed_yuan_to_fen(str(value))
            except ValueError:
                raise fail(
                    spec,
                    "must be an amount in yuan with at most two decimals (e.g. 12.50)",
                    "须为金额（元），最多两位小数，例如 12.50",
                ) from None
            out[name] = fen
        elif kind in ("integer", "amount"):
            if isinstance(value, bool) or not (
                isinstance(value, int)
                or (isinstance(value, str) and re.fullmatch(r"-?\d{1,15}", value.strip()))
            ):
                unit = " (fen)" if kind == "amount" else ""
                raise fail(spec, f"must be a whole number{unit}", "须为整数")
            out[name] = int(value)
            if kind == "amount" and out[name] < 0:
                raise fail(spec, "cannot be negative (fen)", "不能为负数")
        elif kind == "boolean":
            if isinstance(value, bool):
                out[name] = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                out[name] = value.strip().lower() in _TRUE
            else:
                raise fail(spec, "must be true or false", "须为“是”或“否”")
        elif kind == "file":
            if not isinstance(value, str):
                raise fail(spec, "must be an uploaded file (an evidence id in the API)", "须为上传的文件")
            out[name] = value
        else:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise fail(spec, "must be text", "须为文字")
            text = str(value).strip()
            if len(text) > 4000:
                raise fail(spec, "is longer than 4000 characters", "不能超过 4000 个字")
            if kind == "choice" and text not in spec.get("choices", ()):
                allowed = ", ".join(c for c in spec.get("choices", ()) if c)
                raise fail(spec, f"must be one of {allowed}", "不是可选的值")
            if kind == "agent" and text not in agents:
                if zh:
                    raise ApiError(422, f"{text[:60]} 不能负责此售后单（可选：{'、'.join(agents)}）")
                raise ApiError(
                    422, f"{text[:60]!r} cannot be assigned this case (agents: {', '.join(agents)})"
                )
            out[name] = text
    return out
