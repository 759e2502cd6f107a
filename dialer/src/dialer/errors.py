"""Errors of the dialer that name a request field, shaped like the shared validation errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dialplane.errors import ValidationFailed


def invalid_field(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    """A 422 problem naming ``field`` (a dotted path), as the shared handler renders validation errors."""
    return ValidationFailed(
        f"Invalid request: {field}",
        extra={"errors": [{"field": field, "message": message, "type": kind}]},
    )


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise the block's field errors with the fields renamed (for routes whose body names them
    differently from the service they call)."""
    try:
        yield
    except ValidationFailed as exc:
        errors: list[dict[str, Any]] = exc.extra.get("errors", [])
        for error in errors:
            error["field"] = names.get(error["field"], error["field"])
        if errors:
            exc.detail = f"Invalid request: {', '.join(sorted({e['field'] for e in errors}))}"
        raise
