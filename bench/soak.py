"""Soak run: mixed traffic through the gateway for a bounded time, each service's memory watched for leaks.

    uv run python bench/soak.py [--duration 600] [--max-requests N] [--rate 5] [--json PATH]

The four services run as processes on a throwaway database ``dialplane_bench_<random>`` (dropped at the end,
even on failure) and the local Asterisk, all on loopback. With the bearer token of a user added for the
run: a round of API operations at ``--rate`` per second (``/me``, calls and leads listed with a cursor, a
call and its timeline, a lead created/read/changed/deleted, the campaign, its report and leads, analytics),
``POST /api/v1/calls`` to answering test numbers at ``--call-rate``, a campaign over answering numbers at
``--campaign-rate``, and ``--subscribers`` clients reading ``GET /api/v1/events``. The traffic stops after
``--duration`` s or ``--max-requests`` requests; the run waits for the campaign and calls to end, audits the
database and exits 1 on any error or on a service whose RSS grows faster than ``--max-slope`` MiB/min over
the second half. bench/README.md says what counts as an error and what the figures mean.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dialplane.audit import audit_database
from dialplane.db import SessionFactory, create_engine, create_session_factory, redact_url, transaction
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import TEST_INTERNAL_TOKEN, scratch_database
from dialplane.testing.http import free_port
from dialplane.testing.measure import latency_ms, memory_mb
from dialplane.testing.processes import ServiceProcess, start, stop, wait_answering
from gateway.users import service as users

if TYPE_CHECKING:  # mypy reads bench/ as a package; run as a script, bench/ itself is on sys.path
    from bench.ari_origination import asterisk_for_the_run, source_state
    from bench.gateway_calls import PASSWORD, USER, token
else:
    from ari_origination import asterisk_for_the_run, source_state
    from gateway_calls import PASSWORD, USER, token

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
SERVICES = ("dialer", "ari-bridge", "ai-agent", "gateway")  # in start order: the gateway needs the others
FIRST_LEAD, LAST_ANSWERING = 12025552000, 12025553999  # the test carrier answers, 3 s of silence, hangs up
CRUD_PHONES = 12025554000  # leads that are created and deleted, never called
SCOPES = ["calls:read", "calls:write", "leads:read", "leads:write", "campaigns:read", "campaigns:write"]
SCOPES += ["analytics:read"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", ""}
HEARTBEAT_S = 2.0
MIN_SLOPE_SAMPLES = 5
_OPEN_CALLS = text("SELECT count(*) FROM calls WHERE ended_at IS NULL")
_CALL_STATUSES = text("SELECT status, count(*) FROM calls GROUP BY status")


@dataclass(frozen=True)
class Options:
    database_url: str
    ari_url: str
    ari_user: str
    ari_password: str
    duration: float
    max_requests: int
    rate: float
    call_rate: float
    in_flight: int
    subscribers: int
    leads: int | None
    campaign_rate: float
    campaign_concurrency: int
    sample_interval: float
    max_slope: float
    stall: float
    settle: float
    log_dir: Path
    json: Path | None


# --- requests and their figures ----------------------------------------------------------------------------


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Traffic:
    """Every request goes through :meth:`request`, which times it and counts what is not expected."""

    http: httpx.AsyncClient
    max_requests: int
    endpoints: defaultdict[str, Endpoint] = field(default_factory=lambda: defaultdict(Endpoint))
    failures: Counter[str] = field(default_factory=Counter)  # exceptions of operations
    sent: int = 0
    campaign_id: str = ""
    call_ids: list[str] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(LAST_ANSWERING, -1))
    phones: Iterator[int] = field(default_factory=lambda: itertools.count(CRUD_PHONES))

    @property
    def exhausted(self) -> bool:
        return self.sent >= self.max_requests

    async def request(self, name: str, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """The JSON answer, or None after counting the error under ``name`` (method and route)."""
        self.sent += 1
        started = time.perf_counter()
        try:
            answer = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.endpoints[name].errors[type(exc).__name__] += 1
            return None
        self.endpoints[name].latencies.append(time.perf_counter() - started)
        if answer.status_code != expect:
            self.endpoints[name].errors[f"{answer.status_code} {answer.text[:80]}"] += 1
            return None
        return answer.json() if answer.content else {}


Operation = Callable[[Traffic], Awaitable[None]]


def get(name: str, path: str, **params: Any) -> Operation:
    """One GET; ``{campaign}`` in the path is the soak's campaign."""

    async def run(t: Traffic) -> None:
        await t.request(name, "GET", path.format(campaign=t.campaign_id), params=params or None)

    return run


