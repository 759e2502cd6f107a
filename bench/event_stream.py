"""Benchmark of the event stream backends: publish rate, consume rate, publish-to-consume latency.

    uv run python bench/event_stream.py [--events N] [--publishers P] [--groups 1,4] [--per-tx 1,10]
                                        [--backends postgres,jetstream] [--nats-url nats://...]

Connects to the server of ``--database-url`` (default: ``$DIALPLANE_DATABASE_URL``, then ``$DATABASE_URL``,
then ``postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane``), creates a throwaway database
``dialplane_bench_<random>``, migrates it, runs every scenario and drops it again, even on failure. The
JetStream backend runs on a private ``nats-server -js`` started for the run, unless ``--nats-url`` is given.

Scenarios: ``live`` runs the consumer groups while P publisher tasks publish (one transaction per 1 or 10
events); ``backlog`` publishes first, then times the groups draining the backlog; ``+sql`` is a backlog
drained by a handler that runs one SQL statement. Each scenario runs on every backend in turn, each run on
empty tables and a stream built by ``create_event_stream`` (JetStream: streams of a fresh prefix, deleted
after the run). Every group must see every event exactly once and, per key, in publish order, and no
publish may give up; otherwise the script exits 1. The figures go to ``bench/results/event_stream.json``
and a table is printed (see bench/README.md for what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialplane.db import (
    RetryableTransactionError,
    SessionFactory,
    create_engine,
    create_session_factory,
    redact_url,
    run_in_transaction,
    transaction,
)
from dialplane.events import Event, EventHandler, EventStream, NewEvent, PostgresEventStream
from dialplane.events.jetstream import JetStreamEventStream, create_event_stream
from dialplane.events.jetstream.layout import Layout
from dialplane.events.wakeup import Listener
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import scratch_database
from dialplane.testing.nats_server import nats_server_binary, private_nats_server

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
RESULTS = Path(__file__).parent / "results" / "event_stream.json"
STREAM = "bench"
BACKENDS = ("postgres", "jetstream")
SHORT_NAMES = {"postgres": "pg", "jetstream": "js"}  # column headers of the printed table
LIVE_SETTLE_S = 0.2  # before a live scenario publishes, so its consumers wait idle for a wake-up
_RESET = text("TRUNCATE events, event_consumer_groups, event_dead_letters RESTART IDENTITY")
_HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
_POSITIONS = text("SELECT group_name, tx_id::text, event_id FROM event_consumer_groups ORDER BY 1")
_EVENTS_OF = text(
    "SELECT (data->>'n')::int, id, tx_id::text, key, created_at FROM events"
    " WHERE (data->>'n')::int = ANY(:numbers) ORDER BY tx_id, id"
)
_XID_HOLDERS = text(
    "SELECT datname, pid, application_name, state, backend_xid::text, clock_timestamp() - xact_start"
    " FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY age(backend_xid) DESC LIMIT 10"
)


@dataclass(frozen=True)
class Options:
    database_url: str
    events: int
    publishers: int
    keys: int
    groups: list[int]
    per_tx: list[int]
    batch_size: int
    poll_interval: float
    handler_sql: str
    backlog: bool
    timeout: float
    seed: int
    output: Path
    backends: list[str]
    nats_url: str | None


@dataclass(frozen=True)
class Scenario:
    mode: str  # "live" or "backlog"
    groups: int
    per_tx: int
    handler_sql: str = ""

    @property
    def name(self) -> str:
        return f"{self.mode}/{self.groups}g/{self.per_tx}per-tx" + ("+sql" if self.handler_sql else "")


@dataclass(frozen=True)
class Run:
    """One scenario on one backend: a started stream, used only through the EventStream interface."""

    backend: str
    stream: EventStream
    sessions: SessionFactory
    nats: NatsAdmin | None = None  # JetStream only
    layout: Layout | None = None  # JetStream only: this run's streams

    async def consumers_idle(self, groups: int) -> None:
        """Returns once the consumers of a live scenario wait for events. A JetStream group first creates
        one durable consumer per key bucket, which can take longer than the settle time on a busy machine."""
        if self.nats is not None and self.layout is not None:
            await self.nats.wait_for_consumers(self.layout, groups * self.layout.buckets)
        await asyncio.sleep(LIVE_SETTLE_S)


class NatsAdmin:
    """The bench's own NATS connection, beside the backend's: it sees when a run's consumers exist and
    deletes the run's streams afterwards, so a server given by ``--nats-url`` keeps nothing of the bench."""

    def __init__(self, url: str, client: NatsClient) -> None:
        self.url = url
        self.client = client
        self.js = client.jetstream()

    @classmethod
    async def connect(cls, url: str) -> NatsAdmin:
        return cls(url, await nats.connect(url, name="dialplane-bench"))

    def server_version(self) -> str:
        version = self.client.connected_server_version
        return f"{version.major}.{version.minor}.{version.patch}"

    async def wait_for_consumers(self, layout: Layout, count: int, within: float = 30.0) -> None:
        """Polls the server: the backend does not say when its consumers are subscribed."""
        async with asyncio.timeout(within):
            while True:
                info = await self.js.stream_info(layout.events_stream)
                if info.state.consumer_count >= count:
                    return
                await asyncio.sleep(0.02)

    async def delete_streams(self, layout: Layout) -> None:
        for name in (layout.events_stream, layout.commands_stream):
            with contextlib.suppress(NotFoundError):
                await self.js.delete_stream(name)

    async def close(self) -> None:
        await self.client.drain()


