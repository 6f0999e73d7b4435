"""After a shop's sync: make and deliver its ERP documents, then watch its parcels.

Both read only the store (and their own services), so they run whatever the sync's status; a
failure here is a warning on the shop's summary, never a failed sync.
"""

from __future__ import annotations

from typing import Any

import structlog

from ..domain import Shop

log = structlog.get_logger("hub.sync")


async def erp_and_parcels_after_sync(hub: Any, shop: Shop, summary: Any) -> None:
    """The ERP pass and the logistics watch for one shop (see hub.erp.deliver, hub.logistics.watcher)."""
    from ..erp.deliver import run_erp_pass
    from ..logistics.watcher import run_watch

    assert shop.id is not None
    name = "ERP documents"
    try:
        erp = await run_erp_pass(hub, [shop.id])
        summary.warnings.extend(f"{name}: {e}" for e in erp.errors)
        if erp.failed:
            summary.warnings.append(f"{name}: {erp.failed} deliveries failed (retried on the next pass)")
        name = "logistics watch"
        watch = await run_watch(hub, [shop.id])
        # no tracker configured is the normal state of a hub that does not use the watch
        summary.warnings.extend(f"{name}: {e}" for e in watch.errors if not e.startswith("not polling"))
    except Exception as err:  # never fails the sync: the next one tries again
        summary.warnings.append(f"{name}: {type(err).__name__}: {err}")
        log.warning("followup_failed", shop=shop.name, step=name, error=f"{type(err).__name__}: {err}")
