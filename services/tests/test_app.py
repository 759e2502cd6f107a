"""The shared service application: probes, metrics, request ids, commit before the response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dialplane.app import create_service_app
from dialplane.db import SessionDep
from dialplane.testing.database import settings_for_tests
from dialplane.testing.http import app_client

router = APIRouter()


@router.post("/notes/{note}")
async def add_note(note: str, session: SessionDep) -> dict[str, str]:
    await session.execute(text("INSERT INTO app_notes VALUES (:note)"), {"note": note})
    if note == "fail":
        raise ValueError("fails after writing")
    return {"note": note}


@router.get("/notes")
async def list_notes(session: SessionDep) -> list[str]:
    return list((await session.execute(text("SELECT note FROM app_notes ORDER BY note"))).scalars())


@pytest.fixture
async def client(database_url: str, sessions: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(settings_for_tests(database_url), title="test", routers=[router])
    async with app_client(app) as client:
        yield client


async def test_health_and_ready_answer_when_the_database_does(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_ready_is_a_503_naming_the_database_when_it_is_unreachable() -> None:
    settings = settings_for_tests(
        "postgresql://nobody:x@127.0.0.1:1/none", database_connect_timeout_seconds=1
    )
    async with app_client(create_service_app(settings, title="test")) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.json()["checks"]["database"] != "ok"
        assert "database" in ready.json()["detail"]


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    metrics = (await client.get("/metrics")).text
    assert (
        'dialplane_http_requests_total{method="GET",route="/health",service="dialplane",status="200"}'
        in metrics
    )
    assert "dialplane_dependency_up" in metrics


async def test_metrics_are_absent_when_disabled(database_url: str) -> None:
    app = create_service_app(settings_for_tests(database_url, metrics_enabled=False), title="test")
    async with app_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_sane_request_id_is_echoed_and_a_hostile_one_replaced(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    hostile = await client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(hostile.headers["x-request-id"]) == 32


@pytest.fixture
async def notes_table(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS app_notes (note text PRIMARY KEY)"))


@pytest.mark.usefixtures("notes_table")
async def test_a_route_commits_before_responding_and_rolls_back_when_it_fails(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/notes/kept")).status_code == 200
    assert (await client.post("/notes/fail")).status_code == 500
    assert (await client.get("/notes")).json() == ["kept"]