@dataclass
class PublishLog:
    events: int
    transactions: int = 0
    attempts: Counter[int] = field(default_factory=Counter)  # attempts a transaction took -> transactions
    durations: list[float] = field(default_factory=list)
    committing: dict[int, float] = field(default_factory=dict)  # event number -> just before COMMIT
    failed: set[int] = field(default_factory=set)  # event numbers whose transaction gave up
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


@dataclass
class GroupLog:
    """What one consumer group saw."""

    published: PublishLog
    seen: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    commit_latencies: list[float] = field(default_factory=list)
    last_id_by_key: dict[str, int] = field(default_factory=dict)
    out_of_order: int = 0
    last_at: float = 0.0
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def expected(self) -> int:
        return self.published.events - len(self.published.failed)

    def handler(self, sql: str) -> EventHandler:
        statement = text(sql) if sql else None

        async def handle(session: AsyncSession, event: Event) -> None:
            if statement is not None:
                await session.execute(statement)
            self.record(event, time.perf_counter())

        return handle

    def record(self, event: Event, now: float) -> None:
        n = int(event.data["n"])
        self.seen[n] += 1
        self.latencies.append(now - float(event.data["t"]))
        self.commit_latencies.append(now - self.published.committing[n])
        if event.id < self.last_id_by_key.get(event.key, 0):
            self.out_of_order += 1
        self.last_id_by_key[event.key] = max(event.id, self.last_id_by_key.get(event.key, 0))
        self.last_at = now
        self.check_complete()

    def check_complete(self) -> None:
        if len(self.seen) >= self.expected:
            self.complete.set()

    def check(self) -> dict[str, int]:
        return {
            "received": sum(self.seen.values()),
            "missing": self.expected - len(self.seen),
            "duplicates": sum(count - 1 for count in self.seen.values()),
            "out_of_order": self.out_of_order,
        }


# --- publishing ------------------------------------------------------------------------------------


