"""Tokens this process has seen, for the audit trail's user_login."""

from __future__ import annotations

from collections import OrderedDict


class SeenTokens:
    """Tokens this process has already audited a login for (bounded; the event id of the
    record makes a repeat from another process or after a restart a no-op anyway)."""

    def __init__(self, size: int = 100_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def first_sight(self, key: str) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True
