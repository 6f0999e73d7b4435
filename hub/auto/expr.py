"""The auto-rules' condition language: a small, safe expression over one case.

It is read with Python's own parser (``ast.parse(..., mode="eval")``) and then checked against a
strict whitelist: only ``and``, ``or``, ``not``, comparisons (``== != < <= > >= in``, ``not in``),
unary minus, names from :data:`NAMES`, one level of ``.field`` on the groups of :data:`GROUPS`,
literals (strings, numbers, ``true``/``false``/``none`` in either case) and lists or tuples of
literals. Anything else — calls, subscripts, arithmetic, lambdas, comprehensions, attributes of
anything but a group — is refused with the column it starts at. Nothing is ever ``eval``-ed:
:func:`evaluate` walks the checked tree itself.

``kind`` and ``status`` compared with a literal are checked against hub's vocabulary, so a typo
(``"refund_onyl"``) is an error rather than a rule that never fires.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain import AfterSaleKind, AfterSaleStatus
from ..errors import ConfigError

#: top-level names a condition may read, with what they are (the reference in docs/operations.md)
NAMES: dict[str, str] = {
    "kind": "after-sales kind: refund_only, return_refund, exchange, ... (text)",
    "status": "hub's status: requested, awaiting_return, ... (text)",
    "platform_status": "the platform's own status code (text)",
    "platform": "platform id: taobao, pinduoduo, seventeen, jd (text)",
    "shop": "shop name (text)",
    "reason": "the buyer's reason, '' when none (text)",
    "refund_fen": "refund asked, in fen (whole number)",
    "refund_yuan": "refund asked, in yuan (number, two decimals)",
    "amount": "the same as refund_yuan",
    "age_hours": "hours since the case was opened (number)",
    "age_days": "days since the case was opened (number)",
    "dispute": "a dispute (platform intervention) is open (true/false)",
    "small_refund": "refund_fen <= the shop's policy small_refund_fen (true/false)",
}

#: groups read with one ``.field``
GROUPS: dict[str, dict[str, str]] = {
    "order": {
        "shipped": "the order has shipped (true/false; false when the order is not known)",
        "status": "the order's hub status: paid, shipped, completed, ... ('' when not known)",
        "paid_yuan": "what the buyer paid for the order, in yuan",
        "known": "the order is in hub (true/false)",
    },
    "next": {
        "party": "who acts next: merchant, buyer, platform, supplier",
        "action": "the next action: reply, confirm_receipt, ...",
        "source": "where its deadline comes from: platform, rule, policy ('' when none)",
        "due_hours": "hours left until the deadline (negative when overdue; -1e9 when none)",
    },
    "eligibility": {
        "known": "a plugin gave an eligibility verdict for the case (true/false)",
        "ok": "every eligibility verdict is favourable (true/false; false when none)",
        "refused": "an eligibility verdict refuses (level danger) (true/false)",
    },
    "policy": {
        "small_refund_fen": "the shop's small-refund threshold, in fen",
        "unshipped_refund_hours": "the shop's unshipped-refund handling time, in hours",
        "order_change_hours": "the shop's order-change handling time, in hours",
        "quality_claim_days": "the shop's quality-complaint window, in days",
        "watch_after_success_days": "the shop's watch period after trade success, in days",
        "ship_warning_hours": "the shop's early ship warning, in hours",
        "dispatch_cutoff": "the shop's same-day dispatch cut-off, HH:MM Beijing time",
    },
}

_LITERAL_NAMES = {"true": True, "false": False, "none": None, "True": True, "False": False, "None": None}
_CMP = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_VOCAB = {
    "kind": {k.value for k in AfterSaleKind},
    "status": {s.value for s in AfterSaleStatus},
}


class ConditionError(ConfigError):
    """A condition that cannot be used; ``column`` (1-based) is where the problem starts."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"condition, column {column}: {message}")
        self.column = column
        self.reason = message


