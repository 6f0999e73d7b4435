"""Batch work: one action on many cases, with a result per case.

A batch is a list of case ids, one action, its parameters and a batch key. Each case is acted on
through the single-case path (the same checks, records and audit), under the batch key: the store
scopes an idempotency key to one case and one action, so the batch key is every case's key, and
resubmitting the same batch replays what was done instead of doing it again.

Each case ends as one of three outcomes:

- ``done``: the action was performed (or had already been, under this key: ``replayed``);
- ``refused``: it was tried and the platform (or a parameter check) refused it: the reason is shown;
- ``skipped``: the case does not offer the action now (or is not one the caller may see): nothing
  was tried.

The web (``POST /api/cases/batch``, the work list's toolbar) and the CLI (``hub case act
12,13,14 ACTION``) share this module's vocabulary; each supplies how one case is acted on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, HubError, NotFoundError

#: at most this many cases per batch: a page of the work list holds 200 rows at most, and a
#: batch is acted on case by case (each may call a platform), so it must finish within a request
MAX_BATCH = 200
OUTCOMES = ("done", "refused", "skipped")
OUTCOME_ZH = {"done": "已完成", "refused": "被拒绝", "skipped": "已跳过"}
#: action statuses that count as done (as ``hub case act`` reads them)
DONE_STATUSES = ("done", "recorded", "needs_verification")
#: the reason shown for an id that does not exist and for one outside the caller's shops alike
NO_SUCH_CASE_ZH = "没有这个售后单（或不在你负责的店铺）"
_ID = re.compile(r"[0-9]{1,18}")


def parse_ids(text: str) -> list[int]:
    """``"12,13,14"`` as ids, in order, duplicates dropped; a bad item or too many is a
    :class:`ConfigError` naming it (exit 2)."""
    items = [p.strip() for p in text.split(",") if p.strip()]
    if not items:
        raise ConfigError(f"no case id in {text!r}: give one id or a comma list such as 12,13,14")
    bad = [p for p in items if not _ID.fullmatch(p)]
    if bad:
        raise ConfigError(f"not a case id: {bad[0]!r} (ids are whole numbers, e.g. 12,13,14)")
    return check_ids([int(p) for p in items])


def check_ids(ids: Sequence[int]) -> list[int]:
    """The ids without duplicates; more than :data:`MAX_BATCH` is a :class:`ConfigError`."""
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_BATCH:
        raise ConfigError(f"a batch takes at most {MAX_BATCH} cases, not {len(unique)}: split it")
    return unique


@dataclass
class BatchRow:
    """One case's result in a batch."""

    id: int
    outcome: str  #: done, refused or skipped
    message: str = ""  #: what the platform or the check said (developer-facing, may be English)
    reason_zh: str = ""  #: why it was refused or skipped, for the agent
    status: str | None = None  #: the action record's status when one was made
    replayed: bool = False
    idempotency_key: str | None = None
    action_id: int | None = None
    external_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "outcome": self.outcome,
            "outcome_zh": OUTCOME_ZH[self.outcome],
            "status": self.status,
            "message": self.message,
            "reason_zh": self.reason_zh,
            "replayed": self.replayed,
            "idempotency_key": self.idempotency_key,
            "action_id": self.action_id,
        }


@dataclass
class BatchResult:
    """Every case's result, in the order given."""

    action: str
    key: str | None
    rows: list[BatchRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(r.outcome == o for r in self.rows) for o in OUTCOMES}

    @property
    def all_done(self) -> bool:
        """Whether every case ended done (the CLI exits 0 only then)."""
        return all(r.outcome == "done" for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "key": self.key,
            "counts": self.counts,
            "results": [r.as_dict() for r in self.rows],
        }


def row_from_reply(case_id: int, reply: Any, external_id: str | None = None) -> BatchRow:
    """A case's row from the single-case path's :class:`hub.actions.ActionReply`."""
    done = reply.status in DONE_STATUSES
    return BatchRow(
        id=case_id,
        outcome="done" if done else "refused",
        message=reply.message,
        reason_zh="" if done else f"平台拒绝：{reply.message or reply.status}",
        status=reply.status,
        replayed=reply.replayed,
        idempotency_key=reply.idempotency_key,
        action_id=reply.id,
        external_id=external_id,
    )


OneCase = Callable[[int], Awaitable[BatchRow]]


async def run_batch(ids: Sequence[int], action: str, key: str | None, one: OneCase) -> BatchResult:
    """Act on each case in turn (never two at once: each case's record is written before the next
    is sent, so a crash part-way leaves every case either done, pending or untouched)."""
    result = BatchResult(action=action, key=key)
    for case_id in ids:
        result.rows.append(await one(case_id))
    return result


async def offered(
    hub: Any,
    case_id: int,
    action: str,
    key: str | None,
    *,
    shop_ids: Collection[int] | None,
    external_id: str | None = None,
) -> tuple[dict[str, Any] | None, BatchRow | None]:
    """Whether ``case_id`` offers ``action`` now: ``(its state, None)``, or ``(None, a skipped row)``
    saying why not (no such case in scope, no such action, not now). A case on which this key
    already acted is offered (its stored result is replayed), whatever its state now."""
    from .actions import available_actions
    from .store.actions import action_by_key

    try:
        states = {a["action"]: a for a in await available_actions(hub, case_id, shop_ids)}
    except NotFoundError:
        return None, BatchRow(
            id=case_id, outcome="skipped", message=f"no case {case_id}", reason_zh=NO_SUCH_CASE_ZH
        )
    state = states.get(action)
    if state is None:
        return None, BatchRow(
            id=case_id,
            outcome="skipped",
            message=f"no action {action!r} on this case (actions: {', '.join(sorted(states))})",
            reason_zh="该售后单没有这个操作",
            external_id=external_id,
        )
    if not state["enabled"]:
        previous = None
        if key is not None:
            async with hub.engine.connect() as conn:
                previous = await action_by_key(conn, case_id, action, key)
        if previous is None:
            return None, BatchRow(
                id=case_id,
                outcome="skipped",
                message=str(state["reason"] or ""),
                reason_zh=f"当前不可执行：{state['reason'] or ''}",
                external_id=external_id,
            )
    return state, None


async def cli_one(
    hub: Any, case_id: int, action: str, params: Mapping[str, Any], key: str | None, actor: str
) -> BatchRow:
    """One case of a CLI batch: skipped when the case does not offer the action now (unless the
    key already acted: then the stored result is replayed), else performed; audited."""
    from .audit import audited_action
    from .store.auth_repo import insert_audit

    _state, skipped = await offered(hub, case_id, action, key, shop_ids=None)
    if skipped is not None:
        return skipped
    try:
        # the single-case path, audited with the case's before/after (命令行 on the audit page)
        reply = await audited_action(
            hub, case_id, action, params, actor=actor, via="cli", idempotency_key=key
        )
    except HubError as err:
        row = BatchRow(id=case_id, outcome="refused", message=str(err), reason_zh=f"未执行：{err}")
        await insert_audit(  # a refused attempt is on the audit page too
            hub.engine,
            {
                "at": hub.now(),
                "actor": actor[:120],
                "kind": "action",
                "case_id": case_id,
                "remote": None,
                "request_id": None,
                "detail": {
                    "action": action,
                    "status": "refused",
                    "message": row.message[:500],
                    "via": "cli",
                    "batch": True,
                },
            },
        )
        return row
    return row_from_reply(case_id, reply)
