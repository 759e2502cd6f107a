"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` and sets ``service_prefix`` (``GATEWAY_``, ``DIALER_``,
``ARI_BRIDGE_``, ``AI_AGENT_``). A value is looked up, highest priority first, in: constructor arguments,
``<SERVICE>_<NAME>``, ``DIALPLANE_<NAME>``, the ``.env`` file (same two prefixes), then the default.
So ``DIALPLANE_DATABASE_URL`` configures every service and ``DIALER_DATABASE_URL`` only the dialer.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

Environment = Literal["development", "test", "production"]

SHARED_PREFIX = "DIALPLANE_"
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev-secret", "dialplane"})


class PlaceholderSecretError(ValueError):
    """A secret still has its development placeholder outside development."""


class ServiceSettings(BaseSettings):
    """Settings every Dialplane service has."""

    model_config = SettingsConfigDict(
        env_prefix=SHARED_PREFIX, env_file=".env", extra="ignore", validate_default=True
    )
    service_prefix: ClassVar[str] = SHARED_PREFIX
    service_name: ClassVar[str] = "dialplane"
    default_port: ClassVar[int] = 8000

    environment: Environment = "development"
    database_url: str = "postgresql+asyncpg://dialplane:dialplane@127.0.0.1:5432/dialplane"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    database_command_timeout_seconds: float = Field(default=10.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 means the service's default port")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    metrics_enabled: bool = True
    docs_enabled: bool = True
    event_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    event_backend: Literal["postgres", "jetstream"] = "postgres"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream_prefix: str = Field(default="dialplane", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    internal_token: SecretStr = SecretStr("change-me")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings]
        if cls.service_prefix != SHARED_PREFIX:
            sources.append(EnvSettingsSource(settings_cls, env_prefix=cls.service_prefix))
        sources.append(env_settings)
        if cls.service_prefix != SHARED_PREFIX:
            sources.append(DotEnvSettingsSource(settings_cls, env_prefix=cls.service_prefix))
        sources += [dotenv_settings, file_secret_settings]
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, value: str) -> str:
        for plain in (
            "postgresql://",
            "postgres://",
            "postgresql+psycopg://",
            "postgresql+psycopg2://",
        ):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value[len(plain) :]
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("database_url must be a PostgreSQL URL (postgresql://...)")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment == "development":
            return self
        for name, value in self.secret_fields().items():
            if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                names = dict.fromkeys(
                    (f"{self.service_prefix}{name.upper()}", f"{SHARED_PREFIX}{name.upper()}")
                )
                raise PlaceholderSecretError(
                    f"{name} has a placeholder value; set {' or '.join(names)} to a real secret"
                    f" (environment is {self.environment})"
                )
        return self

    def secret_fields(self) -> dict[str, SecretStr]:
        """Every secret setting by its path (``nodes.0.password``), nested models and lists included."""
        return dict(_secrets(self, ""))

    @property
    def listen_port(self) -> int:
        return self.port or self.default_port

    def public_dict(self) -> dict[str, Any]:
        """The settings with secrets and the database password masked, for logs and diagnostics."""
        values = self.model_dump(mode="json")
        values["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        return values


def _secrets(value: object, path: str) -> list[tuple[str, SecretStr]]:
    if isinstance(value, SecretStr):
        return [(path, value)]
    if isinstance(value, BaseModel):
        return [
            found
            for name in type(value).model_fields
            for found in _secrets(getattr(value, name), f"{path}.{name}" if path else name)
        ]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _secrets(item, f"{path}.{i}")]
    return []
