"""Info logs never carry a full phone number."""

from __future__ import annotations

import httpx
import pytest

from dialplane.db import SessionFactory


async def test_created_and_refused_calls_log_masked_numbers(
    client: httpx.AsyncClient, sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    accepted = await client.post("/api/v1/calls", json={"to": "+12025550104"})
    refused = await client.post("/api/v1/calls", json={"to": "+18005550123"})
    assert (accepted.status_code, refused.status_code) == (201, 422)
    logged = caplog.text
    assert "call_queued" in logged and "call_refused" in logged
    assert "2025550104" not in logged and "8005550123" not in logged
