"""The FastAPI application every service is built on.

:func:`create_service_app` wires what all services share: structured logging with a ``request_id`` per
request, problem+json errors, ``/health`` (the process is alive), ``/ready`` (every dependency answers),
``/metrics`` when enabled, and a ``lifespan`` that creates the database engine, the session factory and the
event stream, then the service's own resources (``extra_lifespan``), and closes them all on shutdown.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialplane import __version__
from dialplane.db import create_engine, create_session_factory, ping, redact_url
from dialplane.errors import install_error_handlers, install_problem_documentation, problem_response
from dialplane.events.jetstream import create_event_stream
from dialplane.log import configure_logging
from dialplane.metrics import DEPENDENCY_UP, SERVICE_INFO, HttpMetricsMiddleware, metrics_response
from dialplane.settings import ServiceSettings

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]
"""Raises (with a message that names the problem) when a dependency is not usable."""
ExtraLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

READINESS_TIMEOUT_SECONDS = 3.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Binds ``request_id`` (the caller's ``X-Request-ID`` if sane, else a new one) for logs and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


async def database_ready(app: FastAPI) -> None:
    await ping(app.state.engine)


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    extra_lifespan: ExtraLifespan | None = None,
    readiness_checks: dict[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """A service application with the shared plumbing; the service adds routers and resources."""
    checks: dict[str, ReadinessCheck] = {"database": database_ready, **(readiness_checks or {})}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json=settings.log_json, service=settings.service_name)
        SERVICE_INFO.labels(settings.service_name, __version__).set(1)
        async with _shared_resources(app, settings):
            if extra_lifespan is None:
                yield
            else:
                async with extra_lifespan(app):
                    yield

    app = FastAPI(
        title=title,
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.readiness_checks = checks
    install_error_handlers(app)
    install_problem_documentation(app)
    app.add_middleware(HttpMetricsMiddleware, service=settings.service_name)
    app.add_middleware(RequestIdMiddleware)
    _add_probes(app, settings)
    for router in routers:
        app.include_router(router)
    return app


@asynccontextmanager
async def _shared_resources(app: FastAPI, settings: ServiceSettings) -> AsyncIterator[None]:
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    stream = create_event_stream(settings, sessions)  # settings.event_backend: postgres or jetstream
    app.state.engine, app.state.sessions, app.state.event_stream = engine, sessions, stream
    log.info(
        "service_starting",
        database=redact_url(settings.database_url),
        port=settings.listen_port,
        environment=settings.environment,
    )
    await stream.start()
    try:
        yield
    finally:
        await stream.close()
        await engine.dispose()
        log.info("service_stopped")


def _add_probes(app: FastAPI, settings: ServiceSettings) -> None:
    @app.get("/health", tags=["probes"], summary="The process is alive")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/ready", tags=["probes"], summary="Every dependency answers")
    async def ready(request: Request) -> JSONResponse:
        results = await run_readiness_checks(request.app, settings.service_name)
        failing = {name: error for name, error in results.items() if error is not None}
        body: dict[str, Any] = {
            "service": settings.service_name,
            "checks": {name: error or "ok" for name, error in results.items()},
        }
        if not failing:
            return JSONResponse({"status": "ready", **body})
        detail = "; ".join(f"{name}: {error}" for name, error in failing.items())
        return problem_response(
            503,
            "not_ready",
            "Service not ready",
            detail,
            instance="/ready",
            extra=body,
            headers={"Retry-After": "2"},
        )

    if settings.metrics_enabled:
        app.add_route("/metrics", metrics_response, include_in_schema=False)


async def run_readiness_checks(app: FastAPI, service: str) -> dict[str, str | None]:
    """Each check's error message, or ``None`` where it passed; all run concurrently with a timeout."""
    checks: dict[str, ReadinessCheck] = app.state.readiness_checks

    async def one(name: str, check: ReadinessCheck) -> str | None:
        try:
            await asyncio.wait_for(check(app), READINESS_TIMEOUT_SECONDS)
            error = None
        except TimeoutError:
            error = f"no answer within {READINESS_TIMEOUT_SECONDS:g} s"
        except Exception as exc:
            error = str(exc) or type(exc).__name__
        DEPENDENCY_UP.labels(service, name).set(0 if error else 1)
        return error

    results = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return dict(zip(checks, results, strict=True))
