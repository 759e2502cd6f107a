"""``GET /api/v1/events``: call events as server-sent events, live (for dashboards and clients that do not
want webhooks): the status changes (``call.answered``…) and the AI agent's conversation as it happens
(``conversation.turn`` with speaker and text, ``conversation.ended`` with the outcome). Each event is one
SSE message: ``id`` the event id, ``event`` its type,
``data`` JSON ``{"id", "type", "call_id", "at", "data"}``. A comment line is sent every
``sse_heartbeat_seconds`` so proxies keep the connection open. Nothing is replayed: a client sees what
happens while it is connected; a client too slow to keep up is disconnected (and may reconnect).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from dialplane.events import Event, Lagged, LiveView
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires

router = APIRouter(prefix="/api/v1", tags=["events"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get(
    "/events",
    summary="Live call events (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_events(
    request: Request,
    _principal: Annotated[Principal, requires("calls:read")],
    call_id: Annotated[UUID | None, Query(description="only this call's events")] = None,
) -> StreamingResponse:
    view: LiveView = request.app.state.live_events
    heartbeat: float = request.app.state.settings.sse_heartbeat_seconds
    wanted = None if call_id is None else str(call_id)
    subscription = view.subscribe(lambda event: wanted is None or event.key == wanted)
    return StreamingResponse(
        _messages(subscription, heartbeat), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _messages(subscription: AsyncIterator[Event | Lagged], heartbeat: float) -> AsyncIterator[str]:
    yield ": connected\n\n"
    pending: asyncio.Future[Event | Lagged] | None = None
    try:
        while True:
            pending = pending or asyncio.ensure_future(anext(subscription))
            done, _ = await asyncio.wait({pending}, timeout=heartbeat)
            if not done:
                yield ": keep-alive\n\n"
                continue
            item, pending = pending.result(), None
            if isinstance(item, Lagged):
                yield "event: lagged\ndata: {}\n\n"
                return
            yield sse_message(item)
    except StopAsyncIteration:
        return
    finally:
        if pending is not None:
            pending.cancel()


def sse_message(event: Event) -> str:
    data = {
        "id": event.id,
        "type": event.type,
        "call_id": event.key,
        "at": event.created_at.isoformat(),
        "data": event.data,
    }
    return f"id: {event.id}\nevent: {event.type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
