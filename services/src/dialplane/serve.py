"""Serving a service application with uvicorn (each service's ``python -m`` entry point)."""

from __future__ import annotations

from typing import Literal

import uvicorn
from fastapi import FastAPI

from dialplane.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings, *, loop: Literal["auto", "asyncio"] = "auto") -> None:
    """``loop="auto"`` takes uvloop when installed; ``"asyncio"`` the standard loop."""
    uvicorn.run(
        app,
        loop=loop,
        host=settings.host,
        port=settings.listen_port,
        log_config=None,  # logging is configured by the app's lifespan (structlog)
        access_log=False,  # requests are counted in metrics; errors are logged by the error handlers
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
