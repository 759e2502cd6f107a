"""Password hashing (bcrypt through passlib) and what a password must be.

bcrypt only reads the first 72 bytes of a password, and bcrypt 5 refuses longer ones, so they are refused
here with a clear message rather than silently truncated. Hashing takes a noticeable fraction of a second by
design: async callers run these functions in a thread.
"""

from __future__ import annotations

from functools import cache

from passlib.context import CryptContext

from dialplane.errors import ValidationFailed

MAX_PASSWORD_BYTES = 72
DEFAULT_COST = 12  # bcrypt's log2 rounds: about 0.25 s per hash or check on one core here
"""The cost of every stored hash; a check reads the cost from the hash it checks."""

_context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=DEFAULT_COST)


@cache
def _context_of_cost(cost: int) -> CryptContext:
    return CryptContext(schemes=["bcrypt"], bcrypt__rounds=cost)


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used, or ``None`` if it can."""
    if not password:
        return "the password must not be empty"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return f"the password is longer than {MAX_PASSWORD_BYTES} bytes (UTF-8), which bcrypt cannot use"
    return None


def check_password(password: str) -> None:
    """Raise :class:`ValidationFailed` for a password that cannot be stored."""
    problem = password_problem(password)
    if problem is not None:
        raise ValidationFailed(problem, code="invalid_password")


def hash_password(password: str, cost: int = DEFAULT_COST) -> str:
    """The salted bcrypt hash of ``password``; ``cost`` other than the default is for tests' users."""
    check_password(password)
    return str(_context_of_cost(cost).hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches; an unusable password never does but costs the same time."""
    if password_problem(password) is not None:
        _context.dummy_verify()
        return False
    return bool(_context.verify(password, password_hash))


def dummy_verify() -> None:
    """Spend as long as a real check, for a user that does not exist (so timing does not tell)."""
    _context.dummy_verify()
