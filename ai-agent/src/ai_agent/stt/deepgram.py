"""Speech to text through Deepgram's live streaming API, over one WebSocket per call.

Audio is sent as it is fed (binary frames of 16-bit little-endian PCM); at the end of a turn the session
sends ``{"type": "Finalize"}`` and waits until the turn is completely final: a ``Results`` message with
``from_finalize: true``, or final results already reaching the end of the turn (Deepgram does not always
confirm a Finalize when it had nothing left to process). The turn's text joins its final transcripts;
interim results are ignored. If neither arrives within ``finalize_timeout``, the finals and the latest
interim are used when Deepgram said anything about the turn (outcome ``unconfirmed``), otherwise
:class:`SttTimeoutError` is raised. ``{"type": "KeepAlive"}`` is sent whenever no audio went out for
``keepalive_interval`` (Deepgram closes a connection after 10 s without either), and ``{"type":
"CloseStream"}`` on close.

A connection that drops is reopened, with exponential backoff, by the next feed, end of turn or
keep-alive tick, and the turn's audio so far is sent again on the new connection: a drop in the middle of
a turn loses nothing. ``end_of_turn`` gives up (:class:`SttError`) after ``max_connect_attempts``
failed attempts or when ``turn_timeout`` has passed; a 401 or 403 is not retried. See
``docs/speech-to-text.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from ai_agent.providers.http import AttemptFailed, backoff_delay, describe
from ai_agent.stt import deepgram_wire as wire
from ai_agent.stt.audio import MIN_TURN_SECONDS, SAMPLE_WIDTH, base_language, seconds_of
from ai_agent.stt.deepgram_link import Link
from ai_agent.stt.metrics import STT_RETRIES, TurnMetrics
from ai_agent.stt.types import SttError, SttRateLimitedError, SttTimeoutError, Transcript

log = structlog.get_logger(__name__)

RESEND_CHUNK_SECONDS = 0.1  # the turn's audio is sent again in pieces of this length after a reconnect


class DeepgramStreaming:
    """Opens one live-streaming connection per call to ``{base_url}/v1/listen``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "wss://api.deepgram.com",
        model: str = "nova-3",
        extra_query: Mapping[str, str] | None = None,
        provider: str = "deepgram",
        connect_timeout: float = 5.0,
        finalize_timeout: float = 1.5,
        turn_timeout: float = 5.0,
        keepalive_interval: float = 4.0,
        max_connect_attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
        close_timeout: float = 2.0,
    ) -> None:
        if max_connect_attempts < 1:
            raise ValueError("max_connect_attempts must be at least 1")
        self.base_url = base_url
        self.model = model
        self.extra_query = dict(extra_query or {})
        self.provider = provider
        self.connect_timeout = connect_timeout
        self.finalize_timeout = finalize_timeout
        self.turn_timeout = turn_timeout
        self.keepalive_interval = keepalive_interval
        self.max_connect_attempts = max_connect_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.close_timeout = close_timeout
        self._headers = {"Authorization": f"Token {api_key}"}

    def __repr__(self) -> str:  # the key lives in the headers: never shown
        return f"DeepgramStreaming(base_url={self.base_url!r}, model={self.model!r})"

    async def load(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        """Nothing to close: each session owns its connection."""

    async def open(
        self, *, sample_rate: int, language: str, vocabulary: Sequence[str] = ()
    ) -> DeepgramSession:
        """A session with its connection open (:class:`SttError` if it cannot be opened); ``vocabulary``
        goes as Deepgram's ``keyterm`` prompting."""
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        extra = dict(self.extra_query or {})
        if vocabulary:
            extra["keyterm"] = " ".join(vocabulary)
        url = wire.listen_url(
            self.base_url, sample_rate=sample_rate, language=language, model=self.model, extra=extra
        )
        session = DeepgramSession(self, url, sample_rate, language)
        await session.start()
        return session

    async def connect(self, url: str) -> ClientConnection:
        """One connection attempt; raises :class:`AttemptFailed` (reason ``rate_limited``,
        ``connection_error``, or ``refused``: not retried)."""
        try:
            return await connect(
                url,
                additional_headers=self._headers,
                open_timeout=self.connect_timeout,
                compression=None,  # PCM does not compress; spare the CPU
                close_timeout=self.close_timeout,
            )
        except InvalidStatus as exc:
            raise _refusal(exc) from exc
        except InvalidURI as exc:
            raise AttemptFailed("refused", f"bad Deepgram URL: {exc}") from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise AttemptFailed("connection_error", f"could not reach Deepgram: {describe(exc)}") from exc

    def backoff(self, failures: int, retry_after: float | None) -> float:
        return backoff_delay(failures, self.backoff_base, self.backoff_cap, retry_after)


def _refusal(exc: InvalidStatus) -> AttemptFailed:
    status = exc.response.status_code
    message = f"Deepgram refused the connection: HTTP {status}"
    if status == 429:
        retry_after = exc.response.headers.get("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return AttemptFailed("rate_limited", message, seconds)
    if status >= 500 or status == 408:
        return AttemptFailed("connection_error", message)
    return AttemptFailed("refused", message)  # 400 (bad parameters), 401, 403, …


def _no_link(attempts: int, failure: AttemptFailed | None) -> SttError:
    message = f"no connection to Deepgram ({attempts} attempts this turn)"
    if failure is None:
        return SttError(message)
    if failure.reason == "rate_limited":
        return SttRateLimitedError(f"{message}: {failure}", failure.retry_after)
    return SttError(f"{message}: {failure}")


class DeepgramSession:
    """One call's stream. Calls are serialised by a lock; the keep-alive task takes it too."""

    def __init__(self, engine: DeepgramStreaming, url: str, sample_rate: int, language: str) -> None:
        self.sample_rate = sample_rate
        self.language = language
        self._engine = engine
        self._url = url
        self._bytes_per_second = sample_rate * SAMPLE_WIDTH
        self._lock = asyncio.Lock()
        self._link: Link | None = None
        self._turn = bytearray()  # the turn's audio, sent again after a reconnect
        self._turn_start = 0.0  # where the turn begins in the current link's audio, in seconds
        self._failures = 0  # connection attempts failed in a row
        self._retry_at = 0.0  # no new attempt before then (event-loop time)
        self._keepalive: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        async with self._lock:
            await self._link_by(self._now() + self._engine.turn_timeout)
        self._keepalive = asyncio.create_task(self._keep_alive())

    # --- the session protocol -------------------------------------------------------------------------

    async def feed(self, pcm: bytes) -> None:
        async with self._lock:
            if self._closed or not pcm:
                return
            self._turn += pcm
            link = self._link
            if link is None or not await link.send_audio(pcm):
                await self._try_relink()  # a new link is sent the whole turn, this frame included

    async def end_of_turn(self) -> Transcript:
        async with self._lock:
            if self._closed:
                raise SttError("the speech-to-text session is closed")
            if seconds_of(len(self._turn), self.sample_rate) < MIN_TURN_SECONDS:
                self._begin_turn()
                return Transcript("")  # Deepgram may not even answer a Finalize for so little
            try:
                with TurnMetrics(self._engine.provider) as metrics:
                    return await self._finish_turn(metrics)
            finally:
                self._begin_turn()

    async def discard(self) -> None:
        async with self._lock:
            self._begin_turn()

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            self._turn.clear()
            if self._link is not None:
                await self._link.close(wire.CLOSE_STREAM, self._engine.close_timeout)

    # --- turns ----------------------------------------------------------------------------------------

    def _begin_turn(self) -> None:
        self._turn.clear()
        if self._link is not None:
            self._turn_start = self._link.seconds
            self._link.forget_before(self._turn_start)

    async def _finish_turn(self, metrics: TurnMetrics) -> Transcript:
        deadline = self._now() + self._engine.turn_timeout
        while True:
            link = await self._link_by(deadline)
            turn_end = link.seconds
            if not await link.send_text(wire.FINALIZE):
                continue  # dropped: reconnect and send the turn again
            done = await link.wait_for(
                partial(self._confirmed, link, turn_end),
                min(deadline, self._now() + self._engine.finalize_timeout),
            )
            if done or link.alive:
                return self._transcript(link, done, metrics)

    def _confirmed(self, link: Link, turn_end: float) -> bool:
        return wire.confirmed(link.results, self._turn_start, turn_end)

    def _transcript(self, link: Link, confirmed: bool, metrics: TurnMetrics) -> Transcript:
        heard = [result for result in link.results if wire.in_turn(result, self._turn_start)]
        if not confirmed and not heard:
            raise SttTimeoutError(
                f"Deepgram sent nothing about the turn within {self._engine.finalize_timeout:g} s"
            )
        text, confidence = wire.turn_text(link.results, self._turn_start, with_interim=not confirmed)
        if not confirmed:
            metrics.outcome = "unconfirmed"
            log.warning("stt.finalize_unconfirmed", provider=self._engine.provider)
        return Transcript(text, base_language(self.language), confidence)

    # --- the connection -------------------------------------------------------------------------------

    async def _link_by(self, deadline: float) -> Link:
        """A live link, reconnecting (with backoff) if needed; raises :class:`SttError` when it cannot."""
        attempts, failure = 0, None
        while self._link is None or not self._link.alive:
            wait = max(self._retry_at - self._now(), 0.0)
            if attempts >= self._engine.max_connect_attempts or self._now() + wait >= deadline:
                raise _no_link(attempts, failure)
            await asyncio.sleep(wait)
            attempts += 1
            failure = await self._try_relink()
            if failure is not None and failure.reason == "refused":
                raise SttError(str(failure)) from failure
        return self._link

    async def _try_relink(self) -> AttemptFailed | None:
        """One connection attempt unless the backoff says wait; on success the turn's audio is sent."""
        if self._now() < self._retry_at:
            return None
        try:
            websocket = await self._engine.connect(self._url)
        except AttemptFailed as failure:
            self._connect_failed(failure)
            return failure
        if self._link is not None:
            STT_RETRIES.labels(self._engine.provider, "reconnect").inc()
            log.info("stt.reconnected", provider=self._engine.provider, turn_bytes=len(self._turn))
        self._link = Link(websocket, self._bytes_per_second)
        self._failures = 0
        self._turn_start = 0.0
        await self._resend_turn(self._link)
        return None

    def _connect_failed(self, failure: AttemptFailed) -> None:
        self._failures += 1
        delay = self._engine.backoff(self._failures, failure.retry_after)
        self._retry_at = self._now() + delay
        STT_RETRIES.labels(self._engine.provider, failure.reason).inc()
        log.warning(
            "stt.connect_failed", provider=self._engine.provider, error=str(failure), retry_in=round(delay, 3)
        )

    async def _resend_turn(self, link: Link) -> None:
        chunk = max(SAMPLE_WIDTH, int(self._bytes_per_second * RESEND_CHUNK_SECONDS))
        audio = bytes(self._turn)
        for offset in range(0, len(audio), chunk):
            if not await link.send_audio(audio[offset : offset + chunk]):
                return

    async def _keep_alive(self) -> None:
        """Send KeepAlive while no audio goes out, and reopen a dropped connection between turns."""
        interval = self._engine.keepalive_interval
        while True:
            link = self._link
            idle_since = link.last_sent if link is not None else self._now()
            await asyncio.sleep(max(idle_since + interval - self._now(), interval / 10))
            async with self._lock:
                if self._closed:
                    return
                if self._link is None or not self._link.alive:
                    await self._try_relink()
                elif self._now() - self._link.last_sent >= interval:
                    await self._link.send_text(wire.KEEP_ALIVE)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
