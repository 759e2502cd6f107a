"""The gateway service starts, reports itself ready against a real database, and serves its probes."""

from __future__ import annotations

import httpx


async def test_the_service_is_ready_with_a_reachable_database(client: httpx.AsyncClient) -> None:
    ready = await client.get("/ready")
    metrics = await client.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["service"] == "gateway"
    assert 'dialplane_service_info{service="gateway"' in metrics.text


async def test_the_openapi_document_declares_both_credentials(client: httpx.AsyncClient) -> None:
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/token"
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
