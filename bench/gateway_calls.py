"""Benchmark of the public call-creation API: ``POST /api/v1/calls`` through the gateway and the dialer.

    uv run python bench/gateway_calls.py [--seconds S] [--rates 100,300] [--concurrency C]

The gateway (``python -m gateway``) and the dialer (``python -m dialer``) run as separate processes on free
ports, so that their CPU can be read from /proc, on a throwaway database ``dialplane_bench_<random>``
(created on the server of ``--database-url`` as in bench/event_stream.py, migrated, and dropped at the end,
also after an error, Ctrl-C or SIGTERM). No ARI bridge runs: a created call stays ``queued`` and its
``call.originate`` command waits in ``commands``. This measures the API up to the queue, not dialing (for
that see bench/ari_origination.py).

After a 2 s warm-up (4 clients) and 2 s without requests (``idle``: what else uses the machine):

1. open loop, once per rate of ``--rates`` (100 and 300 requests/s), for S seconds: requests start on a
   fixed schedule whether or not earlier ones were answered (at most ``--connections`` in flight, the rest
   wait in the client), and latency counts from the scheduled start, so queueing shows; the client's own
   lateness is recorded as its launch lag;
2. closed loop: C clients each send their next request when the previous one is answered, for S seconds:
   the highest rate the services sustain at that concurrency.

After each phase the script waits until the dialer's consumer has handled the phase's ``call.queued``
events, so one phase's backlog does not run in the next. CPU (gateway, dialer, PostgreSQL, this client, the
machine) is read from /proc over each phase.

Every body is ``{"to": "+12025550100"}`` with a bearer token of one user. At the end the rows of ``calls``
must equal the 201 answers (each a ``queued`` call) and each of those calls must have exactly one
``call.originate`` command, else the script exits 1. The figures go to ``bench/results/gateway_calls.json``
and a table is printed (see bench/README.md for what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from sqlalchemy import text

from dialer.testing import TEST_CARRIER_EXEMPTION, consumer_caught_up
from dialplane.calls import BRIDGE_QUEUE, ORIGINATE
from dialplane.db import SessionFactory, create_engine, create_session_factory, redact_url, transaction
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import scratch_database
from dialplane.testing.http import free_port
from dialplane.testing.measure import TICKS_PER_S, Meter, Snapshot, memory_mb, postgres_pids
from gateway.users import service as users

if TYPE_CHECKING:  # mypy reads bench/ as a package; run as a script, bench/ itself is on sys.path
    from bench.ari_origination import log_tail
    from bench.event_stream import latency_figures, machine_info
else:
    from ari_origination import log_tail
    from event_stream import latency_figures, machine_info

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
RESULTS = Path(__file__).parent / "results" / "gateway_calls.json"
REPOSITORY = Path(__file__).resolve().parent.parent
BODY = {"to": "+12025550100"}  # a test-carrier number; exempt from calling hours below
USER, PASSWORD = "bench", "bench password, long enough"
OWN_PREFIXES = ("DIALPLANE_", "GATEWAY_", "DIALER_")  # inherited settings the services must not see
CREATED = "201"
T = TypeVar("T")
IDLE_SECONDS = 2.0
CATCH_UP_SECONDS = 300.0  # the most to wait for the dialer's consumer after a phase
SHARD = 16  # connections per httpx client


@dataclass(frozen=True)
class Options:
    database_url: str
    seconds: float
    rates: list[float]
    concurrency: int
    warmup_seconds: float
    connections: int
    request_timeout: float
    log_level: str
    env: list[str]
    profile: list[str]
    output: Path


# --- the gateway and the dialer, each its own process -------------------------------------------------------


@dataclass(frozen=True)
class Service:
    name: str
    process: asyncio.subprocess.Process
    url: str
    log: Path


def service_environment(opts: Options, database_url: str, ports: dict[str, int]) -> dict[str, str]:
    """One environment for both services (each reads its own prefix and ``DIALPLANE_``): ours only.

    Secrets keep their development placeholders (``change-me``), which ``development`` allows."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    ours = {
        "DIALPLANE_ENVIRONMENT": "development",
        "DIALPLANE_DATABASE_URL": database_url,
        "DIALPLANE_LOG_LEVEL": opts.log_level,
        "GATEWAY_PORT": str(ports["gateway"]),
        "GATEWAY_DIALER_URL": f"http://127.0.0.1:{ports['dialer']}",
        "GATEWAY_USER_RATE_LIMIT_PER_MINUTE": str(10**9),  # never the limit here
        "DIALER_PORT": str(ports["dialer"]),
        "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": TEST_CARRIER_EXEMPTION,  # so callable at any hour
    }
    return inherited | ours | dict(item.split("=", 1) for item in opts.env)


