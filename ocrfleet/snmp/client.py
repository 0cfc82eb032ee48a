"""SNMP requests as kinds see them: get, walk, walk_all.

The walking logic lives here once; how a request reaches the agent is the
subclass's: CommunityClient (v1/v2c) or UsmClient (v3, USM), both on our own codec.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from ocrfleet.snmp.ber import (
    END_OF_MIB,
    GET,
    GET_BULK,
    GET_NEXT,
    NO_SUCH_NAME,
    TOO_BIG,
    Varbind,
    error_name,
)
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c
from ocrfleet.snmp.values import SnmpError, SnmpValue

# A walk stops after this many rows, whatever the agent says: a buggy agent
# that loops must not hold a poll for ever.
MAX_WALK_ROWS = 10_000


class SnmpClient(ABC):
    """Requests to one device; kept by the poller and reused for every poll."""

    def __init__(self, options: SnmpDeviceOptions) -> None:
        self._options = options
        credentials = options.snmp
        self._bulk = not (isinstance(credentials, SnmpV1V2c) and credentials.version == "1")
        self.requests = 0
        # Values each subtree had at the last walk. Asking GETBULK for just
        # one more than that ends most walks in one request without decoding
        # a screenful of varbinds past the table's end (bench/README.md).
        self._sizes: dict[str, int] = {}

    @abstractmethod
    async def _exchange(
        self, pdu_type: int, oids: Sequence[str], max_repetitions: int = 0
    ) -> tuple[int, list[Varbind]]:
        """One request and its answer: (error-status, varbinds)."""

    async def get(self, oids: Sequence[str]) -> dict[str, SnmpValue]:
        """GET scalars; an OID the agent lacks maps to None."""
        if not oids:
            return {}
        self.requests += 1
        status, varbinds = await self._exchange(GET, oids)
        if status == NO_SUCH_NAME:
            # v1 agents answer noSuchName for the whole request: ask one by
            # one, so the OIDs that exist still get their values.
            if len(oids) == 1:
                return {oids[0]: None}
            merged: dict[str, SnmpValue] = {}
            for oid in oids:
                merged.update(await self.get([oid]))
            return merged
        if status == TOO_BIG and len(oids) > 1:
            half = len(oids) // 2
            return {**await self.get(oids[:half]), **await self.get(oids[half:])}
        if status:
            raise SnmpError("protocol", f"agent answered {error_name(status)}")
        return {name: None if value is END_OF_MIB else value for name, value in varbinds}  # type: ignore[misc]

    def _repetitions(self, root: str, found: int) -> int:
        known = self._sizes.get(root)
        if known is None or found >= known:
            return self._options.max_repetitions  # first walk, or the table grew
        return min(self._options.max_repetitions, known - found + 1)

    async def walk(self, root: str) -> dict[str, SnmpValue]:
        """Every value below `root`, with GETBULK where the version allows."""
        found = await self._walk(root)
        self._sizes[root] = len(found)
        return found

    async def _walk(self, root: str) -> dict[str, SnmpValue]:
        found: dict[str, SnmpValue] = {}
        prefix = root + "."
        current = root
        shrink = 1  # divides the repetitions after a tooBig answer
        while len(found) < MAX_WALK_ROWS:
            self.requests += 1
            if self._bulk:
                repetitions = max(1, self._repetitions(root, len(found)) // shrink)
                status, varbinds = await self._exchange(GET_BULK, (current,), repetitions)
            else:
                repetitions = 1
                status, varbinds = await self._exchange(GET_NEXT, (current,))
            if status:
                if status == NO_SUCH_NAME:
                    return found  # v1's end of the MIB
                if status == TOO_BIG and repetitions > 1:
                    shrink *= 2
                    continue
                raise SnmpError("protocol", f"agent answered {error_name(status)}")
            progressed = False
            for oid, value in varbinds:
                if value is END_OF_MIB or not oid.startswith(prefix):
                    return found
                if oid in found:
                    return found  # the agent went round in a circle
                found[oid] = value  # type: ignore[assignment]
                current = oid
                progressed = True
            if not progressed:
                return found
        return found

    async def walk_all(self, roots: Iterable[str]) -> dict[str, SnmpValue]:
        """Walk several subtrees; one request at a time keeps small agents happy."""
        merged: dict[str, SnmpValue] = {}
        for root in roots:
            merged.update(await self.walk(root))
        return merged
