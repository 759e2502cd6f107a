"""Dialplane's thin asyncio client for Asterisk ARI.

- :class:`AriClient` — REST requests (httpx), with the :class:`AriError` hierarchy;
- :class:`AriEventSocket` — the supervised event WebSocket of one application on one node;
- :class:`KeyedDispatcher` — per-channel ordered event handling on a fixed pool of tasks;
- :func:`parse_event` and the typed event models.

Typical wiring::

    dispatcher = KeyedDispatcher(handle_event, name=node)
    socket = AriEventSocket(ari_url, app, user, password, node=node,
                            on_event=dispatcher.put_event, on_connect=reconcile)
    await dispatcher.start()
    task = asyncio.create_task(socket.run())
"""

from ari_bridge.ari.client import (
    AriAuthError,
    AriClient,
    AriConflictError,
    AriError,
    AriNotFoundError,
    AriUnavailableError,
)
from ari_bridge.ari.dispatch import EventHandler, KeyedDispatcher
from ari_bridge.ari.events import (
    ApplicationReplaced,
    AriEvent,
    CallerId,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelStateChange,
    ChannelTalkingFinished,
    ChannelTalkingStarted,
    ChannelVarset,
    Dial,
    DialplanLocation,
    KnownEvent,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    decode_event,
    parse_event,
)
from ari_bridge.ari.socket import AriEventSocket, OnConnect, OnEvent

__all__ = [
    "ApplicationReplaced",
    "AriAuthError",
    "AriClient",
    "AriConflictError",
    "AriError",
    "AriEvent",
    "AriEventSocket",
    "AriNotFoundError",
    "AriUnavailableError",
    "CallerId",
    "Channel",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "ChannelHangupRequest",
    "ChannelStateChange",
    "ChannelTalkingFinished",
    "ChannelTalkingStarted",
    "ChannelVarset",
    "Dial",
    "DialplanLocation",
    "EventHandler",
    "KeyedDispatcher",
    "KnownEvent",
    "OnConnect",
    "OnEvent",
    "StasisEnd",
    "StasisStart",
    "UnknownEvent",
    "decode_event",
    "parse_event",
]