PROFILED = """
import cProfile, runpy, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # uvicorn re-raises SIGTERM: exit so cProfile writes
cProfile.run(f"runpy.run_module({sys.argv[2]!r}, run_name='__main__')", sys.argv[1])
"""


@contextlib.asynccontextmanager
async def started(
    name: str, env: dict[str, str], log_path: Path, profile: Path | None = None
) -> AsyncIterator[Service]:
    """``python -m <name>`` in an empty directory (so no ``.env`` applies) until ``/ready``; stopped after.
    With ``profile``, under cProfile, its statistics written there at the end."""
    port = env[f"{name.upper()}_PORT"]
    command = ("-c", PROFILED, str(profile), name) if profile else ("-m", name)
    with log_path.open("wb") as log, tempfile.TemporaryDirectory() as cwd:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, env=env, cwd=cwd, stdout=log, stderr=log
        )
        try:
            service = Service(name, process, f"http://127.0.0.1:{port}", log_path)
            await until_ready(service)
            yield service
        finally:
            await stop(process)


async def until_ready(service: Service, within: float = 60.0) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=5) as http:
        for _ in range(int(within / 0.1)):
            if service.process.returncode is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/ready")).status_code == httpx.codes.OK:
                    return
            await asyncio.sleep(0.1)
    code = service.process.returncode
    raise RuntimeError(
        f"the {service.name} did not become ready (exit code {code}):\n{log_tail(service.log)}"
    )


async def while_up(services: Sequence[Service], work: Awaitable[T]) -> T:
    """``work``'s result, or an error as soon as one of the services exits (no point measuring on)."""
    run, exits = asyncio.ensure_future(work), [asyncio.ensure_future(s.process.wait()) for s in services]
    try:
        done, _ = await asyncio.wait([run, *exits], return_when=asyncio.FIRST_COMPLETED)
        if run in done:
            return run.result()
    finally:  # also when this task is cancelled (Ctrl-C, SIGTERM): the requests stop before the services
        for task in (run, *exits):
            task.cancel()
        await asyncio.gather(run, *exits, return_exceptions=True)
    gone = next(s for s in services if s.process.returncode is not None)
    code = gone.process.returncode
    raise RuntimeError(f"the {gone.name} exited (code {code}) during the run:\n{log_tail(gone.log)}")


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        async with asyncio.timeout(20):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


# --- requests -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the requests of one phase got: latencies of the 201 answers, outcomes, created call ids."""

    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    call_ids: list[str] = field(default_factory=list)
    launch_lags: list[float] = field(default_factory=list)  # open loop: actual start - scheduled start
    last_answer: float = 0.0


class Clients:
    """httpx clients of ``SHARD`` connections each, enough for ``in_flight`` requests; request ``i`` goes
    through client ``i % n``. (httpx looks through its whole pool on every request: one client of hundreds
    of connections made this script use more CPU than the gateway.)"""

    def __init__(self, base_url: str, headers: dict[str, str], in_flight: int, timeout: float) -> None:
        limits = httpx.Limits(max_connections=SHARD, max_keepalive_connections=SHARD)
        self._pool = [
            httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=timeout)
            for _ in range(max(1, -(-in_flight // SHARD)))
        ]

    def __getitem__(self, i: int) -> httpx.AsyncClient:
        return self._pool[i % len(self._pool)]

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._pool))


async def create_call(http: httpx.AsyncClient, tally: Tally, since: float) -> None:
    """One ``POST /api/v1/calls``; its latency counts from ``since`` (the scheduled start, open loop)."""
    try:
        answer = await http.post("/api/v1/calls", json=BODY)
        outcome = str(answer.status_code)
        if outcome == CREATED:
            call = answer.json()
            tally.call_ids.append(str(call["id"]))
            if call["status"] != "queued":  # counted as an error
                outcome = f"201 {call['status']}"
    except httpx.HTTPError as exc:
        outcome = type(exc).__name__
    tally.last_answer = time.perf_counter()
    tally.outcomes[outcome] += 1
    if outcome == CREATED:
        tally.latencies.append(tally.last_answer - since)


Load = Callable[[Clients, float], Awaitable[Tally]]  # (clients, start) -> what they got


