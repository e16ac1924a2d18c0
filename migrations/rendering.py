"""What autogenerate writes for this project's own column types."""

from __future__ import annotations

from typing import Any, Literal

from models.base import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
