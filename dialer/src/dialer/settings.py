"""Settings of the dialer service (environment prefix ``DIALER_``, then ``DIALPLANE_``)."""

from __future__ import annotations

from typing import ClassVar

from dialplane.settings import ServiceSettings


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "DIALER_"
    service_name: ClassVar[str] = "dialer"
    default_port: ClassVar[int] = 8001
