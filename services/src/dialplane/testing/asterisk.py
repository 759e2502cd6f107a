"""Pytest fixtures for a real Asterisk, and a small ARI client for tests.

The session fixture ``asterisk`` runs ``asterisk/local.sh start`` (a Debian sid chroot; see that script) and,
at the end of the session, ``stop`` — but only if it was not already running before the session.
Ports, credentials and the application name come from the same environment variables as ``local.sh``:
``ASTERISK_HTTP_PORT``, ``ASTERISK_ARI_USERNAME``, ``ASTERISK_ARI_PASSWORD``, ``ASTERISK_ARI_APP``.

``second_asterisk`` is another node from the same root filesystem (``ASTERISK_INSTANCE=2``: ARI on 8188,
SIP on 5160, entity id 02:00:00:00:00:02), for the tests of several nodes; it is started on first use and
stopped at the end of the session if it was not running before.

``AriTestClient`` is enough for smoke tests: originate, hang up, play, set a variable, and wait for events.
It is not the bridge's client: it keeps every event in memory and has no reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["AriEvent", "AriTestClient", "AsteriskInfo", "asterisk", "second_asterisk"]

AriEvent = dict[str, Any]
START_TIMEOUT_SECONDS = 600  # generous: the first start on a fresh machine builds the root filesystem


@dataclass(frozen=True)
class AsteriskInfo:
    """Where a running Asterisk's ARI answers, and as whom."""

    ari_url: str
    username: str
    password: str
    app: str
    http_port: int
    instance: int = 1  # ASTERISK_INSTANCE of asterisk/local.sh
    entity_id: str = "02:00:00:00:00:01"

    @property
    def events_url(self) -> str:
        query = urlencode(
            {"app": self.app, "subscribeAll": "false", "api_key": f"{self.username}:{self.password}"}
        )
        return f"{self.ari_url.replace('http', 'ws', 1)}/events?{query}"


# What local.sh derives from ASTERISK_INSTANCE for instances other than the first (the environment's
# ASTERISK_HTTP_PORT, ASTERISK_SIP_PORT and ASTERISK_ENTITY_ID are the first instance's).
_PER_INSTANCE = ("ASTERISK_HTTP_PORT", "ASTERISK_SIP_PORT", "ASTERISK_ENTITY_ID")


def asterisk_info_from_env(instance: int = 1) -> AsteriskInfo:
    if instance == 1:
        port = int(os.environ.get("ASTERISK_HTTP_PORT", "8088"))
        entity_id = os.environ.get("ASTERISK_ENTITY_ID", "02:00:00:00:00:01")
    else:
        port, entity_id = 8088 + 100 * (instance - 1), f"02:00:00:00:00:0{instance}"
    return AsteriskInfo(
        ari_url=f"http://127.0.0.1:{port}/ari",
        username=os.environ.get("ASTERISK_ARI_USERNAME", "dialplane"),
        password=os.environ.get("ASTERISK_ARI_PASSWORD", "dialplane"),
        app=os.environ.get("ASTERISK_ARI_APP", "dialplane"),
        http_port=port,
        instance=instance,
        entity_id=entity_id,
    )


