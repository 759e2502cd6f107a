"""schemathesis against the gateway's OpenAPI description, authenticated with every scope: whatever it sends
(valid and invalid data), the gateway never answers 5xx and every answer matches what the description says
(status code, content type, body schema, headers).

``DIALPLANE_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (default 5: seconds in ``make test``;
``make soak`` raises it); ``DIALPLANE_SCHEMATHESIS_COVERAGE=1`` adds schemathesis' coverage phase
(boundary and near-miss values of every parameter: about a minute more).

In ``make test`` the examples are the same on every run (derandomized), so a red run is reproducible;
``DIALPLANE_SCHEMATHESIS_RANDOM=1`` (``make soak``) draws new ones each time to keep searching.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.main import create_app as create_gateway
from gateway.testing import gateway_settings

EXAMPLES = int(os.environ.get("DIALPLANE_SCHEMATHESIS_EXAMPLES", "5"))
COVERAGE = os.environ.get("DIALPLANE_SCHEMATHESIS_COVERAGE", "") not in ("", "0")
RANDOM = os.environ.get("DIALPLANE_SCHEMATHESIS_RANDOM", "") not in ("", "0")
STREAMED = "/api/v1/events"  # server-sent events: the answer never ends (tests/single_call covers it)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def gateway_schema() -> schemathesis.BaseSchema:
    """The gateway's OpenAPI description, as it serves it at ``/openapi.json`` (no database needed to make
    it: the application is only built, never started)."""
    description = create_gateway(gateway_settings("postgresql+asyncpg://unused@127.0.0.1/unused")).openapi()
    schema = schemathesis.openapi.from_dict(description)
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
    )
    schema.config.phases.update(phases=["examples", "fuzzing", *(["coverage"] if COVERAGE else [])])
    return schema.exclude(path=STREAMED)


schema = gateway_schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=not RANDOM,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_answer_is_declared_and_no_server_error(
    case: schemathesis.Case[Any], gateway_url: str, auth: dict[str, str]
) -> None:
    case.call_and_validate(base_url=gateway_url, headers=auth, checks=CHECKS, timeout=30)
