"""What the providers reached over HTTP (language model, speech to text, text to speech) share: the failure of
one attempt, the retry rules, the retry loop with its metric and log events, and reading error answers.

An attempt raises :class:`AttemptFailed`. Its ``reason`` is the metric label and decides retrying:
``rate_limited``, ``server_error``, ``connection_error``, ``timeout`` and ``broken_stream`` are retried
(see :data:`RETRYABLE`), ``client_error``, ``bad_response`` and any other reason are not. A retry waits the
answer's ``Retry-After`` when it gave one, otherwise an exponential backoff with jitter; none starts that
could not begin before the exchange's deadline, and none once something reached the caller. When
:class:`Retries` gives up it raises the provider's own error (its ``error`` function makes it from the
failure and a text), from the attempt's cause.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypeVar

import httpx
from prometheus_client import Counter

T = TypeVar("T")

RETRYABLE = frozenset({"rate_limited", "server_error", "connection_error", "timeout", "broken_stream"})


class AttemptFailed(Exception):
    """One attempt failed; ``reason`` is the metric label and decides retrying and the error raised."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.reason in RETRYABLE


ProviderError = Callable[[AttemptFailed, str], Exception]  # the provider's error for a failure and a text


@dataclass(slots=True)
class Exchange:
    """One call of a provider with its attempts; times are the event loop's clock."""

    started: float
    deadline: float  # the attempts and the waits between them end by then
    attempt: int = 1
    yielded: bool = False  # something reached the caller: nothing is retried
    failure: AttemptFailed | None = None  # the failure given up on

    @classmethod
    def starting(cls, total_timeout: float) -> Self:
        now = asyncio.get_running_loop().time()
        return cls(started=now, deadline=now + total_timeout)


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """The wait after failed attempt number ``attempt``: ``retry_after`` when the server gave one,
    otherwise ``base`` doubled each attempt up to ``cap``, times a jitter of 0.5 to 1."""
    if retry_after is not None:
        return retry_after
    return min(cap, base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2  # attempts after the first
    backoff_base: float = 0.25
    backoff_cap: float = 2.0

    def delay(self, exchange: Exchange, failure: AttemptFailed) -> float | None:
        """How long to wait before the next attempt, or ``None`` for no next attempt."""
        if exchange.yielded or not failure.retryable or exchange.attempt > self.max_retries:
            return None
        delay = backoff_delay(exchange.attempt, self.backoff_base, self.backoff_cap, failure.retry_after)
        if asyncio.get_running_loop().time() + delay >= exchange.deadline:
            return None
        return delay


class Retries:
    """Runs a provider's attempts under ``policy``; counts each retry in ``counter`` (labelled by provider
    and reason) and logs ``{kind}.retrying`` and ``{kind}.failed`` on ``log`` (the provider's logger), with
    ``log_fields`` after the provider. ``delivered`` names what a caller may already have received."""

    def __init__(
        self,
        *,
        kind: str,
        provider: str,
        policy: RetryPolicy,
        counter: Counter,
        error: ProviderError,
        log: Any,
        delivered: str = "answer",
        log_fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.provider = provider
        self.policy = policy
        self._counter = counter
        self._error = error
        self._log = log
        self._delivered = delivered
        self._fields = dict(log_fields or {})

    async def stream(
        self, exchange: Exchange, attempt: Callable[[], AsyncGenerator[T, None]]
    ) -> AsyncGenerator[T, None]:
        """What ``attempt()`` yields, attempted again while the policy allows."""
        while True:
            try:
                async with aclosing(attempt()) as items:
                    async for item in items:
                        exchange.yielded = True
                        yield item
                return
            except AttemptFailed as failure:
                await self._after(exchange, failure)

    async def call(self, exchange: Exchange, attempt: Callable[[], Awaitable[T]]) -> T:
        """What ``attempt()`` returns, attempted again while the policy allows."""
        while True:
            try:
                return await attempt()
            except AttemptFailed as failure:
                await self._after(exchange, failure)

    async def _after(self, exchange: Exchange, failure: AttemptFailed) -> None:
        """Wait for the next attempt, or raise the provider's error."""
        delay = self.policy.delay(exchange, failure)
        if delay is None:
            exchange.failure = failure
            raise self._give_up(exchange, failure) from failure.__cause__
        self._counter.labels(self.provider, failure.reason).inc()
        self._log.warning(
            f"{self.kind}.retrying",
            provider=self.provider,
            **self._fields,
            attempt=exchange.attempt,
            reason=failure.reason,
            error=failure.message,
            delay_seconds=round(delay, 3),
        )
        await asyncio.sleep(delay)
        exchange.attempt += 1

    def _give_up(self, exchange: Exchange, failure: AttemptFailed) -> Exception:
        if exchange.yielded:
            suffix = f"not retried: part of the {self._delivered} was already delivered"
        else:
            suffix = f"{exchange.attempt} attempt{'s' if exchange.attempt > 1 else ''}"
        error = self._error(failure, f"{failure.message} ({suffix})")
        self._log.warning(
            f"{self.kind}.failed",
            provider=self.provider,
            **self._fields,
            reason=failure.reason,
            error=str(error),
        )
        return error


# --- one attempt ------------------------------------------------------------------------------------------


async def send_streaming(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    until: float,
    late: Callable[[], AttemptFailed],
) -> httpx.Response:
    """The response to ``request`` once its status is 2xx (headers read, body not yet), by ``until`` (the
    event loop's clock; ``late()`` is raised after it)."""
    try:
        async with asyncio.timeout_at(until):
            response = await client.send(request, stream=True)
            if response.is_success:
                return response
            try:
                await response.aread()
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise late() from exc
    except httpx.HTTPError as exc:
        raise AttemptFailed(
            "connection_error", f"could not reach {safe_url(request.url)}: {describe(exc)}"
        ) from exc
    raise status_failure(provider, response)


async def next_within(
    items: AsyncIterator[T], until: float, late: Callable[[], AttemptFailed], broken: str
) -> T | None:
    """The next item of a streamed body by ``until`` (``late()`` is raised after it), ``None`` at its
    end; a break in the body is a ``broken_stream`` failure, its message starting with ``broken``."""
    try:
        async with asyncio.timeout_at(until):
            return await anext(items, None)
    except TimeoutError as exc:
        raise late() from exc
    except httpx.HTTPError as exc:
        raise AttemptFailed("broken_stream", f"{broken}: {describe(exc)}") from exc


def status_failure(provider: str, response: httpx.Response, detail: str | None = None) -> AttemptFailed:
    """The failure an error answer means: 429 rate limited, 5xx and 408 a server error (both retried,
    after ``Retry-After`` if given), any other a client error. ``detail`` is the server's message (by
    default :func:`error_text` of the body)."""
    if detail is None:
        detail = error_text(response_body(response))
    status = response.status_code
    message = f"{provider} answered {status}: {detail}"
    retry_after = parse_retry_after(response.headers, time.time())
    if status == 429:
        return AttemptFailed("rate_limited", f"rate limited: {message}", retry_after)
    if status >= 500 or status == 408:
        return AttemptFailed("server_error", message, retry_after)
    return AttemptFailed("client_error", message)


# --- reading answers ----------------------------------------------------------------------------------------


def response_body(response: httpx.Response) -> Any:
    """The body as JSON, or as text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text


def error_text(body: Any, limit: int = 300) -> str:
    """The server's own error message from an error body (OpenAI's ``{"error": {"message": …}}``, a plain
    ``{"error": "…"}``, FastAPI's ``{"detail": …}``, or any text), shortened to ``limit`` characters."""
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict) and error.get("message"):
            error = error["message"]
        text = error if isinstance(error, str) else json.dumps(body, ensure_ascii=False)
    else:
        text = str(body)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP date);
    ``now`` is the Unix time. ``None`` when absent or unreadable."""
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        if value.strip().replace(".", "", 1).isdigit():
            return float(value)
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000": UTC as well
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    except (ValueError, TypeError, OverflowError):
        return None


def safe_url(url: httpx.URL) -> str:
    """The URL without user info or query string, either of which may hold a key."""
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