#: the checked tree: ("and", [..]) ("or", [..]) ("not", x) ("cmp", left, [(op, right), ..])
#: ("var", "kind") ("var", "order.shipped") ("lit", value)
Node = tuple[Any, ...]


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, its checked tree and the variables it reads."""

    text: str
    tree: Node
    names: frozenset[str]

    def uses(self, group: str) -> bool:
        return any(n == group or n.startswith(group + ".") for n in self.names)

    def __call__(self, ctx: Mapping[str, Any]) -> bool:
        return evaluate(self, ctx)


def parse(text: str) -> Condition:
    """Parse and check a condition; :class:`ConditionError` (with the column) when it is not valid."""
    if not text.strip():
        raise ConditionError("empty condition", 1)
    if "\n" in text or "\r" in text:
        raise ConditionError("a condition is one line", text.find("\n") + 1 or text.find("\r") + 1)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        col = err.offset or 1
        msg = (err.msg or "syntax error").replace("invalid syntax. ", "")
        if "=" in text and "==" not in text and msg.startswith("invalid syntax"):
            msg = "invalid syntax (compare with ==, not =)"
        raise ConditionError(msg, col) from None
    names: set[str] = set()
    node = _check(tree.body, names)
    return Condition(text=text, tree=node, names=frozenset(names))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0)) + 1


def _check(node: ast.AST, names: set[str]) -> Node:
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return (op, [_check(v, names) for v in node.values])
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return ("not", _check(node.operand, names))
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = _literal(node.operand)
            if isinstance(value, int | Decimal) and not isinstance(value, bool):
                return ("lit", -value)
        raise ConditionError("only 'not' and a minus sign before a number are allowed here", _col(node))
    if isinstance(node, ast.Compare):
        left = _check(node.left, names)
        pairs: list[tuple[str, Node]] = []
        for cmp_op, right in zip(node.ops, node.comparators, strict=True):
            sym = _CMP.get(type(cmp_op))
            if sym is None:
                raise ConditionError(
                    "this comparison is not allowed (use == != < <= > >= in, not in)", _col(right)
                )
            if sym in ("in", "not in"):
                if not isinstance(right, ast.List | ast.Tuple):
                    raise ConditionError('\'in\' needs a list of values, e.g. ["a", "b"]', _col(right))
                items = [_check_literal(e) for e in right.elts]
                pairs.append((sym, ("lit", tuple(items))))
                for item, elt in zip(items, right.elts, strict=True):
                    _vocab(left, [item], elt)
            else:
                checked = _check(right, names)
                if checked[0] == "lit":
                    _vocab(left, [checked[1]], right)
                pairs.append((sym, checked))
        return ("cmp", left, pairs)
    if isinstance(node, ast.Name):
        if node.id in _LITERAL_NAMES:
            return ("lit", _LITERAL_NAMES[node.id])
        if node.id in NAMES:
            names.add(node.id)
            return ("var", node.id)
        if node.id in GROUPS:
            fields = ", ".join(f"{node.id}.{f}" for f in GROUPS[node.id])
            raise ConditionError(f"{node.id!r} needs a field: {fields}", _col(node))
        known = ", ".join([*NAMES, *(f"{g}.*" for g in GROUPS)])
        raise ConditionError(f"unknown name {node.id!r} (names: {known})", _col(node))
    if isinstance(node, ast.Attribute):
        base = node.value
        if not isinstance(base, ast.Name) or base.id not in GROUPS:
            raise ConditionError("only order.*, next.*, eligibility.* and policy.* have fields", _col(node))
        if node.attr not in GROUPS[base.id]:
            fields = ", ".join(GROUPS[base.id])
            raise ConditionError(f"{base.id} has no field {node.attr!r} (fields: {fields})", _col(node))
        name = f"{base.id}.{node.attr}"
        names.add(name)
        return ("var", name)
    if isinstance(node, ast.Constant):
        return ("lit", _literal(node))
    kind = type(node).__name__
    raise ConditionError(f"{_WHAT.get(kind, kind)} is not allowed in a condition", _col(node))


_WHAT = {
    "Call": "a function call",
    "Subscript": "indexing",
    "BinOp": "arithmetic",
    "Lambda": "a lambda",
    "IfExp": "an if-expression",
    "List": "a list outside 'in'",
    "Tuple": "a tuple outside 'in'",
    "Dict": "a dict",
    "ListComp": "a comprehension",
    "NamedExpr": "an assignment",
}


def _literal(node: ast.Constant) -> Any:
    value = node.value
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    raise ConditionError(f"a {type(value).__name__} literal is not allowed", _col(node))


def _check_literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return _literal(node)
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    raise ConditionError("a list after 'in' holds only literal values", _col(node))


def _vocab(left: Node, values: list[Any], where: ast.AST) -> None:
    if left[0] != "var" or left[1] not in _VOCAB:
        return
    allowed = _VOCAB[left[1]]
    for v in values:
        if isinstance(v, str) and v not in allowed:
            raise ConditionError(
                f"{v!r} is not a {left[1]} (one of: {', '.join(sorted(allowed))})", _col(where)
            )


def evaluate(cond: Condition, ctx: Mapping[str, Any]) -> bool:
    """Whether the case described by ``ctx`` (variable name → value) meets the condition."""
    return bool(_eval(cond.tree, ctx))


def _eval(node: Node, ctx: Mapping[str, Any]) -> Any:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "var":
        return ctx.get(node[1])
    if tag == "not":
        return not _eval(node[1], ctx)
    if tag == "and":
        return all(_eval(n, ctx) for n in node[1])
    if tag == "or":
        return any(_eval(n, ctx) for n in node[1])
    left = _eval(node[1], ctx)
    for op, right_node in node[2]:
        right = _eval(right_node, ctx)
        if not _compare(op, left, right):
            return False
        left = right
    return True


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(_norm(a) == _norm(b))
    if op == "!=":
        return bool(_norm(a) != _norm(b))
    if op == "in":
        return _norm(a) in [_norm(x) for x in b]
    if op == "not in":
        return _norm(a) not in [_norm(x) for x in b]
    a, b = _norm(a), _norm(b)
    # an ordering between a number and text (or a missing value) is simply false, never an error
    if not (_number(a) and _number(b)) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        return Decimal(str(v))
    return v


__all__ = ["GROUPS", "NAMES", "Condition", "ConditionError", "evaluate", "parse"]
