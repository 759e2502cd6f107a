"""Settings of the ai-agent service (environment prefix ``AI_AGENT_``, then ``DIALPLANE_``)."""

from __future__ import annotations

from typing import ClassVar

from dialplane.settings import ServiceSettings


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "AI_AGENT_"
    service_name: ClassVar[str] = "ai-agent"
    default_port: ClassVar[int] = 8003