def listed(name: str, path: str) -> Operation:
    """A page of 5, then the next (older) page by its cursor; the call ids are kept for by-id reads."""

    async def run(t: Traffic) -> None:
        page = await t.request(f"GET {path}", "GET", path, params={"limit": 5})
        if page is None:
            return
        if name == "calls":
            t.call_ids[:] = list(dict.fromkeys([*t.call_ids, *(c["id"] for c in page["items"])]))[-500:]
        if page["next_cursor"]:
            params = {"limit": 5, "cursor": page["next_cursor"]}
            await t.request(f"GET {path}?cursor", "GET", path, params=params)

    return run


async def call_by_id(t: Traffic) -> None:
    if t.call_ids:
        call_id = random.choice(t.call_ids)
        await t.request("GET /api/v1/calls/{id}", "GET", f"/api/v1/calls/{call_id}")
        await t.request("GET /api/v1/calls/{id}/events", "GET", f"/api/v1/calls/{call_id}/events")


async def lead_lifecycle(t: Traffic) -> None:
    body = {"phone": f"+{next(t.phones)}", "name": "Soak Lead", "timezone": "America/New_York"}
    lead = await t.request("POST /api/v1/leads", "POST", "/api/v1/leads", 201, json=body)
    if lead is None:
        return
    path = f"/api/v1/leads/{lead['id']}"
    await t.request("GET /api/v1/leads/{id}", "GET", path)
    await t.request("PATCH /api/v1/leads/{id}", "PATCH", path, json={"name": "Soak Lead, changed"})
    await t.request("DELETE /api/v1/leads/{id}", "DELETE", path, 204)


async def place_call(t: Traffic) -> None:
    body = {"to": f"+{next(t.numbers)}"}
    call = await t.request("POST /api/v1/calls", "POST", "/api/v1/calls", 201, json=body)
    if call is not None:
        t.call_ids.append(call["id"])


ROUND: tuple[Operation, ...] = (
    get("GET /api/v1/me", "/api/v1/me"),
    listed("calls", "/api/v1/calls"),
    call_by_id,
    lead_lifecycle,
    listed("leads", "/api/v1/leads"),
    get("GET /api/v1/campaigns/{id}", "/api/v1/campaigns/{campaign}"),
    get("GET /api/v1/campaigns/{id}/report", "/api/v1/campaigns/{campaign}/report"),
    get("GET /api/v1/campaigns/{id}/leads", "/api/v1/campaigns/{campaign}/leads", limit=20),
    get("GET /api/v1/analytics/overview", "/api/v1/analytics/overview"),
    get("GET /api/v1/analytics/call-outcomes", "/api/v1/analytics/call-outcomes"),
    get("GET /api/v1/analytics/lead-statuses", "/api/v1/analytics/lead-statuses"),
    get("GET /api/v1/analytics/recent-activity", "/api/v1/analytics/recent-activity"),
)


async def every(
    rate: float, operations: Sequence[Operation], t: Traffic, stop: asyncio.Event, most: int
) -> None:
    """Open loop: the next operation of ``operations`` (in turn) ``rate`` times a second, at most ``most``
    running; until ``stop`` or the request budget is spent (which sets ``stop``)."""
    slots, running, start = asyncio.Semaphore(most), set[asyncio.Task[None]](), time.monotonic()

    async def guarded(operation: Operation) -> None:
        try:
            await operation(t)
        except Exception as exc:  # counted as an error of the run, which goes on
            t.failures[f"{getattr(operation, '__qualname__', operation)}: {exc!r}"[:200]] += 1
        finally:
            slots.release()

    for i in itertools.count():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, start + i / rate - time.monotonic()))
        if t.exhausted:
            stop.set()
        if stop.is_set():
            break
        await slots.acquire()
        running.add(task := asyncio.create_task(guarded(operations[i % len(operations)])))
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)


# --- SSE subscribers --------------------------------------------------------------------------------------


@dataclass
class Subscriber:
    ids: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)


