"""The embedded SQLite store: what must survive a restart."""

from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import SessionOutcome, Store, StoreError

__all__ = ["SessionOutcome", "Store", "StoreConnections", "StoreError"]
