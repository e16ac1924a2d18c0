"""Every operation of the OpenAPI document, fuzzed by schemathesis with every check: the
document describes what the service does, or this test names the difference."""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from tests.contract.conftest import SEEDED_IDS, Served, served_document

# A well-formed id that names nothing is refused with a 400 in a body or a filter, as DRF
# does; a schema cannot know which ids exist.
_UNKNOWN_ID = re.compile(r'^Invalid pk "\d+" - object does not exist\.$')

schema = schemathesis.openapi.from_dict(
    served_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261206,
            "generation": {"max-examples": 8, "deterministic": True},
            "checks": {"enabled": True},
            # Operations on an id reach their rules on the seeded objects, not only 404s.
            "parameters": {f"path.{name}": value for name, value in SEEDED_IDS.items()},
        }
    ),
)


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_does_what_the_document_says(
    case: schemathesis.Case, served: Served
) -> None:
    headers = {"Authorization": f"Bearer {served.admin_token}"}
    response = case.call(base_url=served.base_url, headers=headers)
    try:
        case.validate_response(response, headers=headers)
    except FailureGroup as group:
        if not all(_refuses_an_unknown_id(f, response) for f in group.exceptions):
            raise


def _refuses_an_unknown_id(failure: Any, response: Any) -> bool:
    """A positive case refused only because an id it names does not exist."""
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 400:
        return False
    body = response.json()
    messages = [m for k, v in body.items() if k != "status" for m in v]
    return bool(messages) and all(_UNKNOWN_ID.match(m) for m in messages)
