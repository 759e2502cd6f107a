"""What the dialer writes on the event stream about calls: the ``call.queued`` event, and the commands for
the ARI bridge (``call.originate``, ``call.hangup``). Always in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.repository import CallRecord
from dialer.calls.views import call_json
from dialplane.calls import AGENT_QUEUE, BRIDGE_QUEUE, CALLS_STREAM, HANGUP, ORIGINATE, PREPARE, CallStatus
from dialplane.events import EventStream, NewCommand, NewEvent


def originate_data(call: CallRecord) -> dict[str, Any]:
    """The bridge's ``OriginateRequest`` fields, plus ``dialplan`` for an IVR call."""
    data: dict[str, Any] = {
        "call_id": str(call.id),
        "to": call.to_number,
        "caller_id": call.from_number,
        "ring_timeout_seconds": call.ring_timeout_seconds,
        "max_duration_seconds": call.max_duration_seconds,
        "machine_detection": call.machine_detection,
        "variables": _variables(call),
    }
    if call.ivr is not None:
        data["dialplan"] = {key: call.ivr[key] for key in ("context", "extension", "priority")}
    return data


def _variables(call: CallRecord) -> dict[str, str]:
    if call.agent is not None:
        return {"DIALPLANE_MODE": "agent", "DIALPLANE_AGENT_PROFILE": str(call.agent["profile"])}
    return {"DIALPLANE_MODE": "ivr"}


def queued_event(call: CallRecord) -> NewEvent:
    """Shaped like the bridge's ``call.<status>`` events, with the whole call (as the API shows it)."""
    data = {
        "call_id": str(call.id),
        "status": CallStatus.QUEUED.value,
        "previous_status": None,
        "at": call.created_at.astimezone(dt.UTC).isoformat(),
        "node": None,
        "trunk": None,
        "duration_seconds": None,
        "call": call_json(call),
    }
    return NewEvent(CALLS_STREAM, str(call.id), CallStatus.QUEUED.event_type, data)


def prepare_data(call: CallRecord) -> dict[str, Any]:
    return {"id": str(call.id), "to": call.to_number, "mode": "agent", "agent": call.agent}


async def queue_call(stream: EventStream, session: AsyncSession, call: CallRecord) -> None:
    """Announce the call, tell the agents about an agent call, and ask the bridge to dial it."""
    await stream.publish(session, queued_event(call))
    if call.agent is not None:
        await stream.send(session, NewCommand(AGENT_QUEUE, str(call.id), PREPARE, prepare_data(call)))
    await stream.send(session, NewCommand(BRIDGE_QUEUE, str(call.id), ORIGINATE, originate_data(call)))


async def request_hangup(stream: EventStream, session: AsyncSession, call: CallRecord) -> None:
    await stream.send(session, NewCommand(BRIDGE_QUEUE, str(call.id), HANGUP, {"call_id": str(call.id)}))
