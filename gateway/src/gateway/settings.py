"""Settings of the gateway service (environment prefix ``GATEWAY_``, then ``DIALPLANE_``)."""

from __future__ import annotations

from typing import ClassVar

from dialplane.settings import ServiceSettings


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "GATEWAY_"
    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000
