"""``GET /api/cases/export?format=xlsx|csv&<the list's filters>``: the filtered work list as a file,
streamed (see :mod:`hub.export`). The work list's 导出 links point here with the page's own query,
so an export holds exactly what the list shows, within the caller's shops."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDict

from .. import export
from . import auth
from .forms import parse_list_query
from .keys import REQUEST_ID, hub_key
from .middlewares import ApiError, remote_of

routes = web.RouteTableDef()
#: the XLSX file is sent in chunks of this size
CHUNK = 256 * 1024


def _platform_names(hub: object) -> dict[str, str]:
    return {pid: info.name_zh for pid, info in hub.registry.platforms.items()}  # type: ignore[attr-defined]


@routes.get("/api/cases/export", name="api_case_export")
async def api_case_export(request: web.Request) -> web.StreamResponse:
    """The filtered list as ``format=xlsx`` or ``format=csv`` (UTF-8 with a BOM), Chinese headers,
    streamed whatever its size; the list's filters (``mine``, ``platform``, ``shop``, ``q`` ...) apply
    and ``cursor``/``limit`` are ignored (every page is exported)."""
    from .views import principal_of

    hub = request.app[hub_key]
    principal = principal_of(request)
    fmt = request.query.get("format", "")
    if fmt not in export.FORMATS:
        raise ApiError(400, "format must be xlsx or csv")
    query = MultiDict(request.query)
    for ignored in ("cursor", "limit", "format"):
        query.popall(ignored, None)
    lq = parse_list_query(query, principal, sorted(hub.registry.platforms), hub.now())
    names = _platform_names(hub)
    filename = export.file_name(fmt, hub.now())
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    rows = 0
    if fmt == "csv":
        counted = [0]
        await response.prepare(request)
        async for chunk in export.csv_chunks(hub.engine, lq.filter, names, counted=counted):
            await response.write(chunk)
        rows = counted[0]
    else:
        path: Path = export.temp_xlsx_path()
        try:
            rows = await export.write_xlsx(hub.engine, lq.filter, names, path)
            # the file is read off the event loop: other agents' requests go on meanwhile
            response.content_length = await asyncio.to_thread(os.path.getsize, path)
            await response.prepare(request)
            fh = await asyncio.to_thread(path.open, "rb")
            try:
                while chunk := await asyncio.to_thread(fh.read, CHUNK):
                    await response.write(chunk)
            finally:
                fh.close()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
    await response.write_eof()
    # exports carry buyers' names: who took which list is on the record
    await auth.audit(
        hub.engine,
        actor=principal.name,
        kind="export",
        now=hub.now(),
        remote=remote_of(request),
        request_id=request.get(REQUEST_ID),
        detail={"format": fmt, "rows": rows, "query": request.query_string[:500], "via": principal.via},
    )
    return response
