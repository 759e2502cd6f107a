"""Benchmark of call origination on the local Asterisk: a minimal ARI client against the ari-bridge service.

    uv run python bench/ari_origination.py [--calls N] [--in-flight C] [--hold-calls H] [--hold-seconds S]
        [--nodes 1|2]

Needs the local Asterisk (``asterisk/local.sh``: started for the run and stopped again if it was stopped;
with ``--nodes 2`` also its second instance, ``ASTERISK_INSTANCE=2``, as the bridge's second node)
and PostgreSQL: a throwaway database ``dialplane_bench_<random>`` is created on the server of
``--database-url`` (as in bench/event_stream.py), migrated, and dropped at the end, even on failure.

1. ``raw``: N ``POST /ari/channels`` from httpx, C in flight, to a number that answers and hangs up after
   3 s, with the WebSocket of a Stasis application of our own connected (the answered channels enter it).
2. ``bridge``: the same N calls as ``call.originate`` commands to the bridge, run as a separate process
   (``python -m ari_bridge``) that spreads them over its nodes; timed from the first send to the N-th call
   in ``dialing`` (recorded just before its POST), ``answered`` and ended, and compared with ``raw``.
3. ARI event lag: the bridge's own ``dialplane_ari_event_lag_seconds`` histogram (from its /metrics).
4. ``hold``: H calls to a number that stays up, through the bridge; once all are answered they are held
   S seconds while the bridge's CPU and memory are read from /proc, then hung up by command.

Every call must end as expected (``completed``), each with its events; a failed POST, a call lost or in
another status, or a wait over ``--timeout`` makes the script exit 1. The figures go to
``bench/results/ari_origination.json`` and a table is printed (see bench/README.md for what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from dialplane.calls import BRIDGE_QUEUE, HANGUP, ORIGINATE, TERMINAL
from dialplane.db import SessionFactory, create_engine, create_session_factory, redact_url, transaction
from dialplane.events import NewCommand, PostgresEventStream
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.asterisk import asterisk_info_from_env, run_local_sh
from dialplane.testing.database import scratch_database
from dialplane.testing.http import free_port
from dialplane.testing.measure import Meter, Sample, delta, histogram, latency_ms, memory_mb, parse_metrics

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
RESULTS = Path(__file__).parent / "results" / "ari_origination.json"
REPOSITORY = Path(__file__).resolve().parent.parent
ANSWERS_AND_HANGS_UP = "+12025550100"  # answers, 3 s of silence, hangs up
STAYS_UP = "+12025550104"  # answers and stays until hung up
DIAL_STRING = "Local/{number}@test-carrier"
PREFIXES = ("raw-", "orig-", "hold-")  # of this script's channel and call ids
_TERMINAL = [status.value for status in TERMINAL]
_STAGES = {  # how many calls of a run (call id prefix) got this far
    "dialing": "dialed_at IS NOT NULL",
    "answered": "answered_at IS NOT NULL",
    "ended": "status = ANY(:terminal)",
}
_COUNT = {
    stage: text(f"SELECT count(*) FROM bridge_calls WHERE call_id LIKE :p AND {c}")
    for stage, c in _STAGES.items()
}
_CALLS = text(
    "SELECT call_id, node, status, dialed_at, answered_at, ended_at FROM bridge_calls WHERE call_id LIKE :p"
)
_EVENT_TYPES = text("SELECT type, count(*) FROM events WHERE stream = 'calls' AND key LIKE :p GROUP BY type")


@dataclass(frozen=True)
class Node:
    """A local Asterisk (an instance of asterisk/local.sh) as one of the bridge's nodes."""

    instance: int
    ari_url: str
    entity_id: str

    @property
    def name(self) -> str:
        """The bridge's name of the node: local, local-2."""
        return "local" if self.instance == 1 else f"local-{self.instance}"

    @property
    def process(self) -> str:
        """Its Asterisk's name in the CPU figures: asterisk, asterisk-2."""
        return "asterisk" if self.instance == 1 else f"asterisk-{self.instance}"


