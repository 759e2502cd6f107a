"""``dialplane users …``: run in-process (in a thread: the command runs its own event loop) against the test
database, checking what it prints, its exit code and what it stored."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dialplane import cli
from dialplane.db import SessionFactory, transaction
from dialplane.internal_auth import SCOPES
from gateway.auth.passwords import verify_password
from gateway.testing import bearer, login
from gateway.users import repository
from gateway.users.repository import User


@pytest.fixture(autouse=True)
def _database(monkeypatch: pytest.MonkeyPatch, database_url: str, sessions: SessionFactory) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", database_url)


async def run(*argv: str) -> int:
    return await asyncio.to_thread(cli.main, list(argv))


async def stored(sessions: SessionFactory, name: str) -> User | None:
    async with transaction(sessions) as session:
        return await repository.get_by_name(session, name)


async def test_create_without_scopes_grants_every_scope(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "create", "alice", "--password", "s3cret-pass") == 0
    assert "created user alice" in capsys.readouterr().out
    user = await stored(sessions, "ALICE")
    assert user is not None
    assert set(user.scopes) == set(SCOPES)
    assert verify_password("s3cret-pass", user.password_hash)


async def test_create_with_scopes_then_log_in_with_them(
    sessions: SessionFactory, client: httpx.AsyncClient
) -> None:
    argv = (
        "users",
        "create",
        "bob",
        "--password",
        "pw-of-bob",
        "--scope",
        "calls:read",
        "--scope",
        "leads:read",
    )
    assert await run(*argv) == 0
    token = await login(client, "bob", "pw-of-bob")
    assert (await client.get("/api/v1/me", headers=bearer(token))).json()["scopes"] == [
        "calls:read",
        "leads:read",
    ]


async def test_an_unknown_scope_is_refused_with_exit_2(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "create", "alice", "--password", "pw", "--scope", "calls:dial") == 2
    err = capsys.readouterr().err
    assert "unknown scope 'calls:dial'" in err
    assert "calls:read" in err  # the known scopes are listed
    assert await stored(sessions, "alice") is None


@pytest.mark.parametrize(
    ("password", "message"), [("", "must not be empty"), ("é" * 40, "longer than 72 bytes")]
)
async def test_unusable_passwords_are_refused_with_exit_2(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str], password: str, message: str
) -> None:
    assert await run("users", "create", "alice", "--password", password) == 2
    assert message in capsys.readouterr().err
    assert await stored(sessions, "alice") is None


async def test_a_taken_name_is_exit_1_whatever_its_case(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "create", "alice", "--password", "pw") == 0
    assert await run("users", "create", "Alice", "--password", "pw") == 1
    assert "a user named 'Alice' exists already" in capsys.readouterr().err


async def test_an_invalid_name_is_exit_2(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "create", "al ice", "--password", "pw") == 2
    assert "invalid user name" in capsys.readouterr().err


async def test_list_shows_users_without_hashes(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "list") == 0
    assert capsys.readouterr().out.strip() == "no users"
    await run("users", "create", "bob", "--password", "pw-of-bob", "--scope", "calls:read")
    await run("users", "create", "alice", "--password", "pw-of-alice", "--scope", "admin")
    await run("users", "disable", "bob")
    capsys.readouterr()
    assert await run("users", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "SCOPES", "DISABLED", "CREATED"]
    assert lines[1].split()[:3] == ["alice", "admin", "no"]
    assert lines[2].split()[:3] == ["bob", "calls:read", "yes"]
    assert "$2b$" not in "\n".join(lines)
    assert "pw-of" not in "\n".join(lines)


async def test_disable(sessions: SessionFactory, capsys: pytest.CaptureFixture[str]) -> None:
    await run("users", "create", "alice", "--password", "pw")
    assert await run("users", "disable", "alice") == 0
    assert "disabled user alice" in capsys.readouterr().out
    user = await stored(sessions, "alice")
    assert user is not None and user.disabled
    assert await run("users", "disable", "nobody") == 1
    assert "no user named 'nobody'" in capsys.readouterr().err


async def test_set_password_with_the_option(
    sessions: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    await run("users", "create", "alice", "--password", "old-pass")
    before = await stored(sessions, "alice")
    assert await run("users", "set-password", "alice", "--password", "new-pass") == 0
    after = await stored(sessions, "alice")
    assert before is not None and after is not None
    assert verify_password("new-pass", after.password_hash)
    assert not verify_password("old-pass", after.password_hash)
    assert after.password_changed_at > before.password_changed_at
    assert await run("users", "set-password", "nobody", "--password", "x") == 1


async def test_set_password_prompts_when_the_option_is_left_out(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await run("users", "create", "alice", "--password", "old-pass")
    answers = iter(["typed-pass", "typed-pass", "one", "other"])
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert await run("users", "set-password", "alice") == 0
    user = await stored(sessions, "alice")
    assert user is not None and verify_password("typed-pass", user.password_hash)
    assert prompts == ["Password: ", "Repeat the password: "]
    assert await run("users", "set-password", "alice") == 2
    assert "the two passwords differ" in capsys.readouterr().err


async def test_an_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/nothing")
    monkeypatch.setenv("GATEWAY_DATABASE_CONNECT_TIMEOUT_SECONDS", "2")
    assert await run("users", "list") == 1
    assert "error: the database is not usable" in capsys.readouterr().err