def idle(seconds: float) -> Load:
    """No requests: what the services use by themselves, and whether others use the machine."""

    async def run(_clients: Clients, start: float) -> Tally:
        await asyncio.sleep(start + seconds - time.perf_counter())
        return Tally(last_answer=time.perf_counter())

    return run


def open_loop(rate: float, seconds: float, connections: int) -> Load:
    """``rate`` requests a second for ``seconds``, each started on time whatever the answers; at most
    ``connections`` in flight, the others wait their turn here (first come, first served)."""

    async def run(clients: Clients, start: float) -> Tally:
        tally, pending, slots = Tally(), set(), asyncio.Semaphore(connections)

        async def request(i: int, scheduled: float) -> None:
            async with slots:
                await create_call(clients[i], tally, scheduled)

        for i in range(round(rate * seconds)):
            scheduled = start + i / rate
            await asyncio.sleep(max(scheduled - time.perf_counter(), 0))  # 0: late, but let others run
            tally.launch_lags.append(time.perf_counter() - scheduled)
            pending.add(asyncio.create_task(request(i, scheduled)))
        await asyncio.gather(*pending)
        return tally

    return run


def closed_loop(concurrency: int, seconds: float) -> Load:
    """``concurrency`` clients for ``seconds``, each sending its next request when its last one is done."""

    async def run(clients: Clients, start: float) -> Tally:
        tally, deadline = Tally(), start + seconds

        async def client(k: int) -> None:
            while (now := time.perf_counter()) < deadline:
                await create_call(clients[k], tally, now)

        await asyncio.gather(*(client(k) for k in range(concurrency)))
        return tally

    return run


@dataclass(frozen=True)
class Phase:
    name: str
    load: Load
    in_flight: int = 1  # at most
    target_per_s: float | None = None
    clients: int | None = None


def phases(opts: Options) -> list[Phase]:
    in_flight, clients = opts.connections, opts.concurrency
    steady = [
        Phase(f"open {r:g}/s", open_loop(r, opts.seconds, in_flight), in_flight, target_per_s=r)
        for r in opts.rates
    ]
    return [*steady, Phase(f"closed {clients}", closed_loop(clients, opts.seconds), clients, clients=clients)]


# --- measuring ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    opts: Options
    meter: Meter
    sessions: SessionFactory
    gateway: str  # base URL
    auth: dict[str, str]


@dataclass(frozen=True)
class Reading:
    snapshot: Snapshot
    reaped: int  # CPU ticks of PostgreSQL backends that have ended


def reaped_ticks() -> int:
    """CPU of PostgreSQL backends that have ended: what the postmaster collected on reaping them (cutime +
    cstime). The Meter sees live processes only, and a pool's overflow connections come and go."""
    total = 0
    for pid in postgres_pids():
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(stat[13]) + int(stat[14])
    return total


def read(meter: Meter) -> Reading:
    return Reading(meter.snapshot(), reaped_ticks())


def cores_between(before: Reading, after: Reading) -> dict[str, float]:
    """Meter.cores, PostgreSQL's backends that ended in between included, and ``others``: the machine's busy
    cores minus ours (the kernel's network stack, other users of the machine)."""
    cores = Meter.cores(before.snapshot, after.snapshot)
    reaped = (after.reaped - before.reaped) / TICKS_PER_S / cores["seconds"]
    cores["postgres"] = round(cores["postgres"] + reaped, 2)
    ours = sum(value for name, value in cores.items() if name not in ("machine", "seconds"))
    return cores | {"others": round(max(cores["machine"] - ours, 0), 2)}


_SESSIONS = text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")


async def opened_sessions(sessions: SessionFactory) -> int:
    """Connections made to the bench database so far (PostgreSQL's statistics: updated within a second)."""
    async with transaction(sessions) as session:
        return int(await session.scalar(_SESSIONS) or 0)


