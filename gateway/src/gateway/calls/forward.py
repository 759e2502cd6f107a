"""Forwarding public requests to the internal service that owns them (the dialer, for calls).

The gateway has authenticated the client; it signs the principal into the internal header
(:mod:`dialplane.internal_auth`) and passes the request on unchanged: method, path, query, body, content
type, ``Idempotency-Key`` and ``X-Request-ID``. The internal service's answer (status, body, problem
documents included) comes back as it is. An internal service that cannot be reached is a 503 with
``Retry-After``, never a hang or a 500.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import httpx
import structlog
from fastapi import Depends, Request, Response

from dialplane.errors import ServiceUnavailable
from dialplane.internal_auth import PRINCIPAL_HEADER, Principal, sign_principal

log = structlog.get_logger(__name__)

FORWARDED_REQUEST_HEADERS = ("content-type", "idempotency-key", "x-request-id", "accept")
FORWARDED_RESPONSE_HEADERS = ("content-type", "content-disposition", "location", "retry-after")
RETRY_AFTER_SECONDS = 2


class Forwarder:
    """Sends requests to one internal service (``client`` has its base URL and timeouts)."""

    def __init__(self, client: httpx.AsyncClient, secret: str, service: str) -> None:
        self._client = client
        self._secret = secret
        self._service = service

    async def forward(self, request: Request, principal: Principal) -> Response:
        headers = {
            name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
        }
        headers[PRINCIPAL_HEADER] = sign_principal(principal, self._secret)
        try:
            answer = await self._client.request(
                request.method,
                internal_path(request),
                params=request.url.query,
                content=await request.body(),
                headers=headers,
            )
        except httpx.TransportError as exc:
            log.warning("internal_service_unreachable", service=self._service, error=repr(exc))
            raise ServiceUnavailable(
                f"the {self._service} service is not reachable; try again shortly",
                code=f"{self._service}_unavailable",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from exc
        kept = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        return Response(content=answer.content, status_code=answer.status_code, headers=kept)

    async def forward_stream(self, request: Request, principal: Principal) -> Response:
        """As :meth:`forward`, for large bodies (file uploads): the body goes on to the service piece by
        piece as it arrives, never held whole (its ``Content-Length``, if any, with it). The answer is small
        and comes back as it is."""
        headers = {
            name: request.headers[name]
            for name in (*FORWARDED_REQUEST_HEADERS, "content-length")
            if name in request.headers
        }
        headers[PRINCIPAL_HEADER] = sign_principal(principal, self._secret)
        try:
            answer = await self._client.request(
                request.method,
                internal_path(request),
                params=request.url.query,
                content=request.stream(),
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        kept = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        return Response(content=answer.content, status_code=answer.status_code, headers=kept)

    def _unreachable(self, exc: httpx.TransportError) -> ServiceUnavailable:
        log.warning("internal_service_unreachable", service=self._service, error=repr(exc))
        return ServiceUnavailable(
            f"the {self._service} service is not reachable; try again shortly",
            code=f"{self._service}_unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def internal_path(request: Request) -> str:
    """The request's path percent-encoded again, as a URL needs it: a path parameter holding control or
    non-ASCII characters reaches the service (which refuses it) instead of failing to build the URL."""
    return quote(request.url.path, safe="/:@!$&'()*+,;=~")


async def dialer_forwarder(request: Request) -> Forwarder:
    forwarder: Forwarder = request.app.state.dialer
    return forwarder


DialerDep = Annotated[Forwarder, Depends(dialer_forwarder)]
