"""Metrics of authentication (labels are short fixed reasons and principal kinds, never a name or a key).

- ``dialplane_gateway_auth_failures_total{reason}``: refused credentials (``missing_credentials``,
  ``invalid_login``, ``disabled_user``, ``expired``, ``bad_signature``, ``revoked``, ``unknown_api_key``, …)
  and ``insufficient_scope``;
- ``dialplane_gateway_logins_total``: access tokens issued;
- ``dialplane_gateway_rate_limited_total{kind}``: requests refused by a rate limit (``user``, ``api_key``,
  ``login``);
- ``dialplane_gateway_bodies_refused_total``: requests refused for a body over ``max_body_bytes``.
"""

from __future__ import annotations

from prometheus_client import Counter

from dialplane.metrics import NAMESPACE

AUTH_FAILURES = Counter(
    "gateway_auth_failures_total",
    "Requests refused for missing, invalid or insufficient credentials, by reason.",
    ["reason"],
    namespace=NAMESPACE,
)
LOGINS = Counter(
    "gateway_logins_total",
    "Access tokens issued (successful logins).",
    namespace=NAMESPACE,
)
RATE_LIMITED = Counter(
    "gateway_rate_limited_total",
    "Requests refused by a rate limit, by kind of limit (user, api_key, login).",
    ["kind"],
    namespace=NAMESPACE,
)
BODIES_REFUSED = Counter(
    "gateway_bodies_refused_total",
    "Requests refused because their body is larger than max_body_bytes.",
    namespace=NAMESPACE,
)
