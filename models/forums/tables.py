"""Forums tables (one set per tenant)."""

from __future__ import annotations
