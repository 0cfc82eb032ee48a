"""The embedded SQLite store: what must survive a restart."""

from ocrfleet.store.database import SessionOutcome, Store, StoreError

__all__ = ["SessionOutcome", "Store", "StoreError"]
