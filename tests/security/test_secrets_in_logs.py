"""Nothing secret in the logs of a full run: the four services run as real processes (as ``make up`` runs
them) at DEBUG with JSON lines, on the real Asterisk, and are used through the gateway as a user and a
partner would — logins right and wrong, forged tokens, an API key, a partner transfer, calls with signed
status callbacks, an agent call. Then every service's log is searched for each credential that run used."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from service_processes import SERVICES, running_services
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ai_agent.testing import seed_default_profile
from dialer.webhooks.testing import Receiver, serving_receiver
from dialplane.db import SessionFactory, create_session_factory
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import truncate_all
from gateway.testing import add_user, bearer

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]

# Distinctive values, so that finding one in a log cannot be a coincidence.
PASSWORD = "Quokka-Tangerine-5521-secret"
WRONG_PASSWORD = "Wombat-Lavender-8830-wrong"
JWT_SECRET = "jwt-Zx81-Nebula-4Qm7-Harrow-0c2e-Fjord-91aa"
INTERNAL_TOKEN = "internal-Vq3-Marmot-7Kd2-Osprey-55e1"
WEBHOOK_SECRET = "whsec-Pq9-Heron-3Lb8-Cobalt-1f7d"

FINAL = ("completed", "busy", "no_answer", "failed", "canceled")
ANSWERS = "+12025550100"  # the test carrier: answers, 3 s of silence, hangs up
BUSY = "+12025550101"
PARTNER_PHONES = ("+12025550177", "+12025550178")  # leads only: never dialled
LEAD = {"name": "Jane Doe", "email": "jane.doe@example.com", "timezone": "America/New_York"}


@dataclass
class Run:
    """What a run used and what the services logged, by service name."""

    logs: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)

    def records(self, service: str) -> list[dict[str, Any]]:
        """The service's log lines, parsed; a line that is not a JSON log record (a traceback, a native
        library's print) has the level ``unstructured``."""
        return [parse_line(line) for line in self.logs[service].splitlines() if line.strip()]


def parse_line(line: str) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        record = json.loads(line)
        if isinstance(record, dict) and {"level", "event"} <= record.keys():
            return record
    return {"level": "unstructured", "event": line}


