"""One supervised ARI event WebSocket per (node, application), reconnecting by itself.

:meth:`AriEventSocket.run` loops until :meth:`AriEventSocket.stop`: connect to
``/ari/events?app=NAME&subscribeAll=false`` (Basic auth header, so the URL holds no secret), set
``connected``, await ``on_connect`` (re-subscribe and reconcile there: Asterisk buffers nothing while the
socket is down), then parse each frame and pass it to ``on_event`` in arrival order (give it
``KeyedDispatcher.put_event``, which never blocks: Asterisk drops a consumer that stalls over 100 ms).

When the connection fails or ends, ``connected`` goes false, ``last_error`` says why in plain words, and the
loop waits with exponential backoff and full jitter (``backoff_initial`` doubling up to ``backoff_max``;
back to the start after a connection that stayed up over 10 s) before the next attempt. Liveness is checked
with WebSocket pings. ``ApplicationReplaced`` means another consumer took the application: the socket closes
and waits ``backoff_max`` before taking it back, so two consumers do not fight in a tight loop.

Metrics: ``dialplane_ari_connected{node}`` (1 or 0) and ``dialplane_ari_reconnects_total{node}``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

import structlog
from prometheus_client import Counter, Gauge
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ari_bridge.ari.events import ApplicationReplaced, AriEvent, decode_event
from dialplane.metrics import NAMESPACE

__all__ = ["AriEventSocket", "OnConnect", "OnEvent"]

log = structlog.get_logger(__name__)

CONNECTED = Gauge(
    "ari_connected", "1 while the ARI event WebSocket is connected.", ["node"], namespace=NAMESPACE
)
RECONNECTS = Counter(
    "ari_reconnects_total", "Reconnection attempts of the ARI event WebSocket.", ["node"], namespace=NAMESPACE
)

OnEvent = Callable[[AriEvent], Awaitable[None] | None]
OnConnect = Callable[[], Awaitable[None]]
STABLE_AFTER_SECONDS = 10.0  # a connection up this long resets the backoff
OPEN_TIMEOUT_SECONDS = 10.0
CLOSE_TIMEOUT_SECONDS = 2.0
MIN_DELAY_SECONDS = 0.05  # full jitter may draw ~0; never retry in a tight loop
MAX_QUEUED_FRAMES = 1024  # frames read ahead while on_connect runs; beyond this TCP pushes back
REPLACED = "ApplicationReplaced: another connection took the app"


class _OnConnectFailedError(Exception):
    pass


class AriEventSocket:
    """The event WebSocket of application ``app`` on one node; see the module docstring."""

    def __init__(
        self,
        ws_url_base: str,
        app: str,
        username: str,
        password: str,
        *,
        node: str,
        on_event: OnEvent,
        on_connect: OnConnect | None = None,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        base = ws_url_base.rstrip("/")
        base = "ws" + base.removeprefix("http") if base.startswith("http") else base  # http(s):// -> ws(s)://
        self.url = f"{base}/events?{urlencode({'app': app, 'subscribeAll': 'false'})}"  # no secret in it
        parts = urlsplit(self.url)
        self.address = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        self.app = app
        self.node = node
        self.connected = False
        self.last_error: str | None = None
        self.attempts = 0  # connection attempts so far
        self.connections = 0  # successful connections so far
        self._authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._on_event = on_event
        self._on_connect = on_connect
        self._ping = (ping_interval, ping_timeout)
        self._backoff = (backoff_initial, backoff_max)
        self._stopping = asyncio.Event()
        self._socket: ClientConnection | None = None
        self._run_task: asyncio.Task[None] | None = None
        CONNECTED.labels(node).set(0)

    async def run(self) -> None:
        """Connect, read, and reconnect until :meth:`stop`; never raises for connection problems."""
        self._run_task = asyncio.current_task()
        failures = 0
        while not self._stopping.is_set():
            if self.attempts:
                RECONNECTS.labels(self.node).inc()
            up_for = await self._connect_once()
            if self._stopping.is_set():
                break
            failures = 1 if up_for > STABLE_AFTER_SECONDS else failures + 1
            delay = self._next_delay(failures)
            log.warning(
                "ari_socket_down",
                node=self.node,
                app=self.app,
                error=self.last_error,
                retry_in=round(delay, 2),
            )
            await self._sleep(delay)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Close the connection and end :meth:`run` (cancelled if it has not ended within the grace time)."""
        self._stopping.set()
        if self._socket is not None:
            await self._socket.close()
        task = self._run_task
        if task is None or task is asyncio.current_task() or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=grace_seconds)
        if not done:
            task.cancel()
            await asyncio.wait({task})

    def _next_delay(self, failures: int) -> float:
        initial, maximum = self._backoff
        if self.last_error == REPLACED:
            return maximum
        ceiling = min(maximum, initial * 2 ** (failures - 1))
        return max(MIN_DELAY_SECONDS, random.uniform(0, ceiling))

    async def _sleep(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _connect_once(self) -> float:
        """One connection from attempt to end; returns how long it was connected (0 if it never was)."""
        self.attempts += 1
        connected_at: float | None = None
        try:
            async with self._connect() as socket:
                connected_at = time.monotonic()
                self._socket = socket
                await self._connected()
                ended = await self._read(socket)
            self._failed(ended)
        except Exception as exc:
            self._failed(describe_error(exc, self.address))
        finally:
            self._socket = None
            self._set_connected(False)
        return time.monotonic() - connected_at if connected_at is not None else 0.0

    def _connect(self) -> connect:
        interval, timeout = self._ping
        return connect(
            self.url,
            additional_headers={"Authorization": self._authorization},
            ping_interval=interval,
            ping_timeout=timeout,
            open_timeout=OPEN_TIMEOUT_SECONDS,
            close_timeout=CLOSE_TIMEOUT_SECONDS,
            max_queue=MAX_QUEUED_FRAMES,
            proxy=None,
        )

    async def _connected(self) -> None:
        self.connections += 1
        self.last_error = None
        self._set_connected(True)
        log.info("ari_socket_connected", node=self.node, app=self.app, url=self.url)
        if self._on_connect is None:
            return
        try:
            await self._on_connect()
        except Exception as exc:
            log.exception("ari_socket_on_connect_failed", node=self.node, app=self.app)
            raise _OnConnectFailedError(f"on_connect failed: {type(exc).__name__}: {exc}") from exc

    async def _read(self, socket: ClientConnection) -> str:
        """Deliver events until the connection ends; returns why it ended."""
        async for message in socket:
            event = decode_event(message)
            await self._deliver(event)
            if isinstance(event, ApplicationReplaced):
                return REPLACED
        return f"ARI closed the connection (code {socket.close_code}, reason {socket.close_reason!r})"

    async def _deliver(self, event: AriEvent) -> None:
        try:
            result = self._on_event(event)
            if result is not None:
                await result
        except Exception:
            log.exception(
                "ari_socket_on_event_failed",
                node=self.node,
                event_type=event.type,
                channel_id=event.channel_id,
            )

    def _failed(self, error: str) -> None:
        if self._stopping.is_set():
            return
        self.last_error = error

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        CONNECTED.labels(self.node).set(1 if connected else 0)


def describe_error(exc: Exception, address: str) -> str:
    """A plain description of why a connection failed (never with credentials)."""
    if isinstance(exc, _OnConnectFailedError):
        return str(exc)
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        if code in (401, 403):
            return f"ARI refused the credentials ({code})"
        return f"ARI rejected the WebSocket connection (HTTP {code})"
    if isinstance(exc, ConnectionClosed):
        return f"connection lost: {exc}"
    if isinstance(exc, ConnectionRefusedError) or (isinstance(exc, OSError) and "refused" in str(exc)):
        return f"connection refused at {address}"
    if isinstance(exc, TimeoutError):
        return f"no answer from {address} within {OPEN_TIMEOUT_SECONDS:g} s"
    if isinstance(exc, OSError):
        return f"cannot connect to {address}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
