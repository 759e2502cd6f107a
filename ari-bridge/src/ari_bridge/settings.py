"""Settings of the ari-bridge service (environment prefix ``ARI_BRIDGE_``, then ``DIALPLANE_``).

Nodes and trunks are JSON lists, e.g.::

    ARI_BRIDGE_NODES='[{"name": "pbx1", "ari_url": "http://10.0.0.5:8088/ari", "password": "...",
                        "entity_id": "02:00:00:00:00:01"}]'
    ARI_BRIDGE_TRUNKS='[{"name": "provider", "dial_string": "PJSIP/{number}@provider",
                         "max_concurrent": 30, "max_cps": 5}]'
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from dialplane.settings import ServiceSettings


class NodeConfig(BaseModel):
    """An Asterisk node: where its ARI answers, as whom, and how many channels it may carry."""

    name: str = Field(default="local", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    ari_url: str = "http://127.0.0.1:8088/ari"
    username: str = "dialplane"
    password: SecretStr = SecretStr("dialplane")
    app: str = "dialplane"
    entity_id: str | None = Field(default=None, description="expected asterisk_id; checked on connect")
    max_channels: int = Field(default=1000, ge=1)


class TrunkConfig(BaseModel):
    """A way out to the telephone network: a dial string template and its limits."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    dial_string: str = Field(description="channel endpoint with {number}, e.g. PJSIP/{number}@provider")
    max_concurrent: int = Field(default=100, ge=1)
    max_cps: float = Field(default=10.0, gt=0, description="new calls per second")

    @field_validator("dial_string")
    @classmethod
    def _has_number(cls, value: str) -> str:
        if "{number}" not in value or "/" not in value:
            raise ValueError("dial_string must look like TECH/...{number}... (e.g. PJSIP/{number}@provider)")
        return value

    def endpoint(self, number: str) -> str:
        return self.dial_string.replace("{number}", number)


TEST_CARRIER = TrunkConfig(
    name="test-carrier", dial_string="Local/{number}@test-carrier", max_concurrent=1000, max_cps=200
)


class Settings(ServiceSettings):
    service_prefix: ClassVar[str] = "ARI_BRIDGE_"
    service_name: ClassVar[str] = "ari-bridge"
    default_port: ClassVar[int] = 8002

    nodes: list[NodeConfig] = Field(default_factory=lambda: [NodeConfig()], min_length=1)
    trunks: list[TrunkConfig] = Field(default_factory=lambda: [TEST_CARRIER], min_length=1)
    default_trunk: str = "test-carrier"
    default_ring_timeout_seconds: int = Field(default=30, ge=1, le=600)
    ari_timeout_seconds: float = Field(default=5.0, gt=0)
    node_lease_seconds: float = Field(
        default=6.0,
        ge=1,
        le=60,
        description="a bridge's lease on a node lasts this long after its last renewal; a bridge that dies"
        " leaves its nodes to the others after at most this plus node_lease_renew_seconds",
    )
    node_lease_renew_seconds: float = Field(default=2.0, gt=0, description="leases renewed this often")
    # longer than a brief network fault, after which live calls are re-adopted (tests/faults)
    node_lost_after_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a node unreachable this long is lost: its calls end as failed (it takes calls again"
        " once it is back)",
    )
    # Command handlers share the event loop and the database pool with ARI event handling: fewer at once keeps
    # the event lag short during a burst of originates (p99 ~0.3 s at 16, ~2.5 s at 50) but hangs up 1,000
    # calls 2-4x slower (latency-bound); 200 delayed events ~0.7 s at p50 (bench/README.md).
    worker_concurrency: int = Field(default=50, ge=1, description="originate/hangup commands at once")
    duration_check_interval_seconds: float = Field(default=1.0, gt=0)
    abandon_after_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="a person-answered agent call whose AI agent has not connected this long after the answer"
        " (after AMD: the verdict) hears the identification message and ends as abandoned",
    )
    abandon_context: str = Field(
        default="dialplane-abandoned",
        pattern=r"^[A-Za-z0-9_-]{1,80}$",
        description="dialplan context (extension s) that plays the identification message and hangs up",
    )
    agent_connect_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="an agent call answered by a machine whose AI agent has not connected by then is hung up",
    )
    capacity_report_interval_seconds: float = Field(
        default=2.0, gt=0, le=5, description="how often the trunks' capacity reports are refreshed"
    )

    @model_validator(mode="after")
    def _leases_renewed_in_time(self) -> Self:
        if self.node_lease_renew_seconds * 2 > self.node_lease_seconds:
            raise ValueError("node_lease_renew_seconds must be at most half of node_lease_seconds")
        return self

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> Self:
        for kind, names in (("node", [n.name for n in self.nodes]), ("trunk", [t.name for t in self.trunks])):
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique: {names}")
        if self.default_trunk not in {t.name for t in self.trunks}:
            raise ValueError(f"default_trunk {self.default_trunk!r} is not one of the configured trunks")
        return self

    def trunk(self, name: str | None) -> TrunkConfig | None:
        wanted = name or self.default_trunk
        return next((t for t in self.trunks if t.name == wanted), None)
