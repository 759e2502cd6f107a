"""The gateway service starts, reports itself ready against a real database, and serves its probes."""

from __future__ import annotations

from dialplane.testing.http import app_client, service_settings
from gateway.main import create_app
from gateway.settings import Settings


async def test_the_service_is_ready_with_a_reachable_database(database_url: str) -> None:
    async with app_client(create_app(service_settings(Settings, database_url))) as client:
        ready = await client.get("/ready")
        metrics = await client.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["service"] == "gateway"
    assert 'dialplane_service_info{service="gateway"' in metrics.text
