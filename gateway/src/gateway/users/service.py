"""Managing the gateway's users: names, scopes and passwords are checked here, hashing runs in a thread.

Errors are :mod:`dialplane.errors` ones, so the CLI and HTTP routes report them the same way:
:class:`ValidationFailed` (bad name, scope or password), :class:`Conflict` (the name is taken) and
:class:`NotFound` (no such user).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.errors import Conflict, NotFound, ValidationFailed
from gateway.auth.passwords import DEFAULT_COST, check_password, hash_password
from gateway.auth.scopes import checked_scopes
from gateway.users import repository
from gateway.users.repository import User

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ValidationFailed(
            f"invalid user name {name!r}: 1 to 100 letters, digits or . _ @ + -, starting with a letter or"
            " digit",
            code="invalid_name",
        )


async def create_user(
    session: AsyncSession,
    name: str,
    password: str,
    scopes: Iterable[str] | None = None,
    *,
    cost: int = DEFAULT_COST,
) -> User:
    check_name(name)
    chosen = checked_scopes(scopes)
    check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password, cost)
    user = await repository.insert(session, name, password_hash, chosen)
    if user is None:
        raise Conflict(f"a user named {name!r} exists already", code="user_exists")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return await repository.list_all(session)


async def disable_user(session: AsyncSession, name: str) -> User:
    return _found(await repository.set_disabled(session, name, True), name)


async def set_password(session: AsyncSession, name: str, password: str, *, cost: int = DEFAULT_COST) -> User:
    check_password(password)
    if await repository.get_by_name(session, name) is None:
        raise _no_such_user(name)
    password_hash = await asyncio.to_thread(hash_password, password, cost)
    return _found(await repository.set_password_hash(session, name, password_hash), name)


def _found(user: User | None, name: str) -> User:
    if user is None:
        raise _no_such_user(name)
    return user


def _no_such_user(name: str) -> NotFound:
    return NotFound(f"no user named {name!r}", code="no_such_user")
