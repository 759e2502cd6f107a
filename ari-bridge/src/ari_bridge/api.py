"""The bridge's internal HTTP API (loopback / internal network only): node state and live call details.

A call's details need the principal the gateway signs (``calls:read``), as on the other internal services;
``/nodes`` says no more than ``/ready`` and ``/metrics`` and stays open like them."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Request

from ari_bridge.ari import AriError, AriNotFoundError
from ari_bridge.calls import repository
from dialplane.db import SessionDep
from dialplane.errors import NotFound
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["bridge"])


@router.get("/nodes", summary="Asterisk nodes: connection, channels in use, limits")
async def list_nodes(request: Request) -> list[dict[str, Any]]:
    nodes = request.app.state.nodes
    load = request.app.state.capacity.snapshot()
    return [{**nodes[name].state(), **load.get(name, {})} for name in nodes]


@router.get("/calls/{call_id}", summary="A call's record and, while it lasts, its live channel")
async def get_call(
    call_id: str,
    request: Request,
    session: SessionDep,
    _principal: Annotated[Principal, requires("calls:read")],
) -> dict[str, Any]:
    call = await repository.get(session, call_id)
    if call is None:
        raise NotFound(f"no call {call_id} is known to the bridge")
    body: dict[str, Any] = {**dataclasses.asdict(call), "channel": None}
    nodes = request.app.state.nodes
    if call.is_active and call.node in nodes:
        try:
            body["channel"] = await nodes[call.node].client.get_channel(call_id)
        except AriNotFoundError:
            body["channel"] = None
        except AriError as exc:
            body["channel_error"] = str(exc)
    return body
