"""Scopes: which are known (:data:`dialplane.internal_auth.SCOPES`), and what holding ``admin`` means."""

from __future__ import annotations

from collections.abc import Iterable

from dialplane.errors import ValidationFailed
from dialplane.internal_auth import SCOPES

ADMIN = "admin"


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes) - set(SCOPES))


def checked_scopes(scopes: Iterable[str] | None) -> list[str]:
    """The scopes sorted and without duplicates; every known scope when ``None``; unknown ones refused."""
    if scopes is None:
        return list(SCOPES)
    unknown = unknown_scopes(scopes)
    if unknown:
        raise ValidationFailed(
            f"unknown scope {', '.join(map(repr, unknown))}; known scopes: {', '.join(SCOPES)}",
            code="unknown_scope",
        )
    return sorted(set(scopes))


def holds(held: Iterable[str], scope: str) -> bool:
    """Whether scopes ``held`` grant ``scope`` (``admin`` grants every scope)."""
    held = frozenset(held)
    return scope in held or ADMIN in held


def still_held(asked: Iterable[str], held: Iterable[str]) -> frozenset[str]:
    """The scopes of ``asked`` that ``held`` still grants (a token's scopes against its user's today)."""
    held = frozenset(held)
    return frozenset(scope for scope in asked if holds(held, scope))