async def publish_chunk(run: Run, numbers: Sequence[int], keys: Sequence[str], log: PublishLog) -> None:
    """One transaction, at the boundary the services use (rerun whole on a retryable error)."""
    started, attempts = time.perf_counter(), 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        t = time.perf_counter()  # the last moment before COMMIT that can still go into the data
        await run.stream.publish(
            session, *(NewEvent(STREAM, keys[n], "bench", {"n": n, "t": t}) for n in numbers)
        )
        log.committing.update(dict.fromkeys(numbers, time.perf_counter()))  # COMMIT follows at once

    try:
        await run_in_transaction(run.sessions, work)
    except RetryableTransactionError as exc:  # still conflicting after run_in_transaction's attempts
        log.failed.update(numbers)
        log.errors.append(str(exc))
    log.durations.append(time.perf_counter() - started)
    log.transactions += 1
    log.attempts[attempts] += 1


async def publisher(run: Run, numbers: list[int], per_tx: int, keys: Sequence[str], log: PublishLog) -> None:
    for start in range(0, len(numbers), per_tx):
        await publish_chunk(run, numbers[start : start + per_tx], keys, log)


async def publish_all(run: Run, opts: Options, per_tx: int, log: PublishLog) -> None:
    rng = random.Random(opts.seed)
    keys = [f"call-{rng.randrange(opts.keys)}" for _ in range(opts.events)]
    shares = [list(range(p, opts.events, opts.publishers)) for p in range(opts.publishers)]
    log.started = time.perf_counter()
    await asyncio.gather(*(publisher(run, share, per_tx, keys, log) for share in shares))
    log.finished = time.perf_counter()


# --- one scenario ----------------------------------------------------------------------------------


async def run_scenario(run: Run, opts: Options, scenario: Scenario) -> dict[str, Any]:
    publish = PublishLog(opts.events)
    logs = [GroupLog(publish) for _ in range(scenario.groups)]
    handlers = [log.handler(scenario.handler_sql) for log in logs]
    runners = [
        run.stream.consumer(f"bench-{i}", [STREAM], h, batch_size=opts.batch_size)
        for i, h in enumerate(handlers)
    ]
    if scenario.mode == "backlog":
        await publish_all(run, opts, scenario.per_tx, publish)
    consume_start = time.perf_counter()
    tasks = [asyncio.create_task(runner.run(), name=runner.name) for runner in runners]
    try:
        if scenario.mode == "live":
            await run.consumers_idle(scenario.groups)
            await publish_all(run, opts, scenario.per_tx, publish)
            consume_start = publish.started
        timed_out = not await wait_complete(logs, opts.timeout)
    finally:
        for runner in runners:
            runner.stop()
        await asyncio.gather(*tasks)
    result = summarise(run.backend, scenario, publish, logs, consume_start, timed_out)
    if not result["ok"]:
        result["diagnosis"] = await diagnose(run.sessions, logs)
    return result


async def wait_complete(logs: Sequence[GroupLog], limit_s: float) -> bool:
    for log in logs:
        log.check_complete()  # in case the last transactions gave up
    try:
        async with asyncio.timeout(limit_s):
            for log in logs:
                await log.complete.wait()
    except TimeoutError:
        return False
    await asyncio.sleep(0.2)  # let late duplicates, if any, arrive before counting
    return True


def summarise(
    backend: str,
    scenario: Scenario,
    publish: PublishLog,
    logs: Sequence[GroupLog],
    consume_start: float,
    timed_out: bool,
) -> dict[str, Any]:
    checks = [log.check() for log in logs]
    delivered = all(not (c["missing"] or c["duplicates"] or c["out_of_order"]) for c in checks)
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "backend": backend,
        "mode": scenario.mode,
        "groups": scenario.groups,
        "events_per_tx": scenario.per_tx,
        "handler_sql": scenario.handler_sql or None,
        "ok": delivered and not timed_out and not publish.failed,
        "timed_out": timed_out,
        "publish": publish_figures(publish),
        "consume": consume_figures(logs, consume_start, publish.finished),
        "groups_detail": checks,
    }
    if scenario.mode == "live":
        result["latency_ms"] = latency_figures([x for log in logs for x in log.latencies])
        result["commit_to_handler_ms"] = latency_figures([x for log in logs for x in log.commit_latencies])
    return result