@dataclass(frozen=True)
class Options:
    database_url: str
    ari_url: str
    ari_user: str
    ari_password: str
    nodes: int
    calls: int
    in_flight: int
    per_tx: int
    hold_calls: int
    hold_seconds: float
    poll_interval: float
    bridge_env: list[str]
    bridge_log_level: str
    profile: Path | None
    timeout: float
    output: Path

    @property
    def auth(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.ari_user}:{self.ari_password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    @property
    def local_nodes(self) -> list[Node]:
        """The first node at ``--ari-url``, the others where asterisk/local.sh runs their instance."""
        infos = [asterisk_info_from_env(instance) for instance in range(1, self.nodes + 1)]
        return [Node(i.instance, self.ari_url if i.instance == 1 else i.ari_url, i.entity_id) for i in infos]


# --- the bridge as a separate process ---------------------------------------------------------------------


@dataclass
class BridgeProcess:
    process: asyncio.subprocess.Process
    http: httpx.AsyncClient

    @property
    def pid(self) -> int:
        return self.process.pid

    async def metrics(self) -> list[Sample]:
        return parse_metrics((await self.http.get("/metrics")).text)

    async def node_load(self) -> int:
        """Calls the bridge's capacity counts as active, on all its nodes together."""
        return sum(int(node["active"]) for node in (await self.http.get("/nodes")).json())


def bridge_environment(opts: Options, database_url: str, port: int) -> dict[str, str]:
    """Only our settings: inherited DIALPLANE_* and ARI_BRIDGE_* variables are left out."""
    common = {
        "app": f"bench-{secrets.token_hex(4)}",
        "username": opts.ari_user,
        "password": opts.ari_password,
    }
    max_channels = 2 * max(opts.calls, opts.hold_calls)
    nodes = [
        # room for every call of either phase: a node's channel limit must not be what the rate measures
        {"name": n.name, "ari_url": n.ari_url, "entity_id": n.entity_id, "max_channels": max_channels}
        | common
        for n in opts.local_nodes
    ]
    trunk = {"name": "test-carrier", "dial_string": DIAL_STRING, "max_concurrent": 2000, "max_cps": 1000}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DIALPLANE_", "ARI_BRIDGE_"))}
    settings = {
        "DIALPLANE_ENVIRONMENT": "development",  # the local Asterisk has the development credentials
        "DIALPLANE_DATABASE_URL": database_url,
        "DIALPLANE_EVENT_POLL_INTERVAL_SECONDS": str(opts.poll_interval),
        "DIALPLANE_LOG_LEVEL": opts.bridge_log_level,
        "ARI_BRIDGE_PORT": str(port),
        "ARI_BRIDGE_NODES": json.dumps(nodes),
        "ARI_BRIDGE_TRUNKS": json.dumps([trunk]),
    }
    return inherited | settings | dict(item.split("=", 1) for item in opts.bridge_env)


PROFILED_BRIDGE = """
import cProfile, runpy, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
cProfile.run("runpy.run_module('ari_bridge', run_name='__main__')", sys.argv[1])
"""


@contextlib.asynccontextmanager
async def running_bridge(opts: Options, database_url: str, log_path: Path) -> AsyncIterator[BridgeProcess]:
    """``python -m ari_bridge`` in an empty directory (no ``.env``), once ready; SIGTERM at the end."""
    port = free_port()
    env = bridge_environment(opts, database_url, port)
    with log_path.open("wb") as log, tempfile.TemporaryDirectory() as cwd:
        command: tuple[str, ...] = (sys.executable, "-m", "ari_bridge")
        if opts.profile:  # uvicorn re-raises SIGTERM after its shutdown: make that an exit cProfile survives
            command = (sys.executable, "-c", PROFILED_BRIDGE, str(opts.profile.resolve()))
        process = await asyncio.create_subprocess_exec(*command, env=env, cwd=cwd, stdout=log, stderr=log)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                bridge = BridgeProcess(process, http)
                await wait_ready(bridge, log_path)
                yield bridge
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_ready(bridge: BridgeProcess, log_path: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and bridge.process.returncode is None:
        with contextlib.suppress(httpx.TransportError):
            if (await bridge.http.get("/ready")).status_code == httpx.codes.OK:
                return
        await asyncio.sleep(0.1)
    tail = log_tail(log_path)
    raise RuntimeError(f"the bridge did not become ready (exit code {bridge.process.returncode}):\n{tail}")


def log_tail(path: Path) -> str:
    return path.read_bytes()[-2000:].decode(errors="replace")


# --- 1. raw ARI origination -------------------------------------------------------------------------------


def channel_ids(prefix: str, calls: int) -> list[str]:
    """Ids of equal length: Asterisk refuses (409) an id that is a prefix of a live channel's id."""
    return [f"{prefix}{i:06d}" for i in range(calls)]


@dataclass
class RawLog:
    calls: int
    posted: dict[str, float] = field(default_factory=dict)  # channel id -> POST start
    post_seconds: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    answered: dict[str, float] = field(default_factory=dict)  # StasisStart received
    ended: dict[str, float] = field(default_factory=dict)  # ChannelDestroyed received
    event_lags: list[float] = field(default_factory=list)
    last_response: float = 0.0
    all_ended: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, event: dict[str, Any]) -> None:
        channel_id = str(event.get("channel", {}).get("id", ""))
        if channel_id not in self.posted or event.get("type") not in ("StasisStart", "ChannelDestroyed"):
            return
        stamp = dt.datetime.fromisoformat(str(event["timestamp"]))
        self.event_lags.append((dt.datetime.now(dt.UTC) - stamp).total_seconds())
        (self.answered if event["type"] == "StasisStart" else self.ended)[channel_id] = time.perf_counter()
        if len(self.ended) + self.errors.total() >= self.calls:
            self.all_ended.set()


async def read_events(ws: ClientConnection, log: RawLog) -> None:
    async for message in ws:
        log.record(json.loads(message))


async def post_channels(http: httpx.AsyncClient, app: str, ids: Iterator[str], log: RawLog) -> None:
    """One in-flight slot: POST the next channel until none is left (with the body the bridge sends)."""
    for channel_id in ids:
        body: dict[str, Any] = {"endpoint": DIAL_STRING.format(number=ANSWERS_AND_HANGS_UP), "app": app}
        body |= {"channelId": channel_id, "appArgs": "dialplane", "timeout": 30}
        body["variables"] = {"DIALPLANE_CALL_ID": channel_id}
        log.posted[channel_id] = started = time.perf_counter()
        try:
            response = await http.post("/channels", json=body)
            outcome = "" if response.is_success else str(response.status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        log.last_response = time.perf_counter()
        log.post_seconds.append(log.last_response - started)
        if outcome:
            log.errors[outcome] += 1


async def raw_origination(opts: Options, meter: Meter) -> dict[str, Any]:
    app, prefix, log = f"bench-raw-{secrets.token_hex(4)}", f"raw-{secrets.token_hex(4)}-", RawLog(opts.calls)
    events_url = opts.ari_url.replace("http", "ws", 1) + f"/events?app={app}&subscribeAll=false"
    limits = httpx.Limits(max_connections=opts.in_flight)
    async with (
        connect(events_url, additional_headers=opts.auth, max_queue=None) as ws,
        httpx.AsyncClient(base_url=opts.ari_url, headers=opts.auth, limits=limits) as http,
    ):
        reader = asyncio.create_task(read_events(ws, log))
        before, ids = meter.snapshot(), iter(channel_ids(prefix, opts.calls))
        await asyncio.gather(*(post_channels(http, app, ids, log) for _ in range(opts.in_flight)))
        posted = meter.snapshot()
        ended = await wait_event(log.all_ended, opts.timeout)
        reader.cancel()
    figures = raw_figures(log, min(log.posted.values()), ended and not log.errors)
    return figures | {"cpu_cores_while_posting": meter.cores(before, posted)}


async def wait_event(event: asyncio.Event, within: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), within)
    except TimeoutError:
        return False
    return True


def raw_figures(log: RawLog, first: float, ok: bool) -> dict[str, Any]:
    ok_calls, answered = log.calls - log.errors.total(), max(log.answered.values(), default=first)
    return {
        "ok": ok and len(log.answered) == len(log.ended) == ok_calls,
        "calls": log.calls,
        "post_errors": dict(log.errors),
        "answered": len(log.answered),
        "ended": len(log.ended),
        "to_last_post_s": round(log.last_response - first, 3),
        "to_last_answered_s": round(answered - first, 3),
        "to_all_ended_s": round(max(log.ended.values(), default=first) - first, 3),
        "originated_per_s": round(ok_calls / (log.last_response - first), 1),
        "answered_per_s": round(len(log.answered) / max(answered - first, 1e-9), 1),
        "post_ms": latency_ms(log.post_seconds),
        "event_receipt_lag_ms": latency_ms(log.event_lags),
    }


# --- 2.-4. through the bridge ------------------------------------------------------------------------------


@dataclass
class Run:
    """Calls sent to the bridge in one phase; their ids share ``prefix``."""

    prefix: str
    calls: int
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    committed: dict[str, dt.datetime] = field(default_factory=dict)  # call id -> its command committed

    @property
    def ids(self) -> list[str]:
        return channel_ids(self.prefix, self.calls)

    def since_start(self, moment: dt.datetime | None) -> float | None:
        return None if moment is None else round((moment - self.started).total_seconds(), 3)


@dataclass(frozen=True)
class Ctx:
    opts: Options
    sessions: SessionFactory
    stream: PostgresEventStream
    bridge: BridgeProcess
    meter: Meter


async def send_commands(ctx: Ctx, run: Run, kind: str, number: str = "") -> None:
    """The run's calls as commands, ``per_tx`` to a transaction, as a dialer sends them."""
    run.started, ids, per_tx = dt.datetime.now(dt.UTC), run.ids, ctx.opts.per_tx
    extra = {"to": number, "ring_timeout_seconds": 30} if kind == ORIGINATE else {}
    for chunk in (ids[i : i + per_tx] for i in range(0, len(ids), per_tx)):
        commands = [
            NewCommand(BRIDGE_QUEUE, call_id, kind, {"call_id": call_id, **extra}) for call_id in chunk
        ]
        async with transaction(ctx.sessions) as session:
            await ctx.stream.send(session, *commands)
        run.committed.update(dict.fromkeys(chunk, dt.datetime.now(dt.UTC)))


async def wait_for(ctx: Ctx, run: Run, stage: str) -> bool:
    """Poll until every call of the run got to ``stage`` (dialing, answered, ended); False on timeout."""
    deadline = time.monotonic() + ctx.opts.timeout
    while time.monotonic() < deadline:
        async with transaction(ctx.sessions) as session:
            done = await session.scalar(_COUNT[stage], {"p": f"{run.prefix}%", "terminal": _TERMINAL})
        if done == run.calls:
            return True
        await asyncio.sleep(0.05)
    return False


async def call_rows(ctx: Ctx, run: Run) -> tuple[list[Any], dict[str, int]]:
    """The run's ``bridge_calls`` rows, and its ``call.*`` events by type."""
    async with transaction(ctx.sessions) as session:
        rows = list((await session.execute(_CALLS, {"p": f"{run.prefix}%"})).all())
        types = (await session.execute(_EVENT_TYPES, {"p": f"{run.prefix}%"})).all()
    return rows, {str(event_type): int(count) for event_type, count in sorted(types)}


def latest(rows: Sequence[Any], column: str) -> dt.datetime | None:
    return max((getattr(row, column) for row in rows if getattr(row, column) is not None), default=None)


def call_figures(run: Run, rows: Sequence[Any], events: dict[str, int], expected: str) -> dict[str, Any]:
    """Where the calls got to and when; ``ok`` if all are ``expected`` with one such event each."""
    statuses = Counter(str(row.status) for row in rows)
    to_dialing = [(r.dialed_at - run.committed[r.call_id]).total_seconds() for r in rows if r.dialed_at]
    to_answered = [
        (r.answered_at - r.dialed_at).total_seconds() for r in rows if r.answered_at and r.dialed_at
    ]
    return {
        "ok": statuses == Counter({expected: run.calls}) and events.get(f"call.{expected}") == run.calls,
        "statuses": dict(statuses),
        "per_node": dict(sorted(Counter(str(row.node) for row in rows).items())),
        "call_events": events,
        "to_last_dialing_s": run.since_start(latest(rows, "dialed_at")),
        "to_last_answered_s": run.since_start(latest(rows, "answered_at")),
        "to_all_ended_s": run.since_start(latest(rows, "ended_at")),
        "command_to_dialing_ms": latency_ms(to_dialing),
        "dialing_to_answered_ms": latency_ms(to_answered),
    }


def per_s(calls: int, seconds: float | None) -> float | None:
    return round(calls / seconds, 1) if seconds else None


def bridge_metrics(before: Sequence[Sample], after: Sequence[Sample]) -> dict[str, Any]:
    """What the bridge's /metrics say about the time between two scrapes, all its nodes together (the
    series of each node, label ``node``, are summed)."""
    ns, post = "dialplane_", {"method": "POST", "route": "/channels"}
    events = delta(before, after, f"{ns}ari_events_total", "type")
    commands = delta(before, after, f"{ns}event_stream_commands_total", "outcome", queue=BRIDGE_QUEUE)
    return {
        "ari_event_lag": histogram(before, after, f"{ns}ari_event_lag_seconds"),
        "ari_post_channels": histogram(before, after, f"{ns}ari_request_duration_seconds", **post),
        "ari_events": {k: int(v) for k, v in sorted(events.items(), key=lambda kv: -kv[1]) if v},
        "ari_events_dropped": int(sum(delta(before, after, f"{ns}ari_events_dropped_total").values())),
        "ari_events_late": int(sum(delta(before, after, f"{ns}ari_events_late_total").values())),
        "commands": {k: int(v) for k, v in commands.items()},
    }


@contextlib.asynccontextmanager
async def observed(ctx: Ctx) -> AsyncIterator[dict[str, Any]]:
    """The bridge's CPU and metrics while the block runs (filled in at its end)."""
    figures: dict[str, Any] = {}
    scraped, before = await ctx.bridge.metrics(), ctx.meter.snapshot()
    yield figures
    figures["cpu_cores"] = Meter.cores(before, ctx.meter.snapshot())
    figures["metrics"] = bridge_metrics(scraped, await ctx.bridge.metrics())


def cpu_ms_per_call(seen: dict[str, Any], calls: int) -> float:
    cores: dict[str, float] = seen["cpu_cores"]
    return round(cores["bridge"] * cores["seconds"] * 1000 / calls, 1)


async def bridge_origination(ctx: Ctx) -> dict[str, Any]:
    run = Run(f"orig-{secrets.token_hex(4)}-", ctx.opts.calls)
    async with observed(ctx) as seen:
        await send_commands(ctx, run, ORIGINATE, ANSWERS_AND_HANGS_UP)
        reached = await wait_for(ctx, run, "dialing") and await wait_for(ctx, run, "ended")
    figures = call_figures(run, *await call_rows(ctx, run), "completed")
    return (
        figures
        | seen
        | {
            "ok": figures["ok"] and reached,
            "originated_per_s": per_s(run.calls, figures["to_last_dialing_s"]),
            "answered_per_s": per_s(run.calls, figures["to_last_answered_s"]),
            "cpu_ms_per_call": cpu_ms_per_call(seen, run.calls),
        }
    )


async def hold_calls(ctx: Ctx) -> dict[str, Any]:
    run, load_before = Run(f"hold-{secrets.token_hex(4)}-", ctx.opts.hold_calls), await ctx.bridge.node_load()
    async with observed(ctx) as answering:
        await send_commands(ctx, run, ORIGINATE, STAYS_UP)
        all_answered = await wait_for(ctx, run, "answered")
    async with observed(ctx) as holding:
        await asyncio.sleep(ctx.opts.hold_seconds)
    memory, (rows, _) = memory_mb(ctx.bridge.pid), await call_rows(ctx, run)
    hangup = Run(run.prefix, run.calls)
    async with observed(ctx) as hanging_up:
        await send_commands(ctx, hangup, HANGUP)
        all_ended = await wait_for(ctx, run, "ended")
    rows_after, events = await call_rows(ctx, run)
    ended, load_after = call_figures(run, rows_after, events, "completed"), await ctx.bridge.node_load()
    return {
        "ok": all_answered and all_ended and ended["ok"] and load_before == load_after == 0,
        "calls": run.calls,
        "answered": sum(1 for row in rows if row.answered_at),
        "to_all_answered_s": run.since_start(latest(rows, "answered_at")),
        "answered_per_s": per_s(run.calls, run.since_start(latest(rows, "answered_at"))),
        "dialing_to_answered_ms": ended["dialing_to_answered_ms"],
        "memory_while_holding": memory,
        "hangup_to_all_ended_s": hangup.since_start(latest(rows_after, "ended_at")),
        "statuses": ended["statuses"],
        "per_node": ended["per_node"],
        "call_events": ended["call_events"],
        "node_active_calls": {"before": load_before, "after": load_after},
        "cpu_ms_per_call": {"answering": cpu_ms_per_call(answering, run.calls)}
        | {"hanging_up": cpu_ms_per_call(hanging_up, run.calls)},
        "answering": answering,
        "holding": holding,
        "hanging_up": hanging_up,
    }


# --- the whole run -------------------------------------------------------------------------------------


async def hang_up_leftovers(opts: Options, node: Node) -> int:
    """Hang up channels of this script still up after a failure, so Asterisk is left as it was found."""
    async with httpx.AsyncClient(base_url=node.ari_url, headers=opts.auth) as http:
        ours = [c["id"] for c in (await http.get("/channels")).json() if str(c["id"]).startswith(PREFIXES)]
        for channel_id in ours:
            await http.delete(f"/channels/{channel_id}")
    return len(ours)


async def run_all(opts: Options, url: str, asterisks: Sequence[LocalAsterisk]) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, ServiceSettings(database_url=url).database_url)
    settings = ServiceSettings(database_url=url, database_pool_size=4)
    engine = create_engine(settings)
    stream = PostgresEventStream(create_session_factory(engine), settings.database_url)
    try:
        async with running_bridge(
            opts, settings.database_url, opts.output.with_suffix(".bridge.log")
        ) as bridge:
            pids = {"bridge": bridge.pid, "bench": os.getpid()}
            pids |= {a.node.process: a.pid for a in asterisks if a.pid}
            ctx = Ctx(opts, stream.sessions, stream, bridge, Meter(pids))
            try:
                return await phases(ctx)
            finally:
                for asterisk in asterisks:
                    await hang_up_leftovers(opts, asterisk.node)
    finally:
        await engine.dispose()


