"""Request bodies over ``max_body_bytes`` are refused with 413, whether declared or streamed (chunked)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from starlette.types import Message, Receive, Scope, Send

from dialplane.db import SessionFactory
from dialplane.errors import PROBLEM_JSON
from dialplane.testing.http import serving
from gateway.auth.body_limit import BodySizeLimitMiddleware
from gateway.main import create_app
from gateway.settings import Settings
from gateway.testing import add_user, gateway_client, gateway_settings

LIMIT = 1024


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url, max_body_bytes=LIMIT)


@pytest_asyncio.fixture
async def client(settings: Settings, sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(settings) as running:
        yield running


def login_form(padding: int) -> bytes:
    return b"username=alice&password=s3cret-pass&client_id=" + b"x" * padding


async def chunks(body: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["max_bytes"] == LIMIT
    assert "x-request-id" in response.headers


async def test_a_declared_length_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/token", content=login_form(LIMIT), headers=FORM)
    assert response.request.headers["content-length"] == str(len(login_form(LIMIT)))
    assert_too_large(response)


async def test_a_chunked_body_growing_past_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/token", content=chunks(login_form(LIMIT)), headers=FORM)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(response)


async def test_a_json_body_streamed_past_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    body = b'{"name": "' + b"x" * 2 * LIMIT + b'", "scopes": ["calls:read"]}'
    response = await client.post("/api/v1/api-keys", content=chunks(body), headers={"X-API-Key": "dpk_x"})
    assert_too_large(response)  # FastAPI reads the body before it checks the credentials


async def test_bodies_within_the_limit_pass_declared_or_chunked(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    declared = await client.post("/api/v1/token", content=login_form(100), headers=FORM)
    streamed = await client.post("/api/v1/token", content=chunks(login_form(100), size=16), headers=FORM)
    assert (declared.status_code, streamed.status_code) == (200, 200), streamed.text


async def test_a_real_server_refuses_a_chunked_body_over_the_limit(
    settings: Settings, sessions: SessionFactory
) -> None:
    """Through uvicorn and a socket: HTTP/1.1 chunked transfer encoding, as a client really sends it."""
    await add_user(sessions, "alice", "s3cret-pass")
    async with serving(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        too_large = await client.post("/api/v1/token", content=chunks(login_form(LIMIT)), headers=FORM)
        fine = await client.post("/api/v1/token", content=chunks(login_form(100)), headers=FORM)
    assert too_large.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(too_large)
    assert fine.status_code == 200, fine.text


async def test_a_declared_length_is_refused_before_the_application_runs_or_the_body_is_read() -> None:
    calls: list[str] = []
    sent: list[Message] = []

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append("application")

    async def receive() -> Message:
        calls.append("receive")
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [(b"content-length", b"1025")]}
    await BodySizeLimitMiddleware(application, max_bytes=LIMIT)(scope, receive, send)
    assert calls == []
    assert sent[0]["status"] == 413
