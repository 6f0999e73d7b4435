"""The OpenAPI 3.1 document of the JSON API, written out by hand next to the routes it describes.

A test walks the application's router and fails when a route under ``/api`` (or ``/metrics``) is
missing here, or when this document names a route the router does not have.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import __version__
from ..domain import AfterSaleKind, AfterSaleStatus, Party
from .forms import MAX_LIMIT
from .keys import hub_key

_ERR = {"$ref": "#/components/responses/Error"}


def _q(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _path_id(name: str = "id", description: str = "the case's hub id") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 1},
    }


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): _ERR for c in (401, *codes)}


#: the version of the JSON API (the objects and parameters), separate from hub's own version.
#: 2: every case (and listed order) carries ``next_action``; ``item`` tells cases from orders;
#: ``orders`` and ``party`` filters; the party is named from the merchant's side (``merchant``,
#: ``supplier``; ``seller`` is accepted as ``merchant``); counts honour the filters.
API_VERSION = "2.0.0"


def openapi_document(app: web.Application) -> dict[str, Any]:
    """The document, with the installed platforms filled into the ``platform`` filter's enum."""
    platforms = sorted(app[hub_key].registry.platforms)
    csv = {"type": "array", "items": {"type": "string"}}
    list_params = [
        _q(
            "platform",
            "platform ids (repeat or comma-separate)",
            {**csv, "items": {"type": "string", "enum": platforms}},
        ),
        _q("shop", "shop names", csv),
        _q(
            "kind",
            "after-sales kinds",
            {**csv, "items": {"type": "string", "enum": [k.value for k in AfterSaleKind]}},
        ),
        _q(
            "status",
            "statuses (default: every open status)",
            {**csv, "items": {"type": "string", "enum": ["open", *[s.value for s in AfterSaleStatus]]}},
        ),
        _q(
            "awaiting",
            "whose next action: merchant, buyer, platform, supplier (seller = merchant)",
            {**csv, "items": {"type": "string", "enum": [*[p.value for p in Party], "seller"]}},
        ),
        _q(
            "party",
            "the same filter as awaiting",
            {**csv, "items": {"type": "string", "enum": [*[p.value for p in Party], "seller"]}},
        ),
        _q(
            "orders",
            "also list orders whose merchant clock runs (ship, hold for a refund) as items of their own",
            {"type": "boolean", "default": True},
        ),
        _q(
            "due",
            "deadline within this duration from now (e.g. 0h = breached, 24h, 3d)",
            {"type": "string", "pattern": r"^\d+(\.\d+)?[smhdw]$"},
        ),
        _q("dispute", "only cases with a dispute", {"type": "boolean"}),
        _q("q", "search: order id, after-sales id or buyer", {"type": "string", "maxLength": 120}),
        _q("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}),
        _q("cursor", "next_cursor of the previous page", {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}),
        _q("mine", "my queue: cases assigned to the caller plus unassigned ones", {"type": "boolean"}),
    ]
    key_header = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "scoped to the case and action: the same key never acts twice, and with other "
        "parameters is a 422 (or send idempotency_key in the body)",
        "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{8,120}$"},
    }
    reply = {"$ref": "#/components/schemas/ActionReply"}
    paths: dict[str, Any] = {
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/api/me": {
            "get": {
                "operationId": "me",
                "summary": "The caller: name, role, shops",
                "responses": {"200": _json({"$ref": "#/components/schemas/Me"}), **_errors()},
            }
        },
        "/api/cases": {
            "get": {
                "operationId": "listCases",
                "summary": "The work list: open cases (and orders whose merchant clock runs) in the "
                "caller's shops, soonest next-action deadline first, keyset-paged. Items are the "
                "objects of `hub cases --json`.",
                "parameters": list_params,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["items", "next_cursor"],
                            "properties": {
                                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
                                "next_cursor": {"type": ["string", "null"]},
                                "total": {"type": "integer"},
                                "version": {"type": "string"},
                            },
                        }
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/cases/counts": {
            "get": {
                "operationId": "caseCounts",
                "summary": "Counts per platform, shop, kind, status, awaiting and item, the total "
                "and the items by urgency: all over exactly the rows the same filter lists",
                "parameters": list_params,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "facets": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "object",
                                        "additionalProperties": {"type": "integer"},
                                    },
                                },
                                "total": {"type": "integer"},
                                "urgency": {
                                    "type": "object",
                                    "properties": {
                                        k: {"type": "integer"}
                                        for k in ("breached", "lt_24h", "lt_72h", "later", "none")
                                    },
                                },
                            },
                        }
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/worklist/version": {
            "get": {
                "operationId": "worklistVersion",
                "summary": "A value that changes when the filtered list changes (the page polls it)",
                "parameters": list_params,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"version": {"type": "string"}, "total": {"type": "integer"}},
                        }
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/cases/{id}": {
            "get": {
                "operationId": "getCase",
                "summary": "One case: timeline, deadline and rule, dispute, evidence, "
                "order, linked orders, raw record, actions done and available, insights",
                "parameters": [_path_id()],
                "responses": {"200": _json({"$ref": "#/components/schemas/CaseDetail"}), **_errors(404)},
            }
        },
        "/api/cases/{id}/actions": {
            "get": {
                "operationId": "caseActions",
                "summary": "The actions the case allows now, and why not the others",
                "parameters": [_path_id()],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/ActionState"},
                                }
                            },
                        }
                    ),
                    **_errors(404),
                },
            }
        },
        "/api/cases/{id}/actions/{action}": {
            "post": {
                "operationId": "performAction",
                "summary": "Perform an action (recorded before it is sent; the "
                "same idempotency key never acts twice)",
                "parameters": [
                    _path_id(),
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "e.g. agree_refund, note",
                    },
                    key_header,
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "params": {
                                        "type": "object",
                                        "description": "the action's parameters (see actions); a "
                                        "file parameter takes the id of evidence uploaded to the case",
                                    },
                                    "idempotency_key": {
                                        "type": "string",
                                        "pattern": r"^[A-Za-z0-9._:-]{8,120}$",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(reply, "done, recorded, needs verification, or a replay"),
                    "409": _json(reply, "not allowed in this state, or the platform refused"),
                    **_errors(400, 403, 404, 415, 422),
                },
            }
        },
        "/api/cases/{id}/evidence": {
            "post": {
                "operationId": "uploadEvidence",
                "summary": "Attach an evidence file (images, PDF, MP4, text; 10 MB)",
                "parameters": [_path_id()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "description": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json({"type": "object", "properties": {"id": {"type": "integer"}}}),
                    **_errors(400, 403, 404, 413, 415, 422),
                },
            }
        },
        "/api/cases/{id}/notes": {
            "post": {
                "operationId": "addNote",
                "summary": "Add a note to the case's timeline",
                "parameters": [_path_id()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["text"],
                                "properties": {
                                    "text": {"type": "string", "minLength": 1},
                                    "idempotency_key": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(reply),
                    "200": _json(reply, "a replay"),
                    **_errors(400, 403, 404, 415, 422),
                },
            }
        },
        "/api/cases/{id}/evidence-pack": {
            "get": {
                "operationId": "evidencePack",
                "summary": "The evidence pack for an appeal (zip)",
                "parameters": [_path_id()],
                "responses": {
                    "200": {
                        "description": "zip",
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    **_errors(404),
                },
            }
        },
        "/api/sync": {
            "get": {
                "operationId": "syncStatus",
                "summary": "Per shop: last success, lag, errors, re-authorisation; "
                "quarantined records with their raw payload and error",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "shops": {"type": "array", "items": {"type": "object"}},
                                "quarantined": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    ),
                    **_errors(),
                },
            }
        },
        "/api/audit": {
            "get": {
                "operationId": "auditLog",
                "summary": "The latest audit entries (admins)",
                "parameters": [
                    _q("kind", "only this kind (login, login_failed, action, ...)", {"type": "string"}),
                    _q("limit", "how many", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                        }
                    ),
                    **_errors(400, 403),
                },
            }
        },
        # the reports and the after-sales ledger (hub/web/reports_views.py)
        "/api/reports": {
            "get": {
                "operationId": "report",
                "summary": "Cases, refunds, first replies, missed deadlines, late shipment and agents over "
                "Beijing days: what `hub report --json` prints, within the caller's shops",
                "parameters": [
                    _q("from", "first Beijing day, YYYY-MM-DD (default: 6 days ago)", {"type": "string"}),
                    _q("to", "last Beijing day, included (default: today)", {"type": "string"}),
                    _q("shop", "only these shops (names in scope, comma-separated)", {"type": "string"}),
                ],
                "responses": {"200": _json({"type": "object"}), **_errors(400)},
            }
        },
        "/api/ledger": {
            "get": {
                "operationId": "ledger",
                "summary": "The after-sales ledger per shop and Beijing day (amounts in fen): what "
                "`hub ledger --json` prints; admins and viewers",
                "parameters": [
                    _q("from", "first Beijing day, YYYY-MM-DD (default: 6 days ago)", {"type": "string"}),
                    _q("to", "last Beijing day, included (default: today)", {"type": "string"}),
                    _q("shop", "only these shops (names in scope, comma-separated)", {"type": "string"}),
                ],
                "responses": {"200": _json({"type": "object"}), **_errors(400, 403)},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (admins)",
                "responses": {
                    "200": {
                        "description": "Prometheus text format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(403),
                },
            }
        },
    }
    nullable_str = {"type": ["string", "null"]}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error", "status"],
            "properties": {
                "error": {"type": "string"},
                "status": {"type": "integer"},
                "request_id": {"type": "string"},
            },
        },
        "Me": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "role": {"type": "string"},
                "shops": {"type": "array", "items": {"type": "string"}},
                "via": {"type": "string"},
                "can_act": {"type": "boolean"},
            },
        },
        "Via": {
            "type": "object",
            "description": "the linked case or order a next action comes from (the sourcing chain)",
            "properties": {
                "subject": {"type": "string", "enum": ["case", "order"]},
                "platform": {"type": "string"},
                "shop": {"type": "string"},
                "external_id": {"type": "string"},
                "label": {"type": "string", "description": "the link's consequence, in Chinese"},
                "case_id": {"type": ["integer", "null"]},
            },
        },
        "NextAction": {
            "type": "object",
            "description": "who acts next, what, by when, and what happens if nobody does; "
            "due_at is null when no clock applies (no_clock_reason says why)",
            "required": ["party", "action", "due_at", "on_expiry"],
            "properties": {
                "party": {"type": "string", "enum": ["merchant", "buyer", "platform", "supplier"]},
                "action": {"type": "string"},
                "due_at": {"type": ["string", "null"], "format": "date-time"},
                "no_clock_reason": nullable_str,
                "no_clock_reason_zh": nullable_str,
                "on_expiry": {"type": "string"},
                "consequence": {"type": ["string", "null"], "description": "what happens on expiry, English"},
                "consequence_zh": {"type": ["string", "null"], "description": "the same, in Chinese"},
                "source": {"type": ["string", "null"], "enum": ["platform", "rule", "policy", None]},
                "rule_id": nullable_str,
                "rule_source": nullable_str,
                "summary": nullable_str,
                "penalty_fen": {"type": ["integer", "null"]},
                "via": {"oneOf": [{"$ref": "#/components/schemas/Via"}, {"type": "null"}]},
            },
        },
        "Deadline": {
            "type": "object",
            "description": "deprecated (API 1): the next action when it has a clock",
            "properties": {
                "due_at": {"type": "string", "format": "date-time"},
                "party": {"type": "string"},
                "action": {"type": "string"},
                "on_expiry": {"type": "string"},
                "source": {"type": "string"},
                "rule_id": nullable_str,
                "rule_source": nullable_str,
                "summary": nullable_str,
                "penalty_fen": {"type": ["integer", "null"]},
            },
        },
        "Case": {
            "type": "object",
            "required": ["item", "id", "platform", "shop", "external_id", "status", "next_action"],
            "properties": {
                "item": {"type": "string", "enum": ["case", "order"], "description": "a case, or an order"},
                "id": {"type": "integer", "description": "the case's (or the order's) hub id"},
                "platform": {"type": "string"},
                "shop": {"type": "string"},
                "external_id": {"type": "string"},
                "order_external_id": {"type": "string"},
                "kind": {"type": ["string", "null"], "description": "null on an order"},
                "status": {"type": "string", "description": "an after-sales status, or an order status"},
                "awaiting": {"type": "string", "description": "deprecated: equals next_action.party"},
                "status_since": {"type": ["string", "null"], "description": "when the status was entered"},
                "next_action": {"oneOf": [{"$ref": "#/components/schemas/NextAction"}, {"type": "null"}]},
                "platform_status": {"type": "string"},
                "refund_fen": {"type": "integer"},
                "role": {"type": "string", "description": "an order's role (sale, purchase)"},
                "paid_fen": {"type": "integer", "description": "an order's paid amount"},
                "reason": nullable_str,
                "buyer": nullable_str,
                "created_at": {"type": "string"},
                "updated_at": {"type": "string"},
                "deadline": {"oneOf": [{"$ref": "#/components/schemas/Deadline"}, {"type": "null"}]},
                "dispute": {"type": ["object", "null"]},
                "assignee": nullable_str,
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        },
        "CaseDetail": {
            "allOf": [
                {"$ref": "#/components/schemas/Case"},
                {
                    "type": "object",
                    "properties": {
                        "timeline": {"type": "array", "items": {"type": "object"}},
                        "raw": {"type": "array"},
                        "order": {"type": ["object", "null"]},
                        "linked": {"type": "array"},
                        "disputes": {"type": "array"},
                        "evidence": {"type": "array"},
                        "actions": {"type": "array"},
                        "actions_available": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/ActionState"},
                        },
                        "insights": {"type": "array", "items": {"type": "object"}},
                    },
                },
            ]
        },
        "ActionState": {
            "type": "object",
            "properties": {
                "action": {"type": "string"},
                "label": {"type": "string"},
                "label_zh": {"type": "string"},
                "enabled": {"type": "boolean"},
                "reason": nullable_str,
                "money_moves": {"type": "boolean"},
                "params": {"type": "array", "items": {"type": "object"}},
                "origin": {"type": "string"},
            },
        },
        "ActionReply": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "action": {"type": "string"},
                "status": {
                    "type": "string",
                    "enum": ["done", "recorded", "needs_verification", "failed", "pending"],
                },
                "message": {"type": "string"},
                "idempotency_key": {"type": "string"},
                "replayed": {"type": "boolean"},
            },
        },
    }
    from .batch import openapi_paths  # batch work and export document themselves

    paths.update(openapi_paths(list_params, _errors))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hub workbench API",
            "version": API_VERSION,
            "x-hub-version": __version__,
            "description": "After-sales cases across Taobao/Tmall, Pinduoduo and 17网, scoped to the "
            "caller's shops. Authenticate with `Authorization: Bearer TOKEN` "
            "(`hub token create USER`). API 2: every item has one `next_action` (who acts next, "
            "what, by when, what happens on expiry); `deadline` and `awaiting` stay as deprecated "
            "views of it.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "hub_session",
                    "description": "the browser session; state-changing calls also need X-CSRF-Token",
                },
            },
            "schemas": schemas,
            "responses": {
                "Error": _json({"$ref": "#/components/schemas/Error"}, "an error, in one clear line")
            },
        },
    }
