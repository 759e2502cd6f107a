"""Benchmark of the PostgreSQL event stream: publish rate, consume rate, publish-to-consume latency.

    uv run python bench/event_stream.py [--events N] [--publishers P] [--groups 1,4] [--per-tx 1,10]

Connects to the server of ``--database-url`` (default: ``$DIALPLANE_DATABASE_URL``, then ``$DATABASE_URL``,
then ``postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane``), creates a throwaway database
``dialplane_bench_<random>``, migrates it, runs every scenario and drops it again, even on failure.

Scenarios: ``live`` runs the consumer groups while P publisher tasks publish (one transaction per 1 or 10
events); ``backlog`` publishes first, then times the groups draining the backlog; ``+sql`` is a backlog
drained by a handler that runs one SQL statement. Every group must see every event exactly once and, per
key, in publish order, and no publish may give up; otherwise the script exits 1. The figures go to
``bench/results/event_stream.json`` and a table is printed (see bench/README.md for what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialplane.db import (
    RetryableTransactionError,
    SessionFactory,
    create_engine,
    create_session_factory,
    redact_url,
    run_in_transaction,
)
from dialplane.events import Event, EventHandler, NewEvent, PostgresEventStream
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import scratch_database

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
RESULTS = Path(__file__).parent / "results" / "event_stream.json"
STREAM = "bench"
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


@dataclass(frozen=True)
class Scenario:
    mode: str  # "live" or "backlog"
    groups: int
    per_tx: int
    handler_sql: str = ""

    @property
    def name(self) -> str:
        return f"{self.mode}/{self.groups}g/{self.per_tx}per-tx" + ("+sql" if self.handler_sql else "")


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


async def publish_chunk(
    stream: PostgresEventStream, numbers: Sequence[int], keys: Sequence[str], log: PublishLog
) -> None:
    """One transaction, at the boundary the services use (rerun whole on a retryable error)."""
    started, attempts = time.perf_counter(), 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        t = time.perf_counter()  # the last moment before COMMIT that can still go into the data
        await stream.publish(
            session, *(NewEvent(STREAM, keys[n], "bench", {"n": n, "t": t}) for n in numbers)
        )
        log.committing.update(dict.fromkeys(numbers, time.perf_counter()))  # COMMIT follows at once

    try:
        await run_in_transaction(stream.sessions, work)
    except RetryableTransactionError as exc:  # still conflicting after run_in_transaction's attempts
        log.failed.update(numbers)
        log.errors.append(str(exc))
    log.durations.append(time.perf_counter() - started)
    log.transactions += 1
    log.attempts[attempts] += 1


async def publisher(
    stream: PostgresEventStream, numbers: list[int], per_tx: int, keys: Sequence[str], log: PublishLog
) -> None:
    for start in range(0, len(numbers), per_tx):
        await publish_chunk(stream, numbers[start : start + per_tx], keys, log)


async def publish_all(stream: PostgresEventStream, opts: Options, per_tx: int, log: PublishLog) -> None:
    rng = random.Random(opts.seed)
    keys = [f"call-{rng.randrange(opts.keys)}" for _ in range(opts.events)]
    shares = [list(range(p, opts.events, opts.publishers)) for p in range(opts.publishers)]
    log.started = time.perf_counter()
    await asyncio.gather(*(publisher(stream, share, per_tx, keys, log) for share in shares))
    log.finished = time.perf_counter()


# --- one scenario ----------------------------------------------------------------------------------


async def run_scenario(stream: PostgresEventStream, opts: Options, scenario: Scenario) -> dict[str, Any]:
    async with stream.sessions() as session, session.begin():
        await session.execute(_RESET)
    publish = PublishLog(opts.events)
    logs = [GroupLog(publish) for _ in range(scenario.groups)]
    handlers = [log.handler(scenario.handler_sql) for log in logs]
    runners = [
        stream.consumer(f"bench-{i}", [STREAM], h, batch_size=opts.batch_size) for i, h in enumerate(handlers)
    ]
    if scenario.mode == "backlog":
        await publish_all(stream, opts, scenario.per_tx, publish)
    consume_start = time.perf_counter()
    tasks = [asyncio.create_task(runner.run(), name=runner.name) for runner in runners]
    try:
        if scenario.mode == "live":
            await asyncio.sleep(0.2)  # let the consumers go idle, waiting for a wake-up
            await publish_all(stream, opts, scenario.per_tx, publish)
            consume_start = publish.started
        timed_out = not await wait_complete(logs, opts.timeout)
    finally:
        for runner in runners:
            runner.stop()
        await asyncio.gather(*tasks)
    result = summarise(scenario, publish, logs, consume_start, timed_out)
    if not result["ok"]:
        result["diagnosis"] = await diagnose(stream.sessions, logs)
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
    scenario: Scenario, publish: PublishLog, logs: Sequence[GroupLog], consume_start: float, timed_out: bool
) -> dict[str, Any]:
    checks = [log.check() for log in logs]
    delivered = all(not (c["missing"] or c["duplicates"] or c["out_of_order"]) for c in checks)
    result: dict[str, Any] = {
        "scenario": scenario.name,
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


# --- database and machine --------------------------------------------------------------------------


def scenarios(opts: Options) -> list[Scenario]:
    live = [Scenario("live", g, n) for n in opts.per_tx for g in opts.groups]
    if not opts.backlog:
        return live
    backlog = [Scenario("backlog", g, max(opts.per_tx)) for g in opts.groups]
    with_sql = [Scenario("backlog", 1, max(opts.per_tx), opts.handler_sql)] if opts.handler_sql else []
    return live + backlog + with_sql


async def run_all(opts: Options, url: str) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, ServiceSettings(database_url=url).database_url)
    pool = min(opts.publishers + max(opts.groups) + 2, 200)
    settings = ServiceSettings(database_url=url, database_pool_size=pool)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    stream = PostgresEventStream(sessions, settings.database_url, poll_interval=opts.poll_interval)
    await stream.start()
    try:
        await asyncio.wait_for(stream.listener.connected.wait(), 10)
        results = [await run_scenario(stream, opts, scenario) for scenario in scenarios(opts)]
        return {"machine": await machine_info(engine), "scenarios": results}
    finally:
        await stream.close()
        await engine.dispose()


async def machine_info(engine: AsyncEngine) -> dict[str, Any]:
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
    }


async def bench(opts: Options) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # so the cleanup runs
    async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
        return {"database": redact_url(url), **await run_all(opts, url)}


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
    p.add_argument("--timeout", type=float, default=30.0, help="max wait for the consumers, s (default 30)")
    p.add_argument("--seed", type=int, default=1, help="seed of the key choice (default 1)")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON result (default {RESULTS})")
    return Options(**vars(p.parse_args(argv)))


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def print_table(results: Sequence[dict[str, Any]]) -> None:
    header: tuple[str, ...] = ("scenario", "pub ev/s", "tx/s", "retry", "gave up", "con ev/s/grp")
    header += ("deliv/s", "lat p50", "p99", "max", "commit p50", "p99", "max")
    rows = [header] + [_row(result) for result in results]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(cells)))
    for failed in (result for result in results if not result["ok"]):
        detail = {"timed_out": failed["timed_out"], "gave_up": failed["publish"]["gave_up_events"]}
        print(f"FAILED {failed['scenario']}: {detail} groups={failed['groups_detail']}")


def _row(result: dict[str, Any]) -> tuple[Any, ...]:
    pub, con = result["publish"], result["consume"]
    lat, com = result.get("latency_ms", {}), result.get("commit_to_handler_ms", {})
    return (
        result["scenario"] + ("" if result["ok"] else "  FAILED"),
        pub["events_per_s"],
        pub["transactions_per_s"],
        pub["retries"],
        pub["gave_up_events"],
        con["events_per_s_per_group"],
        con["deliveries_per_s"],
        *(lat.get(q, "-") for q in ("p50", "p99", "max")),
        *(com.get(q, "-") for q in ("p50", "p99", "max")),
    )


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
        "parameters": {k: v for k, v in vars(opts).items() if k not in ("database_url", "output")},
        **measured,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report["scenarios"])
    print(f"{report['elapsed_s']} s; written to {opts.output}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
