"""``dialplane users …``: managing the gateway's users from the command line.

The database comes from the gateway settings (``GATEWAY_DATABASE_URL``, then ``DIALPLANE_DATABASE_URL``).
Exit codes: 0 done, 1 no such user, the name is taken or no usable database, 2 invalid input (name, scope,
password).
A password left out is asked for (twice) without echo; one given with ``--password`` is visible to other
local users and kept in the shell history.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import create_engine, create_session_factory, transaction
from dialplane.errors import DialplaneError, ValidationFailed
from dialplane.internal_auth import SCOPES
from gateway.settings import Settings
from gateway.users import service
from gateway.users.repository import User

T = TypeVar("T")
Handler = Callable[[argparse.Namespace], int]


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("users", help="gateway users (who may log in)")
    users = parser.add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="add a user (every scope unless --scope is given)")
    create.add_argument("name")
    _password_option(create)
    create.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        metavar="SCOPE",
        help=f"a scope to grant (repeatable); one of: {', '.join(SCOPES)}",
    )
    create.set_defaults(handler=_create)
    users.add_parser("list", help="list users (no password hashes)").set_defaults(handler=_list)
    disable = users.add_parser("disable", help="stop a user from logging in; its tokens stop working")
    disable.add_argument("name")
    disable.set_defaults(handler=_disable)
    set_password = users.add_parser("set-password", help="change a password; earlier tokens stop working")
    set_password.add_argument("name")
    _password_option(set_password)
    set_password.set_defaults(handler=_set_password)


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", help="the password (asked for without echo when left out)")


def _create(args: argparse.Namespace) -> int:
    def work(session: AsyncSession) -> Awaitable[User]:
        return service.create_user(session, args.name, _password(args), args.scopes)

    return _report(work, lambda user: f"created user {user.name} with scopes {' '.join(user.scopes)}")


def _list(_args: argparse.Namespace) -> int:
    return _report(service.list_users, _table)


def _disable(args: argparse.Namespace) -> int:
    def work(session: AsyncSession) -> Awaitable[User]:
        return service.disable_user(session, args.name)

    return _report(work, lambda user: f"disabled user {user.name}; its tokens no longer work")


def _set_password(args: argparse.Namespace) -> int:
    def work(session: AsyncSession) -> Awaitable[User]:
        return service.set_password(session, args.name, _password(args))

    return _report(work, lambda user: f"changed the password of {user.name}; earlier tokens no longer work")


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise ValidationFailed("the two passwords differ", code="password_mismatch")
    return first


def _report(work: Callable[[AsyncSession], Awaitable[T]], describe: Callable[[T], str]) -> int:
    """Run ``work`` in a transaction; print what it did, or the error (exit 2 for bad input, else 1)."""
    try:
        result = asyncio.run(_in_transaction(work))
    except DialplaneError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2 if isinstance(exc, ValidationFailed) else 1
    except (OSError, SQLAlchemyError) as exc:
        hint = "is it reachable, and migrated with `dialplane db upgrade`?"
        print(f"error: the database is not usable ({hint}): {exc}", file=sys.stderr)
        return 1
    print(describe(result))
    return 0


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(Settings(), pool_size=1, max_overflow=0)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _table(users: list[User]) -> str:
    if not users:
        return "no users"
    rows = [("NAME", "SCOPES", "DISABLED", "CREATED"), *(_row(user) for user in users)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _row(user: User) -> tuple[str, str, str, str]:
    created = user.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (user.name, " ".join(user.scopes), "yes" if user.disabled else "no", created)
