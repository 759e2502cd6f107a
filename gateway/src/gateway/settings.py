"""Settings of the gateway service (environment prefix ``GATEWAY_``, then ``DIALPLANE_``).

Besides the shared ones: how access tokens are signed and for how long they last, the rate limits, the
largest request body and file upload accepted, where the internal services are, and the live-event
keep-alive.
``jwt_secret`` keeps the placeholder ``change-me`` in development only; outside it the shared validator
refuses placeholders and :meth:`Settings._strong_jwt_secret` short secrets.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from dialplane.settings import ServiceSettings

JwtAlgorithm = Literal["HS256", "HS384", "HS512"]
MIN_JWT_SECRET_LENGTH = 32
MEBIBYTE = 1024 * 1024


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "GATEWAY_"
    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000

    jwt_secret: SecretStr = SecretStr("change-me")
    jwt_algorithm: JwtAlgorithm = "HS256"
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    access_token_ttl_seconds: int = Field(default=3600, ge=1, le=86_400)
    user_rate_limit_per_minute: int = Field(default=600, ge=1)
    login_failures_per_minute: int = Field(default=10, ge=1)
    partner_transfer_per_minute: int = Field(
        default=60, ge=1, description="partner transfers (POST /api/v1/leads/partner-transfer) per API key"
    )
    max_body_bytes: int = Field(default=MEBIBYTE, ge=1024)
    max_upload_bytes: int = Field(
        default=200 * MEBIBYTE,
        ge=1024,
        description="largest file upload (lead imports); streamed, never held",
    )
    dialer_url: str = Field(default="http://127.0.0.1:8001", description="the dialer's internal base URL")
    ai_agent_url: str = Field(default="http://127.0.0.1:8003", description="the ai-agent's internal base URL")
    internal_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)

    @model_validator(mode="after")
    def _strong_jwt_secret(self) -> Settings:
        if self.environment != "development" and len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(
                f"jwt_secret must have at least {MIN_JWT_SECRET_LENGTH} characters; set GATEWAY_JWT_SECRET"
                f" or DIALPLANE_JWT_SECRET (environment is {self.environment})"
            )
        return self
