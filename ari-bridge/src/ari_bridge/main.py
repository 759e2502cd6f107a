"""The ari-bridge service application: takes originate/hangup commands, places and tracks calls on the
configured Asterisk nodes, and publishes their progress on the event stream. Each trunk's limit and calls in
use are reported in ``capacity_reports`` for the dialer's pacing (:mod:`dialplane.capacity`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from ari_bridge.api import router
from ari_bridge.calls import repository
from ari_bridge.calls.abandon import AgentWaits
from ari_bridge.calls.commands import CallCommands
from ari_bridge.calls.media import AgentMedia
from ari_bridge.calls.reconcile import Reconciler, enforce_max_duration
from ari_bridge.calls.service import CallTracker
from ari_bridge.calls.stasis import ChannelEvents
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import Nodes
from ari_bridge.settings import Settings
from dialplane.app import ReadinessCheck, create_service_app
from dialplane.calls import BRIDGE_QUEUE
from dialplane.capacity import CapacityReporter
from dialplane.db import transaction
from dialplane.runners import running


class NodeDisconnectedError(Exception):
    """An Asterisk node's event socket is not connected."""


def node_ready(name: str) -> ReadinessCheck:
    async def check(app: FastAPI) -> None:
        node = app.state.nodes[name]
        if not node.connected:
            raise NodeDisconnectedError(f"ARI events not connected: {node.socket.last_error or 'connecting'}")

    return check


def create_app(settings: Settings | None = None, transport: Any = None) -> FastAPI:
    """The service; ``transport`` (an httpx transport) replaces ARI's HTTP in tests."""
    settings = settings or Settings()

    @asynccontextmanager
    async def bridge(app: FastAPI) -> AsyncIterator[None]:
        sessions, stream = app.state.sessions, app.state.event_stream
        tracker = CallTracker(stream, AgentWaits.of(settings))
        capacity = Capacity(
            settings.nodes, settings.trunks, is_connected=lambda name: nodes.is_connected(name)
        )
        nodes = Nodes(
            settings.nodes,
            on_event=ChannelEvents(sessions, tracker, capacity, stream).handle,
            reconcile=Reconciler(sessions, tracker, capacity),
            timeout=settings.ari_timeout_seconds,
            transport=transport,
        )
        async with transaction(sessions) as session:
            capacity.restore(await repository.active_counts(session))
        media = AgentMedia(sessions, stream, nodes, settings)
        commands = CallCommands(sessions, tracker, capacity, nodes, settings, media)
        worker = stream.worker(BRIDGE_QUEUE, commands.handle, concurrency=settings.worker_concurrency)
        reporter = CapacityReporter(
            sessions, capacity.reports, interval_seconds=settings.capacity_report_interval_seconds
        )
        app.state.nodes, app.state.capacity, app.state.capacity_reporter = nodes, capacity, reporter
        await nodes.start()
        guard = asyncio.create_task(
            enforce_max_duration(sessions, nodes, settings.duration_check_interval_seconds)
        )
        try:
            async with running([worker, reporter]):
                yield
        finally:
            await media.deadlines.close()
            guard.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await guard
            await nodes.stop()

    checks = {f"asterisk:{node.name}": node_ready(node.name) for node in settings.nodes}
    return create_service_app(
        settings,
        title="Dialplane ARI bridge",
        routers=[router],
        extra_lifespan=bridge,
        readiness_checks=checks,
    )