def publish_figures(publish: PublishLog) -> dict[str, Any]:
    committed = publish.events - len(publish.failed)
    seconds = publish.finished - publish.started
    return {
        "events": committed,
        "transactions": publish.transactions,
        "retries": sum((attempts - 1) * count for attempts, count in publish.attempts.items()),
        "attempts_histogram": {str(k): v for k, v in sorted(publish.attempts.items())},
        "gave_up_events": len(publish.failed),
        "gave_up_errors": publish.errors[:5],
        "seconds": round(seconds, 3),
        "events_per_s": round(committed / seconds, 1),
        "transactions_per_s": round(publish.transactions / seconds, 1),
        "transaction_ms": latency_figures(publish.durations),
    }


def consume_figures(logs: Sequence[GroupLog], start: float, published: float) -> dict[str, Any]:
    last = max(log.last_at for log in logs) or time.perf_counter()
    seconds = max(last - start, 1e-9)
    per_group = [len(log.seen) / max(log.last_at - start, 1e-9) for log in logs]
    return {
        "seconds": round(seconds, 3),
        "events_per_s_per_group": round(min(per_group), 1),
        "deliveries_per_s": round(sum(len(log.seen) for log in logs) / seconds, 1),
        "after_last_publish_s": round(max(last - published, 0.0), 3),
    }


def latency_figures(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


async def diagnose(sessions: SessionFactory, logs: Sequence[GroupLog]) -> dict[str, Any]:
    """Where the missed events are, against the groups' positions, the visibility horizon (which any
    transaction holding an xid on the whole server holds back) and who holds it."""
    published = logs[0].published
    expected = set(range(published.events)) - published.failed
    missing = sorted({n for log in logs for n in expected if n not in log.seen})[:50]
    async with sessions() as session:
        horizon = await session.scalar(_HORIZON)
        positions = (await session.execute(_POSITIONS)).all()
        rows = (await session.execute(_EVENTS_OF, {"numbers": missing})).all()
        holders = (await session.execute(_XID_HOLDERS)).all()
    return {
        "horizon_xmin": horizon,
        "positions": [[str(value) for value in row] for row in positions],
        "missing_events": [[str(value) for value in row] for row in rows],
        "xid_holders": [[str(value) for value in row] for row in holders],
    }


# --- backends, database and machine ----------------------------------------------------------------


def scenarios(opts: Options) -> list[Scenario]:
    live = [Scenario("live", g, n) for n in opts.per_tx for g in opts.groups]
    if not opts.backlog:
        return live
    backlog = [Scenario("backlog", g, max(opts.per_tx)) for g in opts.groups]
    with_sql = [Scenario("backlog", 1, max(opts.per_tx), opts.handler_sql)] if opts.handler_sql else []
    return live + backlog + with_sql


async def run_all(opts: Options, url: str, nats_url: str | None) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, ServiceSettings(database_url=url).database_url)
    pool = min(opts.publishers + max(opts.groups) + 3, 200)  # + the JetStream relay
    settings = ServiceSettings(
        database_url=url, database_pool_size=pool, event_poll_interval_seconds=opts.poll_interval
    )
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    admin = await NatsAdmin.connect(nats_url) if nats_url else None
    try:
        results = []
        for scenario in scenarios(opts):
            for backend in opts.backends:  # interleaved: a change in the machine's load hits both alike
                async with started_run(backend, settings, sessions, admin) as run:
                    results.append(await run_scenario(run, opts, scenario))
        return {"machine": await machine_info(engine, admin), "scenarios": results}
    finally:
        if admin is not None:
            await admin.close()
        await engine.dispose()


