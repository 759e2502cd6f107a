"""The ai-agent service starts, reports itself ready against a real database, and serves its probes."""

from __future__ import annotations

import httpx

from ai_agent.main import create_app
from ai_agent.settings import Settings
from dialplane.testing.database import TEST_INTERNAL_TOKEN


async def test_the_service_is_ready_with_a_reachable_database(database_url: str) -> None:
    app = create_app(
        Settings(database_url=database_url, environment="test", internal_token=TEST_INTERNAL_TOKEN)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/ready")
            metrics = await client.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["service"] == "ai-agent"
    assert 'dialplane_service_info{service="ai-agent"' in metrics.text