async def phases(ctx: Ctx) -> dict[str, Any]:
    idle = memory_mb(ctx.bridge.pid)
    raw = await raw_origination(ctx.opts, ctx.meter)
    bridge = await bridge_origination(ctx)
    hold = await hold_calls(ctx)
    ratio = {
        k: round(bridge[k] / raw[k], 2) if bridge[k] and raw[k] else None
        for k in ("originated_per_s", "answered_per_s")
    }
    return {
        "machine": await machine_info(ctx),
        "raw": raw,
        "bridge": bridge,
        "bridge_over_raw": ratio | {"target": 0.8, "meets_target": (ratio["originated_per_s"] or 0) >= 0.8},
        "hold": hold,
        "bridge_memory": {"idle_after_ready": idle, "end": memory_mb(ctx.bridge.pid)},
    }


async def machine_info(ctx: Ctx) -> dict[str, Any]:
    async with transaction(ctx.sessions) as session:
        pg_version = await session.scalar(text("SHOW server_version"))
    async with httpx.AsyncClient(base_url=ctx.opts.ari_url, headers=ctx.opts.auth) as http:
        info = (await http.get("/asterisk/info")).json()
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "asterisk": info.get("system", {}).get("version"),
    }


async def bench(opts: Options, asterisks: Sequence[LocalAsterisk]) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # so the cleanup runs
    async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
        return {"database": redact_url(url), **await run_all(opts, url, asterisks)}


