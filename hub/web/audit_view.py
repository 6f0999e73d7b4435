"""The audit log as people read it: who (a user, 命令行 for the CLI, 自动规则 for an automation),
what (a login, an action by its Chinese name and outcome, an upload), on which case, and what the
action changed (the case's fields before and after, labelled, money in 元)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..actions import HUB_ACTIONS, HUB_LABELS_ZH
from ..money import fen_to_yuan
from ..plugins import Registry
from .forms import HUB_PARAMS
from .present import Label, fmt_time, zh_text

#: how each audited case field's value is labelled (the vocabulary group of :mod:`.i18n`)
_VALUE_GROUP = {"status": "status", "dispute_status": "dispute_status", "kind": "kind"}


def action_names(registry: Registry, lang: str) -> dict[str, str]:
    """Every action id's name in the page's language: the platforms' own labels, then hub's."""
    names: dict[str, str] = {}
    for info in registry.platforms.values():
        for cap in info.capabilities:
            names.setdefault(cap.action, cap.label_zh if lang == "zh" else cap.label)
    for action, label in HUB_ACTIONS.items():
        names[action] = HUB_LABELS_ZH[action] if lang == "zh" else label
    return names


def param_labels(registry: Registry, lang: str) -> dict[str, str]:
    """Parameter names in the page's language (the Chinese form labels), by parameter name."""
    out: dict[str, str] = {}
    if lang != "zh":
        return out
    for info in registry.platforms.values():
        for cap in info.capabilities:
            for p in cap.params:
                if p.label_zh:
                    out.setdefault(p.name, p.label_zh)
    for specs in HUB_PARAMS.values():
        for spec in specs:
            if spec.get("label_zh"):
                out.setdefault(str(spec["name"]), str(spec["label_zh"]))
    return out


def _value(field: str, value: Any, label: Label, lang: str) -> str:
    if value is None or value == "":
        return "—" if lang != "zh" else "无"
    if field == "refund_fen" and isinstance(value, int):
        return f"¥{fen_to_yuan(value)}"
    if field == "platform_status":
        return str(value)
    group = _VALUE_GROUP.get(field)
    return label(group, str(value)) if group else str(value)


def _param(name: str, value: Any, t: Callable[..., str]) -> str:
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if name.endswith("_fen") and isinstance(value, int):
        return f"¥{fen_to_yuan(value)}"
    return str(value)


def audit_rows(
    entries: Sequence[Mapping[str, Any]],
    *,
    label: Label,
    t: Callable[..., str],
    lang: str,
    names: Mapping[str, str],
    params: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The entries as the audit page shows them (newest first, as given)."""
    out: list[dict[str, Any]] = []
    for e in entries:
        detail: Mapping[str, Any] = e.get("detail") or {}
        kind = str(e.get("kind") or "")
        what = label("audit_kind", kind)
        outcome = ""
        if kind == "action" and detail.get("action"):
            what = names.get(str(detail["action"])) or label("deadline_action", str(detail["action"]))
            outcome = label("action_status", detail.get("status"))
            if detail.get("replayed"):
                outcome += "（重复提交，未再次执行）" if lang == "zh" else " (a repeat: nothing sent)"
        before: Mapping[str, Any] = detail.get("before") or {}
        after: Mapping[str, Any] = detail.get("after") or {}
        changes = [
            {
                "field": label("audit_field", f),
                "before": _value(f, before.get(f), label, lang),
                "after": _value(f, after.get(f), label, lang),
                # the platform's own code changed: shown folded with the raw data on Chinese pages
                "raw": f == "platform_status",
            }
            for f in after
            if before.get(f) != after.get(f)
        ]
        message = str(detail.get("message") or "")
        said = (zh_text(message) if lang == "zh" else message) or ""
        sent = {params.get(k, k): _param(k, v, t) for k, v in (detail.get("params") or {}).items()}
        extra = ""
        if kind in ("user_added", "user_enabled", "user_disabled", "token_created", "token_revoked"):
            extra = str(detail.get("user") or detail.get("name") or "")
        elif kind == "evidence":
            extra = str(detail.get("name") or "")
        via = str(detail.get("via") or "")
        out.append(
            {
                "at": fmt_time(e.get("at"), True),
                "actor": label("actor", str(e.get("actor") or "-")),
                "actor_id": e.get("actor"),
                "what": what,
                "kind": kind,
                "outcome": outcome,
                "case_id": e.get("case_id"),
                "changes": changes,
                "had_snapshot": bool(before or after),
                "message": said,
                "params": sent if lang == "zh" else dict(detail.get("params") or {}),
                "extra": extra,
                "via": label("via", via) if via else "",
                "remote": e.get("remote") or "",
                "raw": detail,
            }
        )
    return out
