"""What the case page needs beyond the case itself to speak Chinese throughout: the helpers that
pick a plugin's Chinese wording (reasons, help lines, sources) and the choices the shop offers for
action parameters (its return addresses, say), asked only for enabled actions the agent may take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..choices import shop_choices
from ..runtime import Hub
from ..store.cases import get_case_row
from .auth import Principal
from .i18n import labeller, translator
from .present import disabled_reason, has_english, source_terms, zh_text


async def case_page_text(
    hub: Hub, principal: Principal, case_id: int, actions: Sequence[Mapping[str, Any]], lang: str
) -> dict[str, Any]:
    """The case template's language helpers and ``choices`` (``{action: {param: [Choice]}}``)."""
    label, t = labeller(lang), translator(lang)
    choices: dict[str, dict[str, list[Any]]] = {}
    wants = principal.can_act and any(
        a.get("enabled") and any(p.get("dynamic_choices") for p in a.get("params") or ()) for a in actions
    )
    if wants:
        row = await get_case_row(hub.engine, case_id, principal.shop_ids)
        choices = await shop_choices(hub, int(row.shop_id))
    return {
        "zh_text": zh_text,
        "has_english": has_english,
        "source_terms": source_terms,
        "reason_text": lambda a: disabled_reason(a.get("reason"), label, t, lang),
        "choices": choices,
    }