async def subscribe(url: str, headers: dict[str, str], stall: float, sub: Subscriber) -> None:
    """Reads the stream until cancelled; it ending, lagging or staying silent ``stall`` s is an error."""
    timeout = httpx.Timeout(10.0, read=stall)
    try:
        async with (
            httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout) as http,
            http.stream("GET", "/api/v1/events") as answer,
        ):
            if answer.status_code != httpx.codes.OK:
                sub.errors.append(f"status {answer.status_code}")
                return
            async for line in answer.aiter_lines():
                sub.connected.set()
                if line.startswith("id: "):
                    sub.ids.add(int(line[4:]))
                elif line == "event: lagged":
                    sub.errors.append("lagged (disconnected as too slow)")
            sub.errors.append("the stream ended")
    except httpx.ReadTimeout:
        sub.errors.append(f"stalled: nothing received for {stall:g} s")
    except httpx.HTTPError as exc:
        sub.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        sub.connected.set()  # never leave the start waiting


def sse_figures(subs: Sequence[Subscriber]) -> dict[str, Any]:
    """Events each received; ``missed``: events another subscriber got within the span all of them read."""
    spans = [(min(s.ids), max(s.ids)) for s in subs if s.ids]
    low, high = (max(a for a, _ in spans), min(b for _, b in spans)) if spans else (0, -1)
    seen = {i for s in subs for i in s.ids if low <= i <= high}
    missed = [len(seen - s.ids) for s in subs]
    errors = [e for s in subs for e in s.errors] + [f"missed {n} events" for n in missed if n]
    errors += ["received no event"] * sum(1 for s in subs if not s.ids) if seen else []
    return {"events": [len(s.ids) for s in subs], "missed": missed, "errors": errors}


# --- memory ----------------------------------------------------------------------------------------------


