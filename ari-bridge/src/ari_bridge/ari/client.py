"""A thin asyncio client for ARI's REST API, on httpx.

Errors: every failed request raises an :class:`AriError` (``status_code``, ``method``, ``route``,
``message``); its message never contains the password.

- :class:`AriNotFoundError` — 404: the channel (application, …) does not exist, e.g. it has already hung up;
  also 422, ARI's answer when a resource named in the parameters does not exist (a subscription's source).
- :class:`AriConflictError` — 409. For :meth:`AriClient.originate`: a channel with this id already exists,
  i.e. an earlier attempt with the same id succeeded. Elsewhere: the channel is not in a Stasis application.
- :class:`AriAuthError` — 401 or 403: ARI refused the credentials.
- :class:`AriUnavailableError` — no usable answer: connection refused, timeout, or a 5xx status
  (``status_code`` is ``None`` when there was no response at all).
- :class:`AriError` itself — any other 4xx, e.g. 400 for invalid parameters.

Every request is timed in ``dialplane_ari_request_duration_seconds`` by node, method, route template
(``/channels/{channelId}``, never a raw id) and status (the HTTP code, or ``error`` without a response).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from prometheus_client import Histogram

from dialplane.metrics import LATENCY_BUCKETS, NAMESPACE

__all__ = [
    "AriAuthError",
    "AriClient",
    "AriConflictError",
    "AriError",
    "AriNotFoundError",
    "AriUnavailableError",
]

REQUEST_DURATION = Histogram(
    "ari_request_duration_seconds",
    "Time of an ARI REST request, by node, method, route template and status (code, or error).",
    ["node", "method", "route", "status"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)

JsonObject = dict[str, Any]


class AriError(Exception):
    """An ARI request failed; see the module docstring for the subclasses."""

    def __init__(self, message: str, *, status_code: int | None, method: str, route: str) -> None:
        super().__init__(f"{method} {route}: {message}")
        self.status_code = status_code
        self.method = method
        self.route = route
        self.message = message


class AriNotFoundError(AriError):
    """404 (or 422): the resource does not exist."""


class AriConflictError(AriError):
    """409: for originate, the channel id exists already (an earlier attempt succeeded)."""


class AriAuthError(AriError):
    """401/403: ARI refused the credentials."""


class AriUnavailableError(AriError):
    """Connection refused, timeout, or a 5xx answer."""


_ERRORS_BY_STATUS: dict[int, type[AriError]] = {
    401: AriAuthError,
    403: AriAuthError,
    404: AriNotFoundError,
    409: AriConflictError,
    422: AriNotFoundError,
}


class AriClient:
    """ARI REST requests to one Asterisk node. Use as ``async with AriClient(...) as ari:`` or call
    :meth:`aclose`. ``base_url`` ends in ``/ari``; ``transport`` replaces the network (tests)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        node: str = "default",
    ) -> None:
        self.node = node
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(username, password),
            timeout=timeout,
            transport=transport,
        )
        self._address = f"{self._http.base_url.host}:{self._http.base_url.port or ''}".rstrip(":")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- resources ---------------------------------------------------------------------------------------

    async def asterisk_info(self) -> JsonObject:
        return await self._json("GET", "/asterisk/info")

    async def get_application(self, app: str) -> JsonObject:
        """The application's ``channel_ids``, ``bridge_ids``… (what to reconcile after a reconnect)."""
        return await self._json("GET", "/applications/{applicationName}", path={"applicationName": app})

    async def subscribe(self, app: str, event_source: str | Sequence[str]) -> JsonObject:
        """Subscribe ``app`` to sources such as ``channel:ID`` (e.g. again after a reconnect)."""
        return await self._subscription("POST", app, event_source)

    async def unsubscribe(self, app: str, event_source: str | Sequence[str]) -> JsonObject:
        return await self._subscription("DELETE", app, event_source)

    async def list_channels(self) -> list[JsonObject]:
        channels: list[JsonObject] = (await self._request("GET", "/channels")).json()
        return channels

    async def get_channel(self, channel_id: str) -> JsonObject:
        return await self._json("GET", "/channels/{channelId}", path={"channelId": channel_id})

    async def originate(
        self,
        *,
        endpoint: str,
        channel_id: str,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        caller_id: str | None = None,
        timeout: int = 30,  # noqa: ASYNC109 -- ARI's ring timeout, not a deadline on this request
        variables: Mapping[str, str] | None = None,
        other_channel_id: str | None = None,
    ) -> JsonObject:
        """``POST /channels`` with our own ``channel_id``; returns the new channel (state Down).

        With ``app`` the channel enters that Stasis application once answered (``app_args`` are its args);
        otherwise it continues in the dialplan at ``context``/``extension``/``priority``. ``timeout`` is the
        number of seconds to ring. Raises :class:`AriConflictError` if a channel with this id exists.
        """
        if app is not None and (context is not None or extension is not None):
            raise ValueError("originate: give either app or context/extension, not both")
        body = _drop_none(
            {
                "endpoint": endpoint,
                "channelId": channel_id,
                "otherChannelId": other_channel_id,
                "app": app,
                "appArgs": _join_args(app_args),
                "context": context,
                "extension": extension,
                "priority": priority,
                "callerId": caller_id,
                "timeout": timeout,
                "variables": dict(variables) if variables else None,
            }
        )
        return await self._json("POST", "/channels", body=body)

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang a channel up; raises :class:`AriNotFoundError` if it is already gone."""
        await self._request(
            "DELETE", "/channels/{channelId}", path={"channelId": channel_id}, params={"reason": reason}
        )

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str = "s", priority: int = 1
    ) -> None:
        """``POST /channels/{id}/continue``: the channel leaves Stasis (StasisEnd) and runs the dialplan from
        ``context``/``extension``/``priority``. A subscription to the channel stays, so its events (e.g.
        ChannelDestroyed) still arrive. Raises :class:`AriNotFoundError` if the channel is gone and
        :class:`AriConflictError` if it is not in a Stasis application."""
        params = {"context": context, "extension": extension, "priority": str(priority)}
        await self._request(
            "POST", "/channels/{channelId}/continue", path={"channelId": channel_id}, params=params
        )

    async def play(self, channel_id: str, media: str, playback_id: str | None = None) -> JsonObject:
        """Play a media URI (``sound:hello-world``…); returns the playback."""
        body = _drop_none({"media": media, "playbackId": playback_id})
        return await self._json(
            "POST", "/channels/{channelId}/play", path={"channelId": channel_id}, body=body
        )

    async def get_variable(self, channel_id: str, name: str) -> str:
        """A channel variable's value; raises :class:`AriNotFoundError` if the channel is gone."""
        result = await self._json(
            "GET", "/channels/{channelId}/variable", path={"channelId": channel_id}, params={"variable": name}
        )
        return str(result.get("value", ""))

    async def create_bridge(self, bridge_id: str, bridge_type: str = "mixing") -> JsonObject:
        """``POST /bridges`` with our own id (a second create of the same id updates it: no error)."""
        return await self._json("POST", "/bridges", body={"bridgeId": bridge_id, "type": bridge_type})

    async def add_to_bridge(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        """Raises :class:`AriNotFoundError` if the bridge or a channel is gone or not in Stasis."""
        await self._request(
            "POST",
            "/bridges/{bridgeId}/addChannel",
            path={"bridgeId": bridge_id},
            params={"channel": ",".join(channel_ids)},
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Raises :class:`AriNotFoundError` if the bridge is gone."""
        await self._request("DELETE", "/bridges/{bridgeId}", path={"bridgeId": bridge_id})

    async def external_media_websocket(self, *, app: str, channel_id: str, media_format: str) -> JsonObject:
        """``POST /channels/externalMedia`` over chan_websocket in server mode: Asterisk makes a channel that
        waits for a media client at ``/media/{MEDIA_WEBSOCKET_CONNECTION_ID}`` (in the returned
        ``channelvars``); the channel enters ``app`` (StasisStart) once the client has connected."""
        params = {
            "app": app,
            "channelId": channel_id,
            "external_host": "INCOMING",
            "transport": "websocket",
            "encapsulation": "none",
            "connection_type": "server",
            "format": media_format,
        }
        return await self._json("POST", "/channels/externalMedia", params=params)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        """Set a channel variable or function, e.g. ``TALK_DETECT(set)``."""
        body = {"variable": name, "value": value}
        await self._request(
            "POST", "/channels/{channelId}/variable", path={"channelId": channel_id}, body=body
        )

    # --- plumbing ----------------------------------------------------------------------------------------

    async def _subscription(self, method: str, app: str, event_source: str | Sequence[str]) -> JsonObject:
        route = "/applications/{applicationName}/subscription"
        params = {"eventSource": _join_args(event_source) or ""}
        response = await self._request(method, route, path={"applicationName": app}, params=params)
        application: JsonObject = response.json()
        return application

    async def _json(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str] | None = None,
        body: JsonObject | None = None,
        params: dict[str, str] | None = None,
    ) -> JsonObject:
        response = await self._request(method, route, path=path, body=body, params=params)
        result: JsonObject = response.json()
        return result

    async def _request(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str] | None = None,
        body: JsonObject | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request to ``route`` (a template) with ``path`` values filled in; raises on any failure."""
        url = route.format_map({name: quote(value, safe="") for name, value in (path or {}).items()})
        status = "error"
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, json=body, params=params)
            status = str(response.status_code)
        except httpx.TransportError as exc:  # timeouts included
            message = _transport_message(exc, self._address)
            raise AriUnavailableError(message, status_code=None, method=method, route=route) from exc
        finally:
            REQUEST_DURATION.labels(self.node, method, route, status).observe(time.perf_counter() - started)
        if response.is_error:
            raise _status_error(response, method, route)
        return response


def _status_error(response: httpx.Response, method: str, route: str) -> AriError:
    code = response.status_code
    message = f"{code} {_ari_message(response)}"
    if code in (401, 403):
        message = f"ARI refused the credentials ({code})"
    error_class = AriUnavailableError if code >= 500 else _ERRORS_BY_STATUS.get(code, AriError)
    return error_class(message, status_code=code, method=method, route=route)


def _ari_message(response: httpx.Response) -> str:
    """ARI's ``{"message": ...}``, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.reason_phrase


def _transport_message(exc: httpx.TransportError, address: str) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {address} within the timeout"
    if isinstance(exc, httpx.ConnectError) and _refused(exc):
        return f"connection refused at {address}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {address}: {exc}"
    return f"request to {address} failed: {type(exc).__name__}: {exc}"


def _refused(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it was raised from is a refused connection."""
    for _ in range(10):  # a bounded walk down the chain
        if exc is None:
            return False
        if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _join_args(app_args: str | Sequence[str] | None) -> str | None:
    if app_args is None or isinstance(app_args, str):
        return app_args
    return ",".join(app_args)


def _drop_none(values: Mapping[str, Any]) -> JsonObject:
    return {name: value for name, value in values.items() if value is not None}