@contextlib.asynccontextmanager
async def started_run(
    backend: str, settings: ServiceSettings, sessions: SessionFactory, nats_admin: NatsAdmin | None
) -> AsyncIterator[Run]:
    """Empty tables and a started stream of ``backend``, as ``create_event_stream`` builds it. JetStream
    gets streams of a fresh prefix: they would still hold every event of the earlier runs."""
    async with transaction(sessions) as session:
        await session.execute(_RESET)
    update: dict[str, Any] = {"event_backend": backend}
    layout = None
    if backend == "jetstream":
        assert nats_admin is not None
        layout = Layout(f"bench_{secrets.token_hex(6)}")
        update |= {"nats_url": nats_admin.url, "nats_stream_prefix": layout.prefix}
    stream = create_event_stream(settings.model_copy(update=update), sessions)
    await stream.start()
    try:
        await asyncio.wait_for(wakeup_listener(stream).connected.wait(), 10)
        yield Run(backend, stream, sessions, nats_admin, layout)
    finally:
        await stream.close()
        if nats_admin is not None and layout is not None:
            await nats_admin.delete_streams(layout)


def wakeup_listener(stream: EventStream) -> Listener:
    """The LISTEN connection both backends have (it also wakes the JetStream relay): a live scenario
    that published before it listens would wait for the poll instead of a wake-up."""
    assert isinstance(stream, PostgresEventStream | JetStreamEventStream)
    return stream.listener


async def machine_info(engine: AsyncEngine, nats_admin: NatsAdmin | None = None) -> dict[str, Any]:
    async with engine.connect() as conn:
        version = await conn.scalar(text("SHOW server_version"))
        names = ("synchronous_commit", "fsync", "shared_buffers", "max_connections")
        settings = {name: await conn.scalar(text(f"SHOW {name}")) for name in names}
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
        "nats_server": nats_admin.server_version() if nats_admin else None,
    }


async def bench(opts: Options) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # so the cleanup runs
    with contextlib.ExitStack() as private_server:
        nats_url = opts.nats_url if "jetstream" in opts.backends else None
        if "jetstream" in opts.backends and nats_url is None:
            binary = nats_server_binary()
            assert binary is not None  # parse_args refused the run otherwise
            nats_url = private_server.enter_context(private_nats_server(binary))
        async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
            measured = await run_all(opts, url, nats_url)
            return {"database": redact_url(url), "nats": nats_origin(opts), **measured}


def nats_origin(opts: Options) -> str | None:
    if "jetstream" not in opts.backends:
        return None
    return "private nats-server" if opts.nats_url is None else "--nats-url"


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=env_url, help="server to create the bench database on")
    p.add_argument("--events", type=int, default=5000, help="events per scenario (default 5000)")
    p.add_argument("--publishers", type=int, default=20, help="concurrent publisher tasks (default 20)")
    p.add_argument("--keys", type=int, default=1000, help="distinct event keys, like calls (default 1000)")
    p.add_argument("--groups", type=_ints, default=[1, 4], help="consumer group counts (default 1,4)")
    p.add_argument("--per-tx", type=_ints, default=[1, 10], help="events per transaction (default 1,10)")
    p.add_argument("--batch-size", type=int, default=100, help="consumer batch size (default 100)")
    p.add_argument("--poll-interval", type=float, default=1.0, help="consumer poll interval, s (default 1)")
    p.add_argument("--handler-sql", default="SELECT 1", help="statement of the +sql scenario ('' skips it)")
    p.add_argument("--no-backlog", dest="backlog", action="store_false", help="skip the backlog scenarios")
    p.add_argument("--timeout", type=float, default=120.0, help="max wait for the consumers, s (default 120)")
    p.add_argument("--seed", type=int, default=1, help="seed of the key choice (default 1)")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON result (default {RESULTS})")
    p.add_argument(
        "--backends",
        type=_backends,
        default=list(BACKENDS),
        help="backends to run (default postgres,jetstream)",
    )
    p.add_argument("--nats-url", help="JetStream server (default: a private nats-server started for the run)")
    opts = Options(**vars(p.parse_args(argv)))
    if "jetstream" in opts.backends and opts.nats_url is None and nats_server_binary() is None:
        p.error("nats-server is not installed: pass --nats-url, or --backends postgres")
    return opts


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def _backends(value: str) -> list[str]:
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not names or set(names) - set(BACKENDS):
        raise argparse.ArgumentTypeError(f"a comma list of {', '.join(BACKENDS)}")
    return names


