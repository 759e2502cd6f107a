"""The ari-bridge service application: takes originate/hangup commands, places and tracks calls on the
Asterisk nodes it drives, and publishes their progress on the event stream. Several bridges share the
configured nodes through leases (:mod:`ari_bridge.leases`); each trunk's share and calls in use are reported
in ``capacity_reports`` for the dialer's pacing (:mod:`dialplane.capacity`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from ari_bridge.api import router
from ari_bridge.calls.abandon import AgentWaits
from ari_bridge.calls.commands import CallCommands
from ari_bridge.calls.media import AgentMedia
from ari_bridge.calls.placing import Placing
from ari_bridge.calls.reconcile import Reconciler, enforce_max_duration
from ari_bridge.calls.routing import CommandRouter
from ari_bridge.calls.service import CallTracker
from ari_bridge.calls.stasis import ChannelEvents
from ari_bridge.capacity import Capacity
from ari_bridge.driving import Driving
from ari_bridge.leases.keeper import NodeLeases
from ari_bridge.nodes import Nodes
from ari_bridge.settings import Settings
from dialplane.app import ReadinessCheck, create_service_app
from dialplane.capacity import CapacityReporter
from dialplane.runners import running


class NodeDisconnectedError(Exception):
    """An Asterisk node's event socket is not connected, or no bridge drives the node."""


def node_ready(name: str) -> ReadinessCheck:
    """Ready when the node is driven here and connected, or driven by another live bridge."""

    async def check(app: FastAPI) -> None:
        node = app.state.nodes[name]
        if node.driven:
            if not node.connected:
                error = node.socket.last_error or "connecting"
                raise NodeDisconnectedError(f"ARI events not connected: {error}")
            return
        if app.state.node_leases.owner(name) is None:
            raise NodeDisconnectedError("no bridge drives this node (lease free)")

    return check


def create_app(settings: Settings | None = None, transport: Any = None) -> FastAPI:
    """The service; ``transport`` (an httpx transport) replaces ARI's HTTP in tests."""
    settings = settings or Settings()

    @asynccontextmanager
    async def bridge(app: FastAPI) -> AsyncIterator[None]:
        sessions, stream = app.state.sessions, app.state.event_stream
        tracker = CallTracker(stream, AgentWaits.of(settings))
        capacity = Capacity(
            settings.nodes,
            settings.trunks,
            is_connected=lambda name: nodes.is_connected(name),
            is_driven=lambda name: nodes[name].driven,
        )
        placing = Placing()
        reconciler = Reconciler(sessions, tracker, capacity, placing)
        nodes = Nodes(
            settings.nodes,
            on_event=ChannelEvents(sessions, tracker, capacity, stream).handle,
            reconcile=reconciler,
            on_lost=reconciler.end_lost,
            lost_after=settings.node_lost_after_seconds,
            timeout=settings.ari_timeout_seconds,
            transport=transport,
        )
        media = AgentMedia(sessions, stream, nodes, settings)
        commands = CallCommands(sessions, tracker, capacity, nodes, settings, media, placing)
        router = CommandRouter(sessions, stream, nodes, commands.handle)
        reporter = CapacityReporter(
            sessions, capacity.reports, interval_seconds=settings.capacity_report_interval_seconds
        )
        driving = Driving(
            sessions,
            nodes,
            capacity,
            stream,
            router,
            settings.worker_concurrency,
            on_change=reporter.refresh_soon,
        )
        leases = NodeLeases(
            sessions,
            list(nodes),
            reporter.instance,
            drive=driving.drive,
            release=driving.release,
            ttl_seconds=settings.node_lease_seconds,
            renew_seconds=settings.node_lease_renew_seconds,
        )
        app.state.nodes, app.state.capacity, app.state.capacity_reporter = nodes, capacity, reporter
        app.state.node_leases = leases
        guard = asyncio.create_task(
            enforce_max_duration(sessions, nodes, settings.duration_check_interval_seconds)
        )
        try:
            async with running([leases, reporter]):
                yield
        finally:
            await driving.release_all()
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
