"""Gateway settings: defaults, the GATEWAY_ prefix, and secrets refused outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALPLANE_ENVIRONMENT", raising=False)
    settings = Settings()
    assert settings.jwt_algorithm == "HS256"
    assert (settings.jwt_issuer, settings.jwt_audience) == (None, None)
    assert settings.access_token_ttl_seconds == 3600
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.jwt_secret.get_secret_value() == "change-me"


def test_the_gateway_prefix_wins_over_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALPLANE_USER_RATE_LIMIT_PER_MINUTE", "5")
    monkeypatch.setenv("GATEWAY_USER_RATE_LIMIT_PER_MINUTE", "7")
    monkeypatch.setenv("DIALPLANE_JWT_AUDIENCE", "dialplane-api")
    settings = Settings()
    assert (settings.user_rate_limit_per_minute, settings.jwt_audience) == (7, "dialplane-api")


def test_the_placeholder_jwt_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALPLANE_ENVIRONMENT", "production")
    monkeypatch.setenv("DIALPLANE_INTERNAL_TOKEN", "a-real-internal-token-value-1234")
    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET or DIALPLANE_JWT_SECRET"):
        Settings()


def test_a_short_jwt_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALPLANE_ENVIRONMENT", "production")
    monkeypatch.setenv("DIALPLANE_INTERNAL_TOKEN", "a-real-internal-token-value-1234")
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "short-but-not-a-placeholder")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "x" * 32)
    assert Settings().jwt_secret.get_secret_value() == "x" * 32


def test_only_hmac_algorithms_are_accepted() -> None:
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        Settings(jwt_algorithm="none")
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        Settings(jwt_algorithm="RS256")
