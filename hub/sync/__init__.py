"""The sync engine: windows over modified time, pages, checkpoints, rate limits, retries."""

from .engine import ShopSummary, sync_shops

__all__ = ["ShopSummary", "sync_shops"]
