"""Settings of the dialer service (environment prefix ``DIALER_``, then ``DIALPLANE_``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from dialer.webhooks.config import WebhookConfig
from dialplane.settings import ServiceSettings

E164_PREFIX = re.compile(r"^\+[0-9]{1,15}$")


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "DIALER_"
    service_name: ClassVar[str] = "dialer"
    default_port: ClassVar[int] = 8001

    default_caller_id: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="caller id of calls that give no `from`"
    )
    min_ring_timeout_seconds: int = Field(
        default=15, ge=1, le=600, description="shortest ring time a call may ask for (US/UK rules: 15 s)"
    )
    default_ring_timeout_seconds: int = Field(default=30, ge=1, le=600)
    default_max_duration_seconds: int | None = Field(default=3600, ge=1, le=86_400)
    calling_hours_start: dt.time = Field(default=dt.time(8, 0), description="called party's local time")
    calling_hours_end: dt.time = Field(default=dt.time(21, 0), description="exclusive")
    calling_hours_exempt_prefixes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="E.164 prefixes exempt from calling hours (JSON list or comma-separated)",
    )
    trunk_dial_strings: dict[str, str] = Field(
        default_factory=lambda: {"test-carrier": "Local/{number}@test-carrier"},
        description="trunk name -> the bridge's dial string, to show a call's `channel`",
    )
    legacy_default_context: str = "dialplane-ivr-demo"
    legacy_default_extension: str = "s"
    legacy_default_priority: int = Field(default=1, ge=1)
    webhook_signing_secret: SecretStr = SecretStr("change-me")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="one whole attempt")
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_backoff_base_seconds: float = Field(default=5.0, ge=0, description="doubles per attempt")
    webhook_backoff_cap_seconds: float = Field(default=900.0, ge=0)
    webhook_allow_private_targets: bool = Field(
        default=False, description="allow private and loopback callback addresses (local stacks, tests)"
    )
    webhook_concurrency: int = Field(default=20, ge=1, le=1000)
    webhook_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    import_batch_size: int = Field(
        default=1000, ge=1, le=10_000, description="rows of a lead file written per transaction"
    )
    import_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="a lead import whose worker is silent this long is taken over",
    )
    import_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    import_max_line_bytes: int = Field(
        default=65_536, ge=1024, le=1_048_576, description="longer lines of a lead file are refused"
    )

    campaign_round_seconds: float = Field(
        default=0.2, gt=0, le=10, description="how often the campaign runner looks for leads to dial"
    )
    campaign_abandon_pause_ratio: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="a campaign pauses once its 30-day abandon rate reaches this share of its limit",
    )
    campaign_callback_delay_seconds: int = Field(
        default=3600, ge=0, description="when a lead asked for a callback without a time"
    )

    @field_validator("calling_hours_exempt_prefixes", mode="before")
    @classmethod
    def _prefix_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("calling_hours_exempt_prefixes")
    @classmethod
    def _prefixes_are_e164(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not E164_PREFIX.match(prefix):
                raise ValueError(f"{prefix!r} is not an E.164 prefix ('+' and 1 to 15 digits)")
        return value

    def webhook_config(self) -> WebhookConfig:
        return WebhookConfig(
            signing_secret=self.webhook_signing_secret.get_secret_value(),
            timeout_seconds=self.webhook_timeout_seconds,
            max_attempts=self.webhook_max_attempts,
            backoff_base_seconds=self.webhook_backoff_base_seconds,
            backoff_cap_seconds=self.webhook_backoff_cap_seconds,
            allow_private_targets=self.webhook_allow_private_targets,
            concurrency=self.webhook_concurrency,
            poll_interval_seconds=self.webhook_poll_interval_seconds,
        )

    @model_validator(mode="after")
    def _sane_limits(self) -> Settings:
        if self.calling_hours_start >= self.calling_hours_end:
            raise ValueError("calling_hours_start must be before calling_hours_end")
        if self.webhook_backoff_cap_seconds < self.webhook_backoff_base_seconds:
            raise ValueError("webhook_backoff_cap_seconds is below webhook_backoff_base_seconds")
        if self.default_ring_timeout_seconds < self.min_ring_timeout_seconds:
            raise ValueError("default_ring_timeout_seconds is below min_ring_timeout_seconds")
        return self
