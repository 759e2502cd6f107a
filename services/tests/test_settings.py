"""Settings: the shared and per-service environment prefixes, placeholder secrets, database URLs."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import ValidationError

from dialplane.settings import ServiceSettings


class DialerLikeSettings(ServiceSettings):
    service_prefix: ClassVar[str] = "DIALER_"


def test_the_service_prefix_overrides_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALPLANE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DIALPLANE_PORT", "9100")
    monkeypatch.setenv("DIALER_PORT", "9101")
    settings = DialerLikeSettings()
    assert (settings.log_level, settings.port) == ("WARNING", 9101)
    assert ServiceSettings().port == 9100


def test_placeholder_secrets_are_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALPLANE_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="DIALER_INTERNAL_TOKEN or DIALPLANE_INTERNAL_TOKEN"):
        DialerLikeSettings()
    monkeypatch.setenv("DIALER_INTERNAL_TOKEN", "a-real-secret-value-1234")
    assert DialerLikeSettings().internal_token.get_secret_value() == "a-real-secret-value-1234"


def test_placeholder_secrets_are_accepted_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALPLANE_ENVIRONMENT", raising=False)
    assert ServiceSettings().environment == "development"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ],
)
def test_database_urls_are_normalised_to_asyncpg(given: str, expected: str) -> None:
    assert ServiceSettings(database_url=given).database_url == expected


def test_a_non_postgres_database_url_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="must be a PostgreSQL URL"):
        ServiceSettings(database_url="mysql://u:p@h/db")


def test_public_settings_hide_secrets_and_the_database_password() -> None:
    public = ServiceSettings(database_url="postgresql://u:hunter2@h/db").public_dict()
    assert "hunter2" not in str(public)
    assert public["internal_token"] == "**********"
