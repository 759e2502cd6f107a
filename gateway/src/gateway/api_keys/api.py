"""``/api/v1/api-keys``: managing the API keys of partner systems (scope ``admin``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from dialplane.db import SessionDep
from dialplane.internal_auth import Principal
from gateway.api_keys import service
from gateway.api_keys.repository import ApiKey
from gateway.api_keys.service import IssuedKey
from gateway.auth.dependencies import SettingsDep, requires

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])
Admin = Annotated[Principal, requires("admin")]


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=20)
    rate_limit_per_minute: int | None = Field(
        default=None, ge=1, le=1_000_000, description="default: the users' limit (user_rate_limit_per_minute)"
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    rate_limit_per_minute: int
    disabled: bool
    created_by: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    rotated_at: dt.datetime | None

    @classmethod
    def of(cls, api_key: ApiKey) -> ApiKeyOut:
        values = {name: getattr(api_key, name) for name in cls.model_fields}
        return cls.model_validate({**values, "scopes": list(api_key.scopes)})


class ApiKeyWithSecret(ApiKeyOut):
    key: str = Field(description="the key to send as X-API-Key; shown this once only")

    @classmethod
    def issued(cls, issued: IssuedKey) -> ApiKeyWithSecret:
        return cls.model_validate({**ApiKeyOut.of(issued.api_key).model_dump(), "key": issued.key})


@router.post("", status_code=201, summary="Create an API key (the key is shown in this answer only)")
async def create_api_key(
    body: ApiKeyCreate, principal: Admin, session: SessionDep, settings: SettingsDep, response: Response
) -> ApiKeyWithSecret:
    limit = body.rate_limit_per_minute or settings.user_rate_limit_per_minute
    issued = await service.create_api_key(session, body.name, body.scopes, limit, created_by=principal.id)
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyWithSecret.issued(issued)


@router.get("", summary="List API keys (never their secrets)")
async def list_api_keys(_: Admin, session: SessionDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(api_key) for api_key in await service.list_api_keys(session)]


@router.post("/{key_id}/disable", summary="Disable an API key: it stops working at once")
async def disable_api_key(key_id: str, _: Admin, session: SessionDep) -> ApiKeyOut:
    return ApiKeyOut.of(await service.disable_api_key(session, key_id))


@router.post("/{key_id}/rotate", summary="Replace an API key's secret; the old key stops working")
async def rotate_api_key(key_id: str, _: Admin, session: SessionDep, response: Response) -> ApiKeyWithSecret:
    issued = await service.rotate_api_key(session, key_id)
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyWithSecret.issued(issued)