async def measure(ctx: Ctx, phase: Phase) -> tuple[dict[str, Any], Tally]:
    """One phase: its load; then the wait until the dialer has handled the ``call.queued`` events."""
    connected = await opened_sessions(ctx.sessions)
    pool = Clients(ctx.gateway, ctx.auth, phase.in_flight, ctx.opts.request_timeout)
    async with contextlib.aclosing(pool) as clients:
        start, before = time.perf_counter() + 0.01, read(ctx.meter)
        tally = await phase.load(clients, start)
        answered = read(ctx.meter)
    try:
        await consumer_caught_up(ctx.sessions, within=CATCH_UP_SECONDS)
        caught_up: float | None = time.perf_counter() - answered.snapshot.at
    except TimeoutError:
        caught_up = None
    cores = cores_between(before, answered)
    await asyncio.sleep(1.0)  # until the backends' statistics are in
    created, window = tally.outcomes[CREATED], max(tally.last_answer - start, 1e-9)
    figures: dict[str, Any] = {
        "phase": phase.name,
        "target_per_s": phase.target_per_s,
        "clients": phase.clients,
        "requests": tally.outcomes.total(),
        "created": created,
        "errors": {k: v for k, v in sorted(tally.outcomes.items()) if k != CREATED},
        "window_s": round(window, 2),
        "created_per_s": round(created / window, 1),
        "latency_ms": latency_figures(tally.latencies),
        "cpu_cores": cores,
        "dialer_caught_up_after_s": None if caught_up is None else round(caught_up, 2),
        "postgres_connections_opened": await opened_sessions(ctx.sessions) - connected,
    }
    if tally.launch_lags:
        figures["launch_lag_ms"] = latency_figures(tally.launch_lags)
    return figures, tally


async def measure_all(ctx: Ctx, every: Sequence[Phase]) -> list[tuple[dict[str, Any], Tally]]:
    return [await measure(ctx, phase) for phase in every]


# --- checks -------------------------------------------------------------------------------------------------

_CALL_ROWS = text("SELECT count(*) FROM calls")
_ORIGINATES = text("SELECT key, count(*) FROM commands WHERE queue = :queue AND type = :type GROUP BY key")


async def check(sessions: SessionFactory, call_ids: Sequence[str]) -> dict[str, Any]:
    """Rows of ``calls`` = 201 answers; one ``call.originate`` command per created call, and no other."""
    async with transaction(sessions) as session:
        rows = int(await session.scalar(_CALL_ROWS) or 0)
        found = (await session.execute(_ORIGINATES, {"queue": BRIDGE_QUEUE, "type": ORIGINATE})).all()
    commands = {str(key): int(count) for key, count in found}
    created = Counter(call_ids)
    problems = {
        "calls_rows_minus_201": rows - len(call_ids),
        "ids_answered_twice": sum(1 for n in created.values() if n > 1),
        "created_without_command": sum(1 for call_id in created if call_id not in commands),
        "created_with_several_commands": sum(1 for call_id in created if commands.get(call_id, 0) > 1),
        "commands_of_other_calls": sum(1 for key in commands if key not in created),
    }
    return {
        "ok": not any(problems.values()),
        "calls_rows": rows,
        "created_201": len(call_ids),
        "originate_commands": sum(commands.values()),
    } | problems


# --- the whole run ------------------------------------------------------------------------------------------


