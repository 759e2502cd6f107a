"""Every error leaves a service as application/problem+json naming the problem, never as a bare 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from dialplane.db import RetryableTransactionError
from dialplane.errors import PROBLEM_JSON, Conflict, install_error_handlers

router = APIRouter()


class Body(BaseModel):
    to: str = Field(min_length=3)
    count: int


@router.post("/things")
async def create_thing(body: Body) -> dict[str, str]:
    return {"to": body.to}


@router.get("/conflict")
async def conflict() -> None:
    raise Conflict("call 42 is already being dialed", extra={"call_id": "42"})


@router.get("/crash")
async def crash() -> None:
    raise RuntimeError("secret internals")


@router.get("/db-down")
async def db_down() -> None:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


@router.get("/conflicting")
async def conflicting() -> None:
    raise RetryableTransactionError("a later transaction already published for calls:1; rerun")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_validation_error_names_each_offending_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"to": "x"})
    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert body["code"] == "validation_failed"
    assert sorted(e["field"] for e in body["errors"]) == ["count", "to"]
    assert "count" in body["detail"] and "to" in body["detail"]


async def test_malformed_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/things", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_domain_error_keeps_its_status_code_and_extra_members(client: httpx.AsyncClient) -> None:
    response = await client.get("/conflict")
    assert response.status_code == 409
    assert (
        response.json().items()
        >= {
            "type": "https://dialplane.dev/problems/conflict",
            "status": 409,
            "call_id": "42",
            "detail": "call 42 is already being dialed",
            "instance": "/conflict",
        }.items()
    )


async def test_an_unknown_route_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_an_unexpected_error_hides_its_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "secret internals" not in response.text


async def test_a_lost_database_is_a_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/db-down")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"


async def test_a_transaction_conflict_asks_the_client_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.get("/conflicting")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "concurrent_update"
