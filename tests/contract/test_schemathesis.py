"""Every operation of the OpenAPI document, fuzzed by schemathesis with every check: the
document describes what the service does, or this test names the difference."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from tests.conftest import DEFAULT_TENANT, token_for
from tests.contract.conftest import SEEDED_IDS, Served, served_document

# A schema-valid request the service refuses with a 400 is a finding, unless every message
# it answers with names a rule that depends on what exists, or that JSON Schema cannot state:
REFUSALS_A_SCHEMA_CANNOT_STATE = tuple(
    re.compile(pattern)
    for pattern in (
        # A well-formed id that names nothing (in a body or a filter), as DRF answers.
        r'^Invalid pk "(?:group-)?-?\d+" - object does not exist\.$',
        # What the named or stored objects are: a free course is not bought, an empty cart
        # is not checked out, a code is unique, a group keeps an owner.
        r"^Free courses need no purchase; enroll directly\.$",
        r"^Your cart is empty\.$",
        r"^\w+ with this \w+ already exists\.$",
        r"^A group must keep at least one owner\.$",
        # A quiz sits on a lesson of type quiz; a question holds what its kind needs; an
        # answer names a question of the attempt.
        r"^The lesson must be of type quiz\.$",
        r"^An? [a-z/ ]+ question needs ",
        r"^Option ids must be unique\.$",
        r"^This question is not part of this attempt\.$",
        # One field compared with another.
        r"^Ensure the discount price is not greater than the price\.$",
        r"^End time must be after start time\.$",
        r"^This field is required when \w+ is given\.$",
        r"^End must be after start\.$",
        r"^Must be later than available_from\.$",
        r"^The window may span at most 366 days\.$",
        # An assignment's file limit is bounded by the server's setting; its rubric's points
        # add up to its own.
        r"^Ensure this value is less than or equal to \d+ \(the server's upload limit\)\.$",
        r"^The criteria's points add up to [^;]+; the assignment is worth .+\.$",
        r"^Each criterion needs an id of its own\.$",
        # A submitted file's name and type: the part's file name (which a schema cannot
        # give) and what the assignment takes (a 415).
        r"^Each file needs its file name\.$",
        r"^This assignment takes no files: submit text\.$",
        r"^Files .+ are not accepted here; accepted: .+\.$",
        r"^The file's content is not a \.\w+ file",
        # A gateway's credentials follow its provider and mode.
        r"^Choose a provider: stripe or dummy",
        r"^A Stripe \w+ key starts with",
        # A Stripe event is signed with a secret the document does not hold.
        r"^Malformed Stripe event\.$",
        # So is an unsubscribe link's token.
        r"^Invalid unsubscribe link\.$",
        # A WebSocket path answers a plain GET so; tests/realtime open the sockets.
        r"^Expected a WebSocket upgrade\.$",
    )
)
# Fields whose values come from a grammar or a registry the document names but cannot list:
# an RFC 5545 RRULE, an IANA timezone.
FIELDS_OF_A_GRAMMAR = frozenset({"recurrence", "timezone"})

ADMIN_TOKEN = token_for("contract-admin", "admin", tenant=DEFAULT_TENANT)

schema = schemathesis.openapi.from_dict(
    served_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261206,
            # Known to schemathesis, so that its auth checks send it, drop it or spoil it.
            "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            "generation": {"max-examples": 5, "deterministic": True},
            "checks": {"enabled": True},
            # Operations on an id reach their rules on the seeded objects, not only 404s.
            "parameters": {f"path.{name}": value for name, value in SEEDED_IDS.items()},
        }
    ),
)


@schema.parametrize()
# schemathesis' own strategies draw from `random`, which hypothesis warns about.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_does_what_the_document_says(
    case: schemathesis.Case, served: Served
) -> None:
    response = case.call(base_url=served.base_url)
    try:
        case.validate_response(response)
    except FailureGroup as group:
        if not all(_refused_by_a_rule_a_schema_cannot_state(f, response) for f in group.exceptions):
            raise


def _refused_by_a_rule_a_schema_cannot_state(failure: Any, response: Any) -> bool:
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code not in (400, 415):
        return False
    body = response.json()
    if "detail" in body:
        return _a_rule(body["detail"])
    errors = {key: value for key, value in body.items() if isinstance(value, list)}
    return bool(errors) and all(
        key in FIELDS_OF_A_GRAMMAR or all(_a_rule(m) for m in messages)
        for key, messages in errors.items()
    )


def _a_rule(message: str) -> bool:
    return any(rule.match(message) for rule in REFUSALS_A_SCHEMA_CANNOT_STATE)


def test_the_fuzzed_document_is_the_one_the_service_serves(served: Served) -> None:
    reply = requests.get(served.base_url + "/api/lms/schema/", timeout=30)

    assert reply.status_code == 200
    assert reply.json() == served_document()