async def sample_memory(pids: dict[str, int], every_s: float, stop: asyncio.Event, into: list[Any]) -> None:
    """(seconds since the start, {service: RSS MiB}) now, every ``every_s`` s, and once more at ``stop``."""
    start = time.monotonic()
    while True:
        into.append(
            (round(time.monotonic() - start, 1), {n: memory_mb(p)["rss_mb"] for n, p in pids.items()})
        )
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    mean_t, mean_y = statistics.fmean(t for t, _ in points), statistics.fmean(y for _, y in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 60 * sum((t - mean_t) * (y - mean_y) for t, y in points) / spread if spread else 0.0


def memory_figures(samples: Sequence[tuple[float, dict[str, float]]], max_slope: float) -> dict[str, Any]:
    end_t = samples[-1][0]
    middle = min(samples, key=lambda s: abs(s[0] - end_t / 2))
    second_half = [s for s in samples if s[0] >= end_t / 2]
    figures: dict[str, Any] = {}
    for name in samples[0][1]:
        slope = slope_per_minute([(t, rss[name]) for t, rss in second_half])
        judged = len(second_half) >= MIN_SLOPE_SAMPLES
        verdict = ("flat" if slope <= max_slope else "GROWING") if judged else "too short to judge"
        figures[name] = {
            "start_mib": samples[0][1][name],
            "middle_mib": middle[1][name],
            "end_mib": samples[-1][1][name],
            "slope_mib_per_min": round(slope, 3),
            "verdict": verdict,
        }
    return figures


# --- the stack and the campaign ----------------------------------------------------------------------------


def environment(opts: Options, database_url: str, ports: dict[str, int]) -> dict[str, str]:
    prefixes = ("DIALPLANE_", "DIALER_", "ARI_BRIDGE_", "AI_AGENT_", "GATEWAY_")
    node = {"name": "local", "ari_url": opts.ari_url, "app": f"soak-{os.getpid()}", "max_channels": 200}
    node |= {"username": opts.ari_user, "password": opts.ari_password}
    trunk = {"name": "test-carrier", "dial_string": "Local/{number}@test-carrier"}
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)} | {
        "DIALPLANE_ENVIRONMENT": "development",
        "DIALPLANE_DATABASE_URL": database_url,
        "DIALPLANE_INTERNAL_TOKEN": TEST_INTERNAL_TOKEN,
        "DIALPLANE_LOG_LEVEL": "WARNING",
        **{f"{name.upper().replace('-', '_')}_PORT": str(port) for name, port in ports.items()},
        "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": "+1202555",
        "ARI_BRIDGE_NODES": json.dumps([node]),
        "ARI_BRIDGE_TRUNKS": json.dumps([trunk | {"max_concurrent": 40, "max_cps": 100}]),
        "GATEWAY_DIALER_URL": f"http://127.0.0.1:{ports['dialer']}",
        "GATEWAY_AI_AGENT_URL": f"http://127.0.0.1:{ports['ai-agent']}",
        "GATEWAY_USER_RATE_LIMIT_PER_MINUTE": str(10**9),
        "GATEWAY_SSE_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    }


@contextlib.asynccontextmanager
async def stack(opts: Options, database_url: str) -> AsyncIterator[dict[str, ServiceProcess]]:
    """The four services at once, each ``python -m`` in an empty directory (no ``.env``), until ``/ready``."""
    ports = {name: free_port() for name in SERVICES}
    env = environment(opts, database_url, ports)
    logs = {name: opts.log_dir / f"soak.{name}.log" for name in SERVICES}
    services = {n: ServiceProcess(n, n.replace("-", "_"), ports[n], logs[n]) for n in SERVICES}
    with tempfile.TemporaryDirectory() as cwd:
        try:
            for service in services.values():
                await start(service, env, Path(cwd))
            await asyncio.gather(*(wait_answering(s, "/ready", 120) for s in services.values()))
            yield services
        finally:
            await asyncio.gather(*(stop(service) for service in services.values()))


async def setup(t: Traffic, name: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
    """A request the soak cannot go on without (``name``: method and route)."""
    if (answer := await t.request(name, name.split()[0], path, expect, **kwargs)) is None:
        raise RuntimeError(f"{name} failed: {dict(t.endpoints[name].errors)}")
    return answer


async def start_campaign(t: Traffic, leads: int, opts: Options) -> None:
    """A campaign over ``leads`` answering numbers, imported as CSV through the gateway, and started."""
    body = {
        "name": f"soak: {leads} leads at {opts.campaign_rate}/s",
        "schedule": {"start_time": "00:00", "end_time": "23:59:59"},
        "max_concurrent_calls": opts.campaign_concurrency,
        "calls_per_second": opts.campaign_rate,
        "machine_detection": False,
        "abandon_rate_limit": 1.0,  # abandoned calls are reported, not a reason to pause
    }
    campaign = await setup(t, "POST /api/v1/campaigns", "/api/v1/campaigns", 201, json=body)
    rows = ["phone,name,timezone,language,consent"]
    rows += [f"+{FIRST_LEAD + i},Lead {i},America/New_York,en,yes" for i in range(leads)]
    files = {"file": ("leads.csv", "\n".join(rows).encode(), "text/csv")}
    form = {"files": files, "data": {"campaign_id": campaign["id"]}}
    job = await setup(t, "POST /api/v1/leads/import", "/api/v1/leads/import", 202, **form)
    while job["status"] not in ("completed", "failed"):
        await asyncio.sleep(0.2)
        job = await setup(t, "GET /api/v1/leads/imports/{id}", f"/api/v1/leads/imports/{job['id']}")
    if job["status"] != "completed" or job["rows_created"] != leads:
        raise RuntimeError(f"the lead import did not complete with {leads} rows: {job}")
    t.campaign_id = campaign["id"]
    await setup(t, "POST /api/v1/campaigns/{id}/start", f"/api/v1/campaigns/{t.campaign_id}/start")


async def settle(t: Traffic, sessions: SessionFactory, within: float) -> dict[str, Any]:
    """Waits until the campaign is no longer running and no call is open (at most ``within`` s)."""
    deadline, path = time.monotonic() + within, f"/api/v1/campaigns/{t.campaign_id}/report"
    while True:
        body = await setup(t, "GET /api/v1/campaigns/{id}/report", path)
        async with transaction(sessions) as session:
            open_calls = int(await session.scalar(_OPEN_CALLS) or 0)
            statuses = {str(s): int(n) for s, n in await session.execute(_CALL_STATUSES)}
        done = body["status"] != "running" and not open_calls
        if done or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    return {
        "status": body["status"],
        "leads": body["leads"]["total"],
        "leads_settled": body["leads"]["final"],
        "campaign_calls": body["calls"]["attempts"],
        "abandoned": body["calls"]["abandoned"],
        "open_calls": open_calls,
        "call_statuses": statuses,
    }


# --- the run ----------------------------------------------------------------------------------------------


def campaign_leads(opts: Options) -> int:
    """``--leads``, or what the campaign rate fills in 90 % of the duration."""
    return opts.leads if opts.leads is not None else max(1, int(0.9 * opts.campaign_rate * opts.duration))


async def traffic(opts: Options, t: Traffic, pids: dict[str, int], samples: list[Any]) -> float:
    """The API round and the calls until the duration or the budget is over; memory sampled meanwhile."""
    stop = asyncio.Event()
    started = time.monotonic()
    tasks = [
        asyncio.create_task(every(opts.rate, ROUND, t, stop, opts.in_flight)),
        asyncio.create_task(every(opts.call_rate, (place_call,), t, stop, opts.in_flight)),
        asyncio.create_task(sample_memory(pids, opts.sample_interval, stop, samples)),
    ]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), opts.duration)
    stop.set()
    await asyncio.gather(*tasks)
    return time.monotonic() - started