def repository_root() -> Path:
    """The checkout holding ``asterisk/local.sh``: from this file's path, else from git."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "asterisk" / "local.sh").is_file():
            return parent
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 -- git from PATH, as a developer runs it
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(top)


def run_local_sh(command: str, instance: int = 1) -> subprocess.CompletedProcess[str]:
    script = repository_root() / "asterisk" / "local.sh"
    env = os.environ | {"ASTERISK_INSTANCE": str(instance)}
    if instance != 1:
        env = {name: value for name, value in env.items() if name not in _PER_INSTANCE}
    return subprocess.run(  # noqa: S603 -- our own script, fixed commands
        [str(script), command],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
        env=env,
    )


def start_asterisk(instance: int = 1) -> None:
    result = run_local_sh("start", instance)
    if result.returncode != 0:
        pytest.fail(f"asterisk/local.sh start failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def asterisk() -> Iterator[AsteriskInfo]:
    """A running local Asterisk; stopped at the end only if this session started it."""
    was_running = run_local_sh("status").returncode == 0
    start_asterisk()
    yield asterisk_info_from_env()
    if not was_running:
        run_local_sh("stop")


@pytest.fixture(scope="session")
def second_asterisk(asterisk: AsteriskInfo) -> Iterator[AsteriskInfo]:
    """A second local Asterisk node (instance 2), beside the first; stopped at the end only if this session
    started it."""
    was_running = run_local_sh("status", 2).returncode == 0
    start_asterisk(2)
    yield asterisk_info_from_env(2)
    if not was_running:
        run_local_sh("stop", 2)


def event_channel_ids(event: AriEvent) -> set[str]:
    """Ids of the channels an event is about (``channel``, and ``peer``/``caller`` of Dial events)."""
    return {event[key]["id"] for key in ("channel", "peer", "caller") if isinstance(event.get(key), dict)}


class AriTestClient:
    """ARI over httpx (REST) and websockets (events of one application), for tests.

    Use as ``async with AriTestClient(info) as ari:``. Every event received is kept in ``events``.
    """

    def __init__(self, info: AsteriskInfo) -> None:
        self.info = info
        self.events: list[AriEvent] = []
        self._http = httpx.AsyncClient(base_url=info.ari_url, auth=(info.username, info.password), timeout=10)
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._arrived = asyncio.Condition()

    async def __aenter__(self) -> Self:
        self._socket = await connect(self.info.events_url)
        self._reader = asyncio.create_task(self._read_events())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            await self._socket.close()
        await self._http.aclose()

    async def _read_events(self) -> None:
        assert self._socket is not None
        async for message in self._socket:
            event: AriEvent = json.loads(message)
            async with self._arrived:
                self.events.append(event)
                self._arrived.notify_all()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response

    async def asterisk_info(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.request("GET", "/asterisk/info")).json()
        return body

    async def originate(
        self,
        endpoint: str,
        channel_id: str,
        app: str | None = None,
        ring_timeout: int = 30,
        app_args: str = "",
        context: str | None = None,
    ) -> dict[str, Any]:
        """``POST /channels``: once answered, the channel enters a Stasis application (ours unless ``app`` is
        given) or, if ``context`` is given, that dialplan context at extension ``s`` (e.g. ``dialplane-amd``).

        With ``app``, the application sees the channel's events from the originate to ChannelDestroyed. With
        ``context``, only while the channel is in Stasis: from StasisStart to StasisEnd. ``ring_timeout`` is
        ARI's ``timeout``: seconds to wait for an answer.
        """
        body: dict[str, Any] = {"endpoint": endpoint, "channelId": channel_id, "timeout": ring_timeout}
        if context is None:
            body |= {"app": app or self.info.app, "appArgs": app_args}
        else:
            body |= {"context": context, "extension": "s", "priority": 1}
        channel: dict[str, Any] = (await self.request("POST", "/channels", json=body)).json()
        return channel

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang a channel up; a channel that is already gone is fine."""
        response = await self._http.delete(f"/channels/{channel_id}", params={"reason": reason})
        if response.status_code != httpx.codes.NOT_FOUND:
            response.raise_for_status()

    async def play(self, channel_id: str, media: str) -> dict[str, Any]:
        """Play a media URI (``sound:hello-world``, ``tone:ring``…) on a channel."""
        playback: dict[str, Any] = (
            await self.request("POST", f"/channels/{channel_id}/play", json={"media": media})
        ).json()
        return playback

    async def set_variable(self, channel_id: str, variable: str, value: str = "") -> None:
        """Set a channel variable or function, e.g. ``TALK_DETECT(set)`` for ChannelTalking* events."""
        body = {"variable": variable, "value": value}
        await self.request("POST", f"/channels/{channel_id}/variable", json=body)

    async def channel_exists(self, channel_id: str) -> bool:
        response = await self._http.get(f"/channels/{channel_id}")
        return response.status_code == httpx.codes.OK

    def find(self, event_type: str, channel_id: str | None = None) -> AriEvent | None:
        """The first event received so far of this type (and about this channel, if given)."""
        return next((event for event in self.events if _matches(event, event_type, channel_id)), None)

    async def wait_for(self, event_type: str, channel_id: str | None = None, within: float = 10) -> AriEvent:
        """The first event of this type (about this channel), already received or still to come.

        Raises ``TimeoutError`` if none arrives within ``within`` seconds.
        """
        return await self._wait_until(lambda: self.find(event_type, channel_id), within)

    async def _wait_until(self, found: Callable[[], AriEvent | None], within: float) -> AriEvent:
        async with asyncio.timeout(within), self._arrived:
            while (event := found()) is None:
                await self._arrived.wait()
            return event


def _matches(event: AriEvent, event_type: str, channel_id: str | None) -> bool:
    return event.get("type") == event_type and (channel_id is None or channel_id in event_channel_ids(event))
