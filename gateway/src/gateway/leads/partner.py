"""Who may send a partner transfer, and how often: an API key holding ``leads:write`` (a user's token is
refused with 403 ``api_key_required``), at most ``partner_transfer_per_minute`` times a minute per key (429
with ``Retry-After`` past it), on top of the key's own request rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from dialplane.errors import Forbidden, RateLimited
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import RateLimiterDep, SettingsDep, requires
from gateway.auth.metrics import RATE_LIMITED
from gateway.auth.rate_limit import retry_after_header


async def partner_key(
    principal: Annotated[Principal, requires("leads:write")], settings: SettingsDep, limiter: RateLimiterDep
) -> Principal:
    """The API key sending a partner transfer, within its partner-transfer rate limit."""
    if principal.kind != "api_key":
        raise Forbidden(
            "the partner transfer is for partners' API keys (X-API-Key); a user's token cannot use it",
            code="api_key_required",
        )
    per_minute = settings.partner_transfer_per_minute
    wait = limiter.take(f"partner_transfer:{principal.id}", per_minute)
    if wait > 0:
        RATE_LIMITED.labels("partner_transfer").inc()
        raise RateLimited(
            f"more than {per_minute} partner transfers per minute; retry in {wait:.1f} s",
            headers={"Retry-After": retry_after_header(wait)},
            extra={"limit_per_minute": per_minute},
        )
    return principal


PartnerKey = Annotated[Principal, Depends(partner_key)]
