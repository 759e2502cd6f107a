"""Settings of the ari-bridge service (environment prefix ``ARI_BRIDGE_``, then ``DIALPLANE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from dialplane.settings import ServiceSettings


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "ARI_BRIDGE_"
    service_name: ClassVar[str] = "ari-bridge"
    default_port: ClassVar[int] = 8002

    ari_url: str = Field(default="http://127.0.0.1:8088/ari", description="ARI base URL of the node")
    ari_username: str = "dialplane"
    ari_password: SecretStr = SecretStr("dialplane")
    ari_app: str = "dialplane"
    ari_timeout_seconds: float = Field(default=5.0, gt=0)