def b64url(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def unsigned_token(subject: str) -> str:
    """A JWT with ``alg: none`` and no signature, claiming to be ``subject`` with every scope."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": subject, "scope": "admin", "exp": 4_102_444_800}).encode())
    return f"{header}.{claims}."


def ari_credential_forms(asterisk: AsteriskInfo) -> dict[str, str]:
    """How the ARI credentials would look if leaked. The local Asterisk's user and password are both
    ``dialplane`` (asterisk/conf/ari.conf), a word in every logger name and path, so the password alone
    cannot be searched for: the forms a leak would take can — ``user:password`` (the WebSocket's
    ``api_key`` query and a URL's userinfo), the Basic-auth header value, and ``api_key=`` (the bridge
    sends a header instead, so no URL of ours should carry one)."""
    pair = f"{asterisk.username}:{asterisk.password}"
    forms = {
        "ARI user:password": pair,
        "ARI Basic-auth value": base64.b64encode(pair.encode()).decode().rstrip("="),
        "ARI api_key query": "api_key=",
    }
    if asterisk.password != asterisk.username:  # distinctive enough to be searched for alone
        forms["ARI password"] = asterisk.password
    return forms


def database_credential_forms(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    return {} if not url.password else {"database user:password": f"{url.username}:{url.password}@"}


PASSWORD_SETTING = re.compile(r"""password["']?\s*[:=]\s*["']?(?!\*)[^\s"',}]+""", re.IGNORECASE)
"""``password=…`` / ``"password": "…"`` with a value (a masked ``***`` is fine)."""


async def finished(client: httpx.AsyncClient, auth: dict[str, str], call_id: str) -> dict[str, Any]:
    async with asyncio.timeout(45):
        while True:
            answer = await client.get(f"/api/v1/calls/{call_id}", headers=auth)
            assert answer.status_code == 200, answer.text
            call: dict[str, Any] = answer.json()
            if call["status"] in FINAL:
                return call
            await asyncio.sleep(0.3)


async def place(client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> str:
    answer = await client.post("/api/v1/calls", headers=auth, json=body)
    assert answer.status_code == 201, answer.text
    call_id: str = answer.json()["id"]
    return call_id


async def log_in_every_way(client: httpx.AsyncClient, sessions: SessionFactory, run: Run) -> dict[str, str]:
    """A login, refused logins and forged tokens; the user's Authorization header."""
    await add_user(sessions, "auditor", PASSWORD, ["admin"])
    refused = await client.post("/api/v1/token", data={"username": "auditor", "password": WRONG_PASSWORD})
    unknown = await client.post("/api/v1/token", data={"username": "nobody", "password": PASSWORD})
    assert refused.status_code == unknown.status_code == 401
    answer = await client.post("/api/v1/token", data={"username": "auditor", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    forged = unsigned_token("auditor")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, tampered):
        assert (await client.get("/api/v1/me", headers=bearer(bad))).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    run.secrets |= {
        "access token": token,
        "access token signature": token.rsplit(".", 1)[1],
        "alg-none token": forged,
        "tampered token signature": tampered.rsplit(".", 1)[1],
    }
    return bearer(token)


async def use_an_api_key(client: httpx.AsyncClient, auth: dict[str, str], run: Run) -> dict[str, str]:
    """An API key created, used for a partner transfer, and guessed wrong; its X-API-Key header."""
    scopes = ["leads:write", "leads:read", "calls:write", "calls:read"]
    created = await client.post("/api/v1/api-keys", headers=auth, json={"name": "partner", "scopes": scopes})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    headers = {"X-API-Key": key}
    leads = [{"phone": phone, "name": "Lead Person"} for phone in PARTNER_PHONES]
    transfer = await client.post("/api/v1/leads/partner-transfer", headers=headers, json={"leads": leads})
    assert transfer.status_code == 200 and transfer.json()["created"] == 2, transfer.text
    wrong = key[:-6] + "zzzzzz"
    assert (await client.get("/api/v1/me", headers={"X-API-Key": wrong})).status_code == 401
    run.secrets |= {
        "API key": key,
        "API key secret": key.split("_", 2)[2],
        "wrong API key secret": wrong[21:],
    }
    run.numbers |= set(PARTNER_PHONES)
    return headers


async def place_calls(
    client: httpx.AsyncClient, auth: dict[str, str], key: dict[str, str], receiver: Receiver, run: Run
) -> None:
    """An answered call with a status callback (by the user), a busy one (by the API key) and one with
    the lead's details; calls are agent calls by default, so the AI agent joins each answered one."""
    callback = receiver.answer("status")
    answered = await place(client, auth, {"to": ANSWERS, "status_callback": callback})
    busy = await place(client, key, {"to": BUSY, "timeout": 15})
    with_lead = await place(client, auth, {"to": ANSWERS, "agent": {"lead": LEAD}})
    calls = [await finished(client, auth, call_id) for call_id in (answered, busy, with_lead)]
    assert [call["status"] for call in calls] == ["completed", "busy", "completed"], calls
    deliveries = await receiver.wait_for(4, "status", within=15)
    assert all(delivery.signature_valid for delivery in deliveries)
    run.numbers |= {ANSWERS, BUSY}


def overrides() -> dict[str, dict[str, str]]:
    common = {"INTERNAL_TOKEN": INTERNAL_TOKEN, "LOG_JSON": "true"}
    return {
        "gateway": common | {"JWT_SECRET": JWT_SECRET},
        "dialer": common
        | {
            "WEBHOOK_SIGNING_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the receiver is on 127.0.0.1
            "WEBHOOK_BACKOFF_BASE_SECONDS": "0.05",
            "WEBHOOK_POLL_INTERVAL_SECONDS": "0.2",
        },
        "ari-bridge": dict(common),
        "ai-agent": dict(common),
    }


@pytest_asyncio.fixture(scope="module")
async def run(
    database_url: str,
    asterisk: AsteriskInfo,
    db_engine: AsyncEngine,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Run]:
    """One full run; the logs are read once every service has stopped (and flushed)."""
    log_dir = tmp_path_factory.mktemp("logs")
    sessions = create_session_factory(db_engine)
    result = Run(logs={})
    try:
        await seed_default_profile(sessions)
        async with (
            running_services(
                database_url, asterisk, log_dir, log_level="DEBUG", overrides=overrides()
            ) as services,
            httpx.AsyncClient(base_url=services["gateway"].url, timeout=30) as client,
            serving_receiver(WEBHOOK_SECRET) as receiver,
        ):
            auth = await log_in_every_way(client, sessions, result)
            key = await use_an_api_key(client, auth, result)
            await place_calls(client, auth, key, receiver, result)
        result.logs = read_logs(log_dir)
        yield result
    finally:
        await truncate_all(db_engine)


def read_logs(log_dir: Path) -> dict[str, str]:
    return {service.name: (log_dir / f"{service.name}.log").read_text() for service in SERVICES}


def configured_secrets(asterisk: AsteriskInfo, database_url: str) -> dict[str, str]:
    return {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "JWT secret": JWT_SECRET,
        "internal token": INTERNAL_TOKEN,
        "webhook signing secret": WEBHOOK_SECRET,
        **ari_credential_forms(asterisk),
        **database_credential_forms(database_url),
    }


EXPECTED_EVENTS = {
    "gateway": {"login", "login_refused", "authentication_refused", "api_key_created"},
    "dialer": {"partner_transfer", "call_queued", "call_status", "webhook_delivered"},
    "ari-bridge": {"ari_socket_connected", "call_status", "media_agent_connected"},
    "ai-agent": {"conversation_turn", "conversation_ended"},
}
"""What each service logs of this run: proof that its log holds the run, not just start-up lines."""


def test_every_service_logged_the_run(run: Run) -> None:
    """The logs are worth searching, so the tests below cannot pass on empty or cut logs: each service
    wrote JSON lines about the logins, keys, leads, calls, callbacks and conversations of the run, lines
    of requests carry their request id, and DEBUG was in effect (only the gateway's and the ai-agent's
    libraries log at DEBUG in such a run: the dialer and the bridge have almost no debug lines)."""
    for service, expected in EXPECTED_EVENTS.items():
        events = {record["event"] for record in run.records(service)}
        assert expected <= events, f"{service} did not log {expected - events}"
    for service in ("gateway", "dialer"):
        with_request_id = [record for record in run.records(service) if "request_id" in record]
        assert len(with_request_id) >= 3, f"{service} logged no lines of requests"
    levels = {record["level"] for service in run.logs for record in run.records(service)}
    assert "debug" in levels


def test_no_credential_is_in_any_service_log(run: Run, asterisk: AsteriskInfo, database_url: str) -> None:
    """Passwords (right and wrong), tokens (whole, signatures, forged), the API key and its secret, the
    JWT, internal and webhook secrets and the ARI and database credentials appear in no service's log."""
    secrets = configured_secrets(asterisk, database_url) | run.secrets
    leaks = [
        f"the {what} is in the {service} log"
        for service, text in run.logs.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    leaks += [
        f"the {service} log has {match[0]!r}"
        for service, text in run.logs.items()
        for match in PASSWORD_SETTING.finditer(text)
    ]
    assert leaks == []


def test_no_full_phone_number_is_in_an_info_line(run: Run) -> None:
    """Info lines and above show phone numbers masked (``+1*******00``), never whole: the style's promise
    for every service (docs: ``mask_number``)."""
    digits = {number.lstrip("+") for number in run.numbers}
    found = [
        f"{service} {record['level']} {record['event']}: {number}"
        for service in run.logs
        for record in run.records(service)
        if record["level"] != "debug"
        for number in digits
        if number in json.dumps(record)
    ]
    assert found == []