async def soak(
    opts: Options, services: dict[str, ServiceProcess], sessions: SessionFactory
) -> dict[str, Any]:
    gateway = services["gateway"].url
    headers = await token(gateway)
    subs = [Subscriber() for _ in range(opts.subscribers)]
    readers = [asyncio.create_task(subscribe(gateway, headers, opts.stall, sub)) for sub in subs]
    limits = httpx.Limits(max_connections=2 * opts.in_flight, max_keepalive_connections=2 * opts.in_flight)
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=30, limits=limits) as http:
        t = Traffic(http, opts.max_requests)
        async with asyncio.timeout(30):
            await asyncio.gather(*(sub.connected.wait() for sub in subs))
        await start_campaign(t, campaign_leads(opts), opts)
        samples: list[Any] = []
        seconds = await traffic(opts, t, {n: s.pid for n, s in services.items()}, samples)
        campaign = await settle(t, sessions, opts.settle)
    await asyncio.sleep(2 * HEARTBEAT_S)  # the last events reach the subscribers
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    audit = await audit_database(sessions)
    codes = {
        name: service.process.returncode if service.process else None for name, service in services.items()
    }
    return {
        "traffic_seconds": round(seconds, 1),
        "requests": t.sent,
        "requests_per_s": round(t.sent / seconds, 2),
        "endpoints": {name: endpoint_figures(e) for name, e in sorted(t.endpoints.items())},
        "operation_failures": dict(t.failures),
        "sse": sse_figures(subs),
        "campaign": campaign,
        "memory": memory_figures(samples, opts.max_slope),
        "memory_samples": samples,
        "audit": {"violations": [f.as_json() for f in audit.violations], "in_flight": len(audit.in_flight)},
        "services_exited": [f"{name} exited ({code})" for name, code in codes.items() if code is not None],
    }


def endpoint_figures(e: Endpoint) -> dict[str, Any]:
    errors = sum(e.errors.values())
    count = len(e.latencies) + sum(n for kind, n in e.errors.items() if not kind[:1].isdigit())
    return {"count": count, "errors": errors, "error_kinds": dict(e.errors), **latency_ms(e.latencies)}


def error_list(report: dict[str, Any]) -> list[str]:
    """Everything that counts as an error of the run, one line each."""
    errors = [f"{n}: {k} x{c}" for n, e in report["endpoints"].items() for k, c in e["error_kinds"].items()]
    errors += [f"operation {k} x{c}" for k, c in report["operation_failures"].items()]
    errors += [f"SSE: {e}" for e in report["sse"]["errors"]]
    campaign = report["campaign"]
    if campaign["status"] != "completed" or campaign["leads_settled"] != campaign["leads"]:
        errors.append(
            f"campaign {campaign['status']}: {campaign['leads_settled']}/{campaign['leads']} settled"
        )
    errors += [f"calls {s}: {n}" for s, n in campaign["call_statuses"].items() if s != "completed"]
    errors += [f"audit: {v['invariant']} {v['message']}" for v in report["audit"]["violations"]]
    return errors + list(report["services_exited"])


async def run_all(opts: Options, url: str) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    settings = ServiceSettings(database_url=url)
    engine = create_engine(settings, pool_size=2, max_overflow=0)
    sessions = create_session_factory(engine)
    try:
        async with transaction(sessions) as session:
            await users.create_user(session, USER, PASSWORD, SCOPES)
        async with stack(opts, settings.database_url) as services:
            return await soak(opts, services, sessions)
    finally:
        await engine.dispose()


async def run(opts: Options) -> dict[str, Any]:
    """SIGTERM cancels the run like Ctrl-C, so the services are stopped and the database dropped."""
    if task := asyncio.current_task():
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
        return {"database": redact_url(url)} | await run_all(opts, url)


