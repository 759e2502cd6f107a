"""Refused credentials, before they become a 401 (the dependencies add the ``WWW-Authenticate`` challenge)."""

from __future__ import annotations


class InvalidCredentialsError(Exception):
    """Credentials that must be refused; ``reason`` is a short stable label (also a metric label), ``detail``
    says what is wrong for the client and never contains a secret."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
