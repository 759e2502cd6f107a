"""The dialer service starts, reports itself ready against a real database, and serves its probes."""

from __future__ import annotations

from dialer.main import create_app
from dialer.testing import dialer_settings
from dialplane.api.routes import CALL_ROUTES
from dialplane.testing.http import app_client


async def test_the_service_is_ready_with_a_reachable_database(database_url: str) -> None:
    async with app_client(create_app(dialer_settings(database_url))) as client:
        ready = await client.get("/ready")
        metrics = await client.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["service"] == "dialer"
    assert 'dialplane_service_info{service="dialer"' in metrics.text


async def test_the_service_serves_the_public_call_routes(database_url: str) -> None:
    app = create_app(dialer_settings(database_url))
    paths = app.openapi()["paths"]
    for route in CALL_ROUTES:
        assert route.method.lower() in paths[route.path], route.name
