"""Values that compare equal to a kind of value, for asserting whole bodies at once."""

import re
from urllib.parse import urlencode

NOT_FOUND = {"detail": "Not found.", "status": 404}
FORBIDDEN = {"detail": "You do not have permission to perform this action.", "status": 403}


class IsoZ:
    """Equal to an ISO 8601 UTC timestamp ending in `Z`."""

    PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(self.PATTERN.fullmatch(other))

    def __repr__(self) -> str:
        return "<ISO 8601 timestamp with Z>"


class AnyId:
    """Equal to a positive integer id."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int) and not isinstance(other, bool) and other > 0

    def __repr__(self) -> str:
        return "<id>"


TIMESTAMP = IsoZ()
ID = AnyId()


def invalid_pk(field: str, value: object) -> dict[str, object]:
    """The 400 for an id in `field` that names nothing (DRF's wording)."""
    return {field: [f'Invalid pk "{value}" - object does not exist.'], "status": 400}


def q(path: str, params: dict[str, object]) -> str:
    """`path` with `params` as its query string."""
    return f"{path}?{urlencode(params)}"


def person(user_id: str, name: str | None = None, picture: str | None = None) -> dict[str, object]:
    """The name object beside a user id: the directory's name, or the id when it has none."""
    return {"id": user_id, "name": name or user_id, "picture": picture}
