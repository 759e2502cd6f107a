"""One delivery attempt: the signed request, the address check, the POST, and what came of it.

No database work here; :mod:`dialer.webhooks.runner` stores the result. The whole attempt (DNS included)
is cut off after ``timeout_seconds`` (the status line and headers must have arrived by then). Redirects
are not followed. The response body is discarded: up to 64 KiB of it is read within a second, so that the
connection can be reused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from dialer.webhooks.config import WebhookConfig
from dialer.webhooks.repository import Delivery
from dialer.webhooks.signing import signature
from dialer.webhooks.targets import Resolver, resolve_target, validate_callback_url

USER_AGENT = "Dialplane-Webhooks/1"
MAX_ERROR_LENGTH = 500
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """``delivered``: a 2xx answer; ``retry``: another status, a timeout or a network error;
    ``refused``: the URL or its address may not be called (never retried)."""

    kind: Literal["delivered", "retry", "refused"]
    started_at: dt.datetime
    duration_seconds: float
    status_code: int | None = None
    error: str | None = None


def create_client() -> httpx.AsyncClient:
    """A client suited to webhooks: no proxies from the environment (they would bypass the address
    check), no redirects, a connection pool sized for many receivers."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30)
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, limits=limits)


def request_body(delivery: Delivery) -> bytes:
    """The JSON body: the delivery's payload, compact, the same bytes on every attempt."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(secret: str, delivery: Delivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Dialplane-Event": delivery.event_type,
        "X-Dialplane-Delivery": str(delivery.id),
        "X-Dialplane-Timestamp": str(timestamp),
        "X-Dialplane-Signature": signature(secret, timestamp, body),
    }


async def attempt(
    client: httpx.AsyncClient, config: WebhookConfig, delivery: Delivery, *, resolver: Resolver
) -> AttemptResult:
    """Make one attempt at ``delivery``; never raises for network or receiver trouble."""
    started_at = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    kind, status_code, error = await _attempt(client, config, delivery, resolver)
    duration = time.perf_counter() - start
    return AttemptResult(kind, started_at, duration, status_code, error)


async def _attempt(
    client: httpx.AsyncClient, config: WebhookConfig, delivery: Delivery, resolver: Resolver
) -> tuple[Literal["delivered", "retry", "refused"], int | None, str | None]:
    try:
        async with asyncio.timeout(config.timeout_seconds):
            response = await _send(client, config, delivery, resolver)
    except (ValueError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return "refused", None, _describe(exc)
    except (TimeoutError, httpx.TimeoutException):
        return "retry", None, f"timed out after {config.timeout_seconds:g} s"
    except (httpx.HTTPError, OSError) as exc:
        return "retry", None, _describe(exc)
    await _discard_body(response, min(1.0, config.timeout_seconds))
    if 200 <= response.status_code < 300:
        return "delivered", response.status_code, None
    return "retry", response.status_code, f"HTTP {response.status_code}"


async def _send(
    client: httpx.AsyncClient, config: WebhookConfig, delivery: Delivery, resolver: Resolver
) -> httpx.Response:
    """The response, once its headers have arrived (its body is not read yet)."""
    validate_callback_url(delivery.url, allow_private=config.allow_private_targets)
    url = httpx.URL(delivery.url)
    body = request_body(delivery)
    headers = request_headers(config.signing_secret, delivery, body, int(time.time()))
    extensions: dict[str, Any] = {}
    if not config.allow_private_targets:
        url, extensions = await _pinned(url, headers, resolver)
    request = client.build_request(
        "POST", url, content=body, headers=headers, extensions=extensions, timeout=config.timeout_seconds
    )
    return await client.send(request, stream=True, follow_redirects=False)


async def _discard_body(response: httpx.Response, within: float) -> None:
    """Read and drop a short body so the connection can be reused; a long or slow one is cut off. The
    answer was given by the status line already, so trouble here changes nothing."""
    try:
        async with asyncio.timeout(within):
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > MAX_RESPONSE_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError, httpx.StreamError):
        pass
    finally:
        await response.aclose()


async def _pinned(
    url: httpx.URL, headers: dict[str, str], resolver: Resolver
) -> tuple[httpx.URL, dict[str, Any]]:
    """The URL with its host replaced by the checked address (``Host`` and TLS SNI keep the name)."""
    address = await resolve_target(str(url), resolver=resolver)
    headers["Host"] = url.netloc.decode("ascii")
    extensions: dict[str, Any] = {}
    if url.scheme == "https":
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    return url.copy_with(host=address), extensions


def _describe(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:MAX_ERROR_LENGTH]