async def token(gateway: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=gateway) as http:
        answer = await http.post("/api/v1/token", data={"username": USER, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def run_all(opts: Options, url: str) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(ServiceSettings(database_url=url), pool_size=2, max_overflow=0)
    sessions = create_session_factory(engine)
    ports = {"gateway": free_port(), "dialer": free_port()}
    env = service_environment(opts, ServiceSettings(database_url=url).database_url, ports)
    logs = {name: opts.output.with_suffix(f".{name}.log") for name in ports}
    profiles = {name: opts.output.with_suffix(f".{name}.prof") for name in opts.profile}
    try:
        async with transaction(sessions) as session:
            await users.create_user(session, USER, PASSWORD)
        async with (
            started("dialer", env, logs["dialer"], profiles.get("dialer")) as dialer,
            started("gateway", env, logs["gateway"], profiles.get("gateway")) as gateway,
        ):
            pids = {"gateway": gateway.process.pid, "dialer": dialer.process.pid, "client": os.getpid()}
            ctx = Ctx(opts, Meter(pids), sessions, gateway.url, await token(gateway.url))
            ready = {s.name: memory_mb(s.process.pid) for s in (gateway, dialer)}
            warmup = Phase("warmup", closed_loop(4, opts.warmup_seconds), 4, clients=4)
            every = [warmup, Phase("idle", idle(IDLE_SECONDS)), *phases(opts)]
            measured = await while_up([gateway, dialer], measure_all(ctx, every))
            memory = {
                s.name: {"ready": ready[s.name], "end": memory_mb(s.process.pid)} for s in (gateway, dialer)
            }
        call_ids = [call_id for _, tally in measured for call_id in tally.call_ids]
        return {
            "machine": await machine_info(engine),
            "warmup": measured[0][0],
            "idle": measured[1][0],
            "phases": [figures for figures, _ in measured[2:]],
            "memory_mb": memory,
            "check": await check(sessions, call_ids),
        }
    finally:
        await engine.dispose()


async def bench(opts: Options) -> dict[str, Any]:
    """The whole run; SIGTERM cancels it like Ctrl-C, so the services are stopped and the database dropped."""
    if task := asyncio.current_task():
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
        measured = await run_all(opts, url)
    return {"database": redact_url(url)} | measured


# --- the command line ---------------------------------------------------------------------------------------


def source_state() -> dict[str, Any]:
    """The commit, and the files of the measured services that differ from it (the working tree runs)."""
    git = ("git", "-C", str(REPOSITORY))
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    paths = ("gateway", "dialer", "services")
    changed = subprocess.run([*git, "status", "--porcelain", *paths], capture_output=True, text=True).stdout
    return {"commit": commit.strip(), "uncommitted": changed.splitlines()}


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=env_url, help="server to create the bench database on")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each phase, s (default 10)")
    p.add_argument("--rates", type=_rates, default=[100.0, 300.0], help="open-loop rates (default 100,300)")
    p.add_argument("--concurrency", type=int, default=32, help="closed-loop clients (default 32)")
    p.add_argument("--warmup-seconds", type=float, default=2.0, help="unmeasured, 4 clients (default 2)")
    p.add_argument("--connections", type=int, default=256, help="open loop: most in flight (default 256)")
    p.add_argument("--request-timeout", type=float, default=60.0, help="client timeout, s (default 60)")
    p.add_argument("--log-level", default="WARNING", help="the services' log level (default WARNING)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a service setting")
    p.add_argument(
        "--profile", action="append", default=[], choices=["gateway", "dialer"], help="run it under cProfile"
    )
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON result (default {RESULTS})")
    args = p.parse_args(argv)
    args.output = args.output.resolve()  # the services run elsewhere and write their profiles next to it
    return Options(**vars(args))


def _rates(value: str) -> list[float]:
    return [float(part) for part in value.split(",") if part.strip()]


def print_table(report: dict[str, Any]) -> None:
    processes = ("gateway", "dialer", "postgres", "client", "others", "machine")
    header = ("phase", "201", "errors", "201/s", "p50 ms", "p90", "p99", "max", "late p99")
    rows: list[list[Any]] = [[*header, "cores: gateway / dialer / pg / client / others / all"]]
    for phase in report["phases"]:
        latency, cores = phase["latency_ms"], phase["cpu_cores"]
        errors = ", ".join(f"{k}: {v}" for k, v in phase["errors"].items()) or "0"
        late = phase.get("launch_lag_ms", {}).get("p99", "-")
        row = [phase["phase"], phase["created"], errors, phase["created_per_s"]]
        row += [latency.get(q, "-") for q in ("p50", "p90", "p99", "max")]
        rows.append([*row, late, " / ".join(f"{cores[name]:.2f}" for name in processes)])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) + 1)]
    for row in rows:
        cells = [str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join([str(row[0]).ljust(widths[0]), *cells[1:]]))
    quiet = report["idle"]["cpu_cores"]
    busy = "  BUSY: other work shares the machine" if quiet["others"] > 0.2 else ""
    print("idle, no requests: " + " / ".join(f"{quiet[name]:.2f}" for name in processes) + busy)
    checked = report["check"]
    print(f"calls rows {checked['calls_rows']}, 201 answers {checked['created_201']},", end=" ")
    print(f"call.originate commands {checked['originate_commands']}: {'ok' if checked['ok'] else 'FAILED'}")


def main(argv: Sequence[str]) -> int:
    opts, began = parse_args(argv), time.perf_counter()
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        measured = asyncio.run(bench(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the services were stopped and the bench database dropped", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # a service did not start or exited; cleaned up as well
        print(f"error: {exc}", file=sys.stderr)
        return 1
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()}
    parameters["database_url"] = redact_url(ServiceSettings(database_url=opts.database_url).database_url)
    report = {"benchmark": "gateway_calls", "ok": measured["check"]["ok"]} | {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "parameters": parameters,
        "source": source_state(),
    }
    opts.output.write_text(json.dumps(report | measured, indent=2) + "\n")
    print_table(report | measured)
    print(f"{report['elapsed_s']} s; written to {opts.output}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
