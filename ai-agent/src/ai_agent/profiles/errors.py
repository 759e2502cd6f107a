"""Errors of the ai-agent's API that name a request field, shaped like the shared validation errors."""

from __future__ import annotations

from dialplane.errors import NotFound, ValidationFailed


def invalid_field(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    """A 422 problem naming ``field`` (a dotted path), as the shared handler renders validation errors."""
    return ValidationFailed(
        f"Invalid request: {field}",
        extra={"errors": [{"field": field, "message": message, "type": kind}]},
    )


def profile_not_found(name: str) -> NotFound:
    return NotFound(f"no agent profile named {name!r}", code="profile_not_found")