# --- the command line -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = p.add_argument
    add("--database-url", default=env_url, help="server to create the throwaway database on (loopback)")
    add("--ari-url", default="http://127.0.0.1:8088/ari", help="ARI of the local Asterisk (loopback)")
    add("--ari-user", default=os.environ.get("ASTERISK_ARI_USERNAME", "dialplane"))
    add("--ari-password", default=os.environ.get("ASTERISK_ARI_PASSWORD", "dialplane"))
    add("--duration", type=float, default=600.0, help="seconds of traffic (default 600)")
    add("--max-requests", type=int, default=50_000, help="stop the traffic after this many (50,000)")
    add("--rate", type=float, default=5.0, help="API operations per second, 1-4 requests each (5)")
    add("--call-rate", type=float, default=0.1, help="POST /api/v1/calls per second (0.1)")
    add("--in-flight", type=int, default=8, help="operations in flight at most, per loop (8)")
    add("--subscribers", type=int, default=3, help="SSE clients on GET /api/v1/events (3)")
    add("--leads", type=int, default=None, help="campaign leads (default: 0.9 x rate x duration)")
    add("--campaign-rate", type=float, default=0.5, help="campaign calls per second (0.5)")
    add("--campaign-concurrency", type=int, default=3, help="campaign calls at once (3; the agent holds 4)")
    add("--sample-interval", type=float, default=10.0, help="seconds between RSS samples (10)")
    add("--max-slope", type=float, default=1.0, help="MiB per minute a service may grow (1.0)")
    add("--stall", type=float, default=10.0, help="seconds an SSE client may receive nothing (10)")
    add("--settle", type=float, default=120.0, help="seconds to wait for the campaign and calls (120)")
    add("--log-dir", type=Path, default=Path(__file__).parent / "results", help="the services' logs")
    add("--json", type=Path, default=None, help="write the report there as JSON")
    opts = Options(**vars(p.parse_args(argv)))
    hosts = {make_url(opts.database_url).host or "", urlsplit(opts.ari_url).hostname or ""}
    if not hosts <= LOOPBACK:
        p.error(f"loopback only: {sorted(hosts - LOOPBACK)}")
    if campaign_leads(opts) + opts.call_rate * opts.duration > LAST_ANSWERING - FIRST_LEAD + 1:
        p.error("the test carrier answers 2,000 numbers: fewer leads, or a lower --call-rate or --duration")
    return opts


def print_report(report: dict[str, Any]) -> None:
    rows = [("endpoint", "count", "errors", "p50 ms", "p99 ms", "max ms")]
    for name, e in report["endpoints"].items():
        rows.append((name, e["count"], e["errors"], *(e.get(q, "-") for q in ("p50", "p99", "max"))))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            str(row[0]).ljust(widths[0]), *(str(c).rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        )
    print(f"{report['requests']} requests in {report['traffic_seconds']} s: {report['requests_per_s']}/s")
    print("RSS MiB      start / middle / end   slope MiB/min over the second half")
    for name, m in report["memory"].items():
        mib = " / ".join(str(m[k]) for k in ("start_mib", "middle_mib", "end_mib"))
        print(f"{name:<12} {mib}   {m['slope_mib_per_min']} {m['verdict']}")
    sse, campaign, audit = report["sse"], report["campaign"], report["audit"]
    print(f"SSE events received per subscriber: {sse['events']} (missed {sse['missed']})")
    print(
        f"campaign {campaign['status']}: {campaign['leads_settled']}/{campaign['leads']} leads settled,",
        end=" ",
    )
    print(f"{campaign['abandoned']} abandoned; every call by status {campaign['call_statuses']}")
    print(f"audit: {len(audit['violations'])} violations, {audit['in_flight']} in flight")
    for error in report["errors"][:20]:
        print(f"ERROR {error}")
    print(
        f"{len(report['errors'])} errors; memory: {report['memory_verdict']}:",
        "ok" if report["ok"] else "FAILED",
    )


def main(argv: Sequence[str]) -> int:
    opts, began = parse_args(argv), time.perf_counter()
    opts.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        with asterisk_for_the_run():
            measured = asyncio.run(run(opts))
    except (RuntimeError, TimeoutError) as exc:  # a service did not start, the setup failed
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the services were stopped and the database dropped", file=sys.stderr)
        return 130
    growing = [name for name, m in measured["memory"].items() if m["verdict"] == "GROWING"]
    errors = error_list(measured)
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()}
    parameters |= {"database_url": redact_url(opts.database_url), "ari_password": "***"}
    report = {
        "benchmark": "soak",
        "ok": not errors and not growing,
        "errors": errors,
        "memory_verdict": f"GROWING: {', '.join(growing)}" if growing else "no growth over the threshold",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "parameters": parameters,
        "source": source_state(),
    } | measured
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