Figure = Callable[[dict[str, Any]], Any]
COMPARED: tuple[tuple[str, Figure], ...] = (  # the printed table; the JSON has every figure
    ("pub ev/s", lambda r: r["publish"]["events_per_s"]),
    ("retry", lambda r: r["publish"]["retries"]),
    ("con ev/s/grp", lambda r: r["consume"]["events_per_s_per_group"]),
    ("deliv/s", lambda r: r["consume"]["deliveries_per_s"]),
    ("lat p50", lambda r: r.get("latency_ms", {}).get("p50", "-")),
    ("lat p99", lambda r: r.get("latency_ms", {}).get("p99", "-")),
    ("commit p50", lambda r: r.get("commit_to_handler_ms", {}).get("p50", "-")),
    ("commit p99", lambda r: r.get("commit_to_handler_ms", {}).get("p99", "-")),
)


def print_table(results: Sequence[dict[str, Any]], backends: Sequence[str]) -> None:
    """One row per scenario; under each figure one column per backend, side by side."""
    by_run = {(result["scenario"], result["backend"]): result for result in results}
    names = list(dict.fromkeys(result["scenario"] for result in results))
    header = ["scenario"] + [SHORT_NAMES[backend] for _ in COMPARED for backend in backends]
    rows = [header] + [_row(name, backends, by_run) for name in names]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    n = len(backends)
    for g, (label, _) in enumerate(COMPARED):  # widen a group's last column to fit its label
        group = slice(1 + g * n, 1 + (g + 1) * n)
        widths[group.stop - 1] += max(len(label) - sum(widths[group]) - 2 * (n - 1), 0)
    labels = [
        label.rjust(sum(widths[1 + g * n : 1 + (g + 1) * n]) + 2 * (n - 1))
        for g, (label, _) in enumerate(COMPARED)
    ]
    print("  ".join([" " * widths[0], *labels]))
    for row in rows:
        cells = zip(row, widths, strict=True)
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(cells)))
    print(", ".join(f"{SHORT_NAMES[b]} = {b}" for b in backends) + "; latencies in ms")
    for failed in (result for result in results if not result["ok"]):
        detail = {"timed_out": failed["timed_out"], "gave_up": failed["publish"]["gave_up_events"]}
        print(
            f"FAILED {failed['scenario']} on {failed['backend']}: {detail} groups={failed['groups_detail']}"
        )


def _row(name: str, backends: Sequence[str], by_run: dict[tuple[str, str], dict[str, Any]]) -> list[Any]:
    runs = [by_run.get((name, backend)) for backend in backends]
    failed = [SHORT_NAMES[b] for b, run in zip(backends, runs, strict=True) if run and not run["ok"]]
    label = name + (f"  FAILED on {','.join(failed)}" if failed else "")
    return [label, *(figure(run) if run else "-" for _, figure in COMPARED for run in runs)]


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    started = time.perf_counter()
    try:
        measured = asyncio.run(bench(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted (the bench database, if made, was dropped)", file=sys.stderr)
        return 130
    report = {
        "benchmark": "event_stream",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "ok": all(result["ok"] for result in measured["scenarios"]),
        "parameters": {
            k: v for k, v in vars(opts).items() if k not in ("database_url", "output", "nats_url")
        },
        **measured,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report["scenarios"], opts.backends)
    print(f"{report['elapsed_s']} s; written to {opts.output}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
