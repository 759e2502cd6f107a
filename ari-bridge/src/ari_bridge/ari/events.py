"""Typed models of the ARI events the bridge uses, and :func:`parse_event`.

Models ignore fields they do not name, so newer Asterisk versions that add fields still parse. Every event has
``type``, ``application``, ``timestamp`` and ``asterisk_id``, and a ``channel_id``: the id of the channel the
event is about (for ``Dial``, the peer's), which the dispatcher uses to keep each channel's events in order.

Any other type becomes an :class:`UnknownEvent` that keeps the raw dict. A known type whose body does not
validate becomes an :class:`UnknownEvent` with ``malformed=True``, logged at debug and counted in
``dialplane_ari_events_malformed_total``; :func:`parse_event` never raises.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import structlog
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

MALFORMED_EVENTS = Counter(
    "ari_events_malformed_total",
    "ARI events that could not be parsed (invalid JSON, or a known type with an unexpected body), by type.",
    ["type"],
    namespace=NAMESPACE,
)

# Event types documented by ARI: a bounded set for metric labels (anything else is "other").
ARI_EVENT_TYPES = frozenset(
    {
        *("ApplicationMoveFailed", "ApplicationRegistered", "ApplicationReplaced", "ApplicationUnregistered"),
        *(
            "BridgeAttendedTransfer",
            "BridgeBlindTransfer",
            "BridgeCreated",
            "BridgeDestroyed",
            "BridgeMerged",
        ),
        *("BridgeVideoSourceChanged", "ChannelCallerId", "ChannelConnectedLine", "ChannelCreated"),
        *("ChannelDestroyed", "ChannelDialplan", "ChannelDtmfReceived", "ChannelEnteredBridge"),
        *("ChannelHangupRequest", "ChannelHold", "ChannelLeftBridge", "ChannelStateChange"),
        *("ChannelTalkingFinished", "ChannelTalkingStarted", "ChannelToneDetected", "ChannelTransfer"),
        *("ChannelUnhold", "ChannelUserevent", "ChannelVarset", "ContactStatusChange", "DeviceStateChanged"),
        *("Dial", "EndpointStateChange", "PeerStatusChange", "PlaybackContinuing", "PlaybackFinished"),
        *("PlaybackStarted", "RecordingFailed", "RecordingFinished", "RecordingStarted", "StasisEnd"),
        *("StasisStart", "TextMessageReceived"),
    }
)


def metric_type(event_type: str) -> str:
    """``event_type`` if ARI documents it, else ``other``: a label value of bounded cardinality."""
    return event_type if event_type in ARI_EVENT_TYPES else "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CallerId(_Model):
    name: str = ""
    number: str = ""


class DialplanLocation(_Model):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str | None = None
    app_data: str | None = None


class Channel(_Model):
    id: str
    name: str
    state: str
    caller: CallerId = CallerId()
    connected: CallerId = CallerId()
    dialplan: DialplanLocation | None = None
    creationtime: datetime | None = None
    channelvars: dict[str, str] | None = None


class _Common(_Model):
    type: str
    application: str | None = None
    asterisk_id: str | None = None


class _Event(_Common):
    timestamp: datetime

    @property
    def channel_id(self) -> str | None:
        """The channel this event is about, if any."""
        return None


class _ChannelEvent(_Event):
    channel: Channel

    @property
    def channel_id(self) -> str | None:
        return self.channel.id


class StasisStart(_ChannelEvent):
    type: Literal["StasisStart"]
    args: list[str] = []
    replace_channel: Channel | None = None


class StasisEnd(_ChannelEvent):
    type: Literal["StasisEnd"]


class ChannelStateChange(_ChannelEvent):
    type: Literal["ChannelStateChange"]


class ChannelDestroyed(_ChannelEvent):
    type: Literal["ChannelDestroyed"]
    cause: int
    cause_txt: str
    tech_cause: int | None = None


class ChannelHangupRequest(_ChannelEvent):
    type: Literal["ChannelHangupRequest"]
    cause: int | None = None
    soft: bool | None = None


class ChannelDtmfReceived(_ChannelEvent):
    type: Literal["ChannelDtmfReceived"]
    digit: str
    duration_ms: int | None = None


class ChannelTalkingStarted(_ChannelEvent):
    type: Literal["ChannelTalkingStarted"]


class ChannelTalkingFinished(_ChannelEvent):
    type: Literal["ChannelTalkingFinished"]
    duration: int | None = None


class Dial(_Event):
    type: Literal["Dial"]
    peer: Channel
    caller: Channel | None = None
    dialstatus: str
    dialstring: str | None = None
    forward: str | None = None

    @property
    def channel_id(self) -> str | None:
        return self.peer.id


class ChannelVarset(_Event):
    type: Literal["ChannelVarset"]
    channel: Channel | None = None
    variable: str
    value: str

    @property
    def channel_id(self) -> str | None:
        return self.channel.id if self.channel else None


class ApplicationReplaced(_Event):
    type: Literal["ApplicationReplaced"]


class UnknownEvent(_Common):
    """An event type we do not model, or one that did not parse (``malformed``); ``raw`` is the dict."""

    type: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any]
    malformed: bool = False

    @property
    def channel_id(self) -> str | None:
        for key in ("channel", "peer"):
            value = self.raw.get(key)
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                return str(value["id"])
        return None


KnownEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDestroyed
    | ChannelHangupRequest
    | ChannelDtmfReceived
    | ChannelTalkingStarted
    | ChannelTalkingFinished
    | Dial
    | ChannelVarset
    | ApplicationReplaced
)
AriEvent = KnownEvent | UnknownEvent

_KNOWN: TypeAdapter[KnownEvent] = TypeAdapter(Annotated[KnownEvent, Field(discriminator="type")])
_TIMESTAMP: TypeAdapter[datetime | None] = TypeAdapter(datetime | None)
# Each model is named after its ARI event type.
KNOWN_EVENT_TYPES = frozenset(model.__name__ for model in get_args(KnownEvent))


def parse_event(raw: dict[str, Any]) -> AriEvent:
    """The typed event for ``raw`` (a decoded ARI event); never raises."""
    if not isinstance(raw, dict):
        return _malformed({"value": raw}, "not a JSON object")
    event_type = raw.get("type")
    if event_type not in KNOWN_EVENT_TYPES:
        return _unknown(raw, malformed=False)
    try:
        return _KNOWN.validate_python(raw)
    except ValidationError as exc:
        return _malformed(raw, f"{exc.error_count()} invalid field(s): {_error_fields(exc)}")


def decode_event(message: str | bytes) -> AriEvent:
    """Parse one WebSocket text frame; invalid JSON becomes a malformed :class:`UnknownEvent`."""
    try:
        raw = json.loads(message)
    except ValueError:
        return _malformed({"text": message[:200]}, "invalid JSON")
    return parse_event(raw)


def _unknown(raw: dict[str, Any], *, malformed: bool) -> UnknownEvent:
    timestamp = raw.get("timestamp")
    try:
        parsed_time = _TIMESTAMP.validate_python(timestamp)
    except ValidationError:
        parsed_time = None
    return UnknownEvent(
        type=str(raw.get("type") or ""),
        application=_optional_str(raw.get("application")),
        asterisk_id=_optional_str(raw.get("asterisk_id")),
        timestamp=parsed_time,
        raw=raw,
        malformed=malformed,
    )


def _malformed(raw: dict[str, Any], reason: str) -> UnknownEvent:
    event = _unknown(raw, malformed=True)
    MALFORMED_EVENTS.labels(metric_type(event.type)).inc()
    log.debug("ari_event_malformed", event_type=event.type, reason=reason)
    return event


def _error_fields(exc: ValidationError) -> str:
    return ", ".join(".".join(str(part) for part in error["loc"]) for error in exc.errors()[:5])


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