# --- Asterisk and the command line ------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalAsterisk:
    node: Node
    pid: int | None
    started_for_the_run: bool


@contextlib.contextmanager
def asterisk_for_the_run(node: Node | None = None) -> Iterator[LocalAsterisk]:
    """A node's Asterisk (asterisk/local.sh; the first instance unless told): started if it was stopped,
    and stopped again at the end."""
    if node is None:
        first = asterisk_info_from_env(1)
        node = Node(first.instance, first.ari_url, first.entity_id)
    stopped = run_local_sh("status", node.instance).returncode != 0
    if stopped and run_local_sh("start", node.instance).returncode != 0:
        raise RuntimeError(f"asterisk/local.sh start failed (ASTERISK_INSTANCE={node.instance})")
    try:
        found = re.search(r"running \(pid (\d+)\)", run_local_sh("status", node.instance).stdout)
        yield LocalAsterisk(node, int(found[1]) if found else None, stopped)
    finally:
        if stopped:
            run_local_sh("stop", node.instance)


def source_state() -> dict[str, Any]:
    """The commit, and the files of the bridge and the shared library that differ from it (others may be
    editing them in the same checkout while this runs)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True).stdout

    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "uncommitted": git("status", "--porcelain", "ari-bridge", "services").splitlines(),
    }


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=env_url, help="server to create the bench database on")
    p.add_argument("--ari-url", default="http://127.0.0.1:8088/ari", help="ARI of the first local node")
    p.add_argument("--ari-user", default=os.environ.get("ASTERISK_ARI_USERNAME", "dialplane"))
    p.add_argument("--ari-password", default=os.environ.get("ASTERISK_ARI_PASSWORD", "dialplane"))
    p.add_argument("--nodes", type=int, choices=(1, 2), default=1, help="local Asterisk nodes of the bridge")
    p.add_argument("--calls", type=int, default=500, help="calls of the rate comparison (default 500)")
    p.add_argument("--in-flight", type=int, default=20, help="raw POSTs in flight (default 20)")
    p.add_argument("--per-tx", type=int, default=100, help="commands per sending transaction (default 100)")
    p.add_argument("--hold-calls", type=int, default=1000, help="concurrent answered calls (default 1000)")
    p.add_argument("--hold-seconds", type=float, default=10.0, help="how long they are held, s (default 10)")
    p.add_argument("--poll-interval", type=float, default=1.0, help="the bridge's event poll interval, s")
    p.add_argument("--bridge-env", action="append", default=[], metavar="NAME=VALUE", help="bridge setting")
    p.add_argument("--bridge-log-level", default="WARNING", help="the bridge's log level (default WARNING)")
    p.add_argument("--profile", type=Path, help="run the bridge under cProfile, statistics to this file")
    p.add_argument("--timeout", type=float, default=60.0, help="max wait for the calls of a stage, s")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON result (default {RESULTS})")
    return Options(**vars(p.parse_args(argv)))


def print_table(report: dict[str, Any]) -> None:
    raw, bridge, ratio = report["raw"], report["bridge"], report["bridge_over_raw"]
    post, lag = bridge["metrics"]["ari_post_channels"], bridge["metrics"]["ari_event_lag"]
    rows: list[tuple[Any, ...]] = [("", "raw ARI", "bridge", "bridge/raw")]
    for label, key in (
        ("originated/s (N-th POST | dialing)", "originated_per_s"),
        ("answered/s", "answered_per_s"),
    ):
        rows.append((label, raw[key], bridge[key], ratio[key]))
    rows += [
        ("all ended after s", raw["to_all_ended_s"], bridge["to_all_ended_s"], ""),
        ("POST /channels ms p50 / p99", _pair(raw["post_ms"]), _pair(post), ""),
        ("ARI event lag ms p50 / p99", _pair(raw["event_receipt_lag_ms"]), _pair(lag), ""),
    ]
    cores = (_cores(raw["cpu_cores_while_posting"], "bench"), _cores(bridge["cpu_cores"], "bridge"))
    rows.append(("cores: own / asterisk / pg / all", *cores, ""))
    _print_rows(rows)
    hold = report["hold"]
    header = ("s", "cores: bridge / asterisk / pg / all", "event lag ms p50 / p99", "events dropped")
    rows = [(f"{hold['calls']} held calls", *header)]
    for name in ("answering", "holding", "hanging_up"):
        window = hold[name]
        lag, dropped = window["metrics"]["ari_event_lag"], window["metrics"]["ari_events_dropped"]
        rows.append(
            (name, window["cpu_cores"]["seconds"], _cores(window["cpu_cores"], "bridge"), _pair(lag), dropped)
        )
    print()
    _print_rows(rows)
    memory, peak = hold["memory_while_holding"], report["bridge_memory"]["end"]["peak_rss_mb"]
    print(
        f"all answered after {hold['to_all_answered_s']} s; bridge RSS while holding {memory['rss_mb']} MiB,"
    )
    print(f"peak {peak} MiB; after the hang-up: {hold['statuses']}")
    print(f"calls per node: {report['bridge']['per_node']} (bridge), {hold['per_node']} (hold)")


def _print_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(cells)))


def _pair(figures: dict[str, Any]) -> str:
    """p50 / p99 of ``latency_ms`` or ``histogram`` figures."""
    return " / ".join(str(figures.get(q, figures.get(f"{q}_ms", "-"))) for q in ("p50", "p99"))


def _cores(cores: dict[str, float], own: str) -> str:
    """``own / asterisk / pg / all``; with several nodes their Asterisks as ``first+second``."""
    asterisks = "+".join(str(used) for name, used in cores.items() if name.startswith("asterisk")) or "-"
    return " / ".join((str(cores.get(own, "-")), asterisks, str(cores["postgres"]), str(cores["machine"])))


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    started = time.perf_counter()
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            asterisks = [stack.enter_context(asterisk_for_the_run(node)) for node in opts.local_nodes]
            measured = asyncio.run(bench(opts, asterisks))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted (the bench database, if made, was dropped)", file=sys.stderr)
        return 130
    hidden = ("database_url", "ari_password", "output")
    report = {
        "benchmark": "ari_origination",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "nodes": opts.nodes,
        "asterisk_started_for_the_run": {a.node.name: a.started_for_the_run for a in asterisks},
        "parameters": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items() if k not in hidden
        },
        "source": source_state(),
        **measured,
    }
    failed = [part for part in ("raw", "bridge", "hold") if not report[part]["ok"]]
    report["ok"] = not failed
    opts.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(
        f"{report['elapsed_s']} s; written to {opts.output}" + "".join(f"\nFAILED: {part}" for part in failed)
    )
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
