"""Benchmark of the campaign dialer: a campaign of 2,000 leads to answering test numbers at a configured rate.

    uv run python bench/campaign.py [--leads N] [--rate R] [--max-concurrent C] [--agents A]

Runs the real path on the local Asterisk (``asterisk/local.sh``: started for the run and stopped again if it
was stopped) and a throwaway PostgreSQL database ``dialplane_bench_<random>`` (migrated, dropped at the end,
even on failure): the dialer, the ari-bridge and the ai-agent (offline stack) as separate processes.

1. ``import``: N leads (+12025552000 upwards: the test carrier answers them, 3 s of silence, hangs up) as a
   CSV file through the dialer's ``POST /api/v1/leads/import`` into a new campaign; timed until the job is
   ``completed``.
2. ``campaign``: started with ``calls_per_second`` R and ``max_concurrent_calls`` C, the ai-agent holding up
   to A conversations; timed until the campaign is ``completed`` (every lead final). Achieved calls per
   second against R, how far each call was behind its slot (first call + i / R), the dialer's pacing cost per
   dial (its CPU from /proc, and its ``dialplane_dialer_campaign_pace_seconds``), agent connect times and
   abandoned calls.

Every lead must be called exactly once (retries are off; the abandon limit too, so abandoned calls are
counted rather than pausing the campaign) and the campaign must complete, or the script exits 1. Figures
go to ``bench/results/campaign.json`` and a table is printed (bench/README.md says what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text

from dialplane.db import SessionFactory, create_engine, create_session_factory, redact_url, transaction
from dialplane.internal_auth import Principal
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import TEST_INTERNAL_TOKEN, scratch_database
from dialplane.testing.http import SignedPrincipal, free_port
from dialplane.testing.processes import ServiceProcess, service_process

if TYPE_CHECKING:  # mypy reads bench/ as a package; run as a script, bench/ itself is on sys.path
    from bench.ari_origination import asterisk_for_the_run, source_state
else:
    from ari_origination import asterisk_for_the_run, source_state
from dialplane.testing.measure import (
    Meter,
    Sample,
    delta,
    histogram,
    latency_ms,
    memory_mb,
    parse_metrics,
)

RESULTS = Path(__file__).parent / "results" / "campaign.json"
DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
FIRST_NUMBER = 12025552000  # +12025552000 ... +12025553999 answer, stay 3 s, hang up
RETRIED = ("busy", "no_answer", "failed", "voicemail", "abandoned")  # one attempt each: every lead ends final
SCOPES = frozenset({"leads:read", "leads:write", "campaigns:read", "campaigns:write", "calls:read"})
_CALLS = text(
    "SELECT created_at, dialed_at, answered_at, ended_at, status, abandoned FROM calls"
    " WHERE campaign_id = :c ORDER BY created_at, id"
)
_IN_FLIGHT = text("SELECT count(*) FROM calls WHERE campaign_id = :c AND ended_at IS NULL")
_LEADS = text("SELECT status, count(*), max(attempts) FROM campaign_leads WHERE campaign_id = :c GROUP BY 1")


@dataclass(frozen=True)
class Options:
    database_url: str
    ari_url: str
    ari_user: str
    ari_password: str
    leads: int
    rate: float
    max_concurrent: int
    agents: int
    timeout: float
    output: Path


def environment(opts: Options, database_url: str) -> dict[str, str]:
    """What every service gets; inherited Dialplane variables are left out (no ``.env`` either)."""
    prefixes = ("DIALPLANE_", "DIALER_", "ARI_BRIDGE_", "AI_AGENT_", "GATEWAY_")
    node = {"name": "local", "ari_url": opts.ari_url, "app": f"bench-{secrets.token_hex(4)}"}
    node |= {"username": opts.ari_user, "password": opts.ari_password}
    trunk = {"name": "test-carrier", "dial_string": "Local/{number}@test-carrier"}
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)} | {
        "DIALPLANE_ENVIRONMENT": "development",
        "DIALPLANE_DATABASE_URL": database_url,
        "DIALPLANE_INTERNAL_TOKEN": TEST_INTERNAL_TOKEN,
        "DIALPLANE_LOG_LEVEL": "WARNING",
        "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": "+1202555",
        "ARI_BRIDGE_NODES": json.dumps([node | {"max_channels": 4 * opts.max_concurrent}]),
        "ARI_BRIDGE_TRUNKS": json.dumps([trunk | {"max_concurrent": opts.max_concurrent, "max_cps": 100}]),
        "AI_AGENT_MAX_CONVERSATIONS": str(opts.agents),
    }


@contextlib.asynccontextmanager
async def service(name: str, env: dict[str, str], log_dir: Path) -> AsyncIterator[ServiceProcess]:
    """``python -m <module>`` in an empty directory (no ``.env``), once ``/ready``; SIGTERM at the end."""
    port = free_port()
    env = env | {name.upper().replace("-", "_") + "_PORT": str(port)}
    log = log_dir / f"campaign.{name}.log"
    with tempfile.TemporaryDirectory() as cwd:
        async with service_process(
            name, name.replace("-", "_"), env, log, port, within=120, cwd=Path(cwd)
        ) as s:
            yield s


async def metrics_of(running: ServiceProcess, http: httpx.AsyncClient) -> list[Sample]:
    return parse_metrics((await http.get(f"{running.url}/metrics")).text)


# --- the run ----------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    opts: Options
    sessions: SessionFactory
    dialer: ServiceProcess
    bridge: ServiceProcess
    api: httpx.AsyncClient  # the dialer's API, as the gateway calls it
    meter: Meter


def leads_csv(count: int) -> bytes:
    rows = ["phone,name,timezone,language,consent"]
    rows += [f"+{FIRST_NUMBER + i},Lead {i},America/New_York,en,yes" for i in range(count)]
    return ("\n".join(rows) + "\n").encode()


async def call_api(ctx: Ctx, method: str, path: str, expect: int, **kwargs: Any) -> Any:
    answer = await ctx.api.request(method, path, **kwargs)
    if answer.status_code != expect:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


async def create_campaign(ctx: Ctx) -> str:
    body = {
        "name": f"bench {ctx.opts.leads} leads at {ctx.opts.rate}/s",
        "schedule": {"start_time": "00:00", "end_time": "23:59:59"},
        "max_concurrent_calls": ctx.opts.max_concurrent,
        "calls_per_second": ctx.opts.rate,
        "ring_timeout_seconds": 15,
        "machine_detection": False,
        # abandoned calls are counted, not acted on: a campaign paused for them would stop the measurement
        "abandon_rate_limit": 1.0,
        "retry_policy": {result: {"delay_seconds": 0, "max_attempts": 1} for result in RETRIED},
    }
    return str((await call_api(ctx, "POST", "/api/v1/campaigns", 201, json=body))["id"])


async def import_leads(ctx: Ctx, campaign_id: str) -> dict[str, Any]:
    files = {"file": ("leads.csv", leads_csv(ctx.opts.leads), "text/csv")}
    started = time.perf_counter()
    job = await call_api(
        ctx, "POST", "/api/v1/leads/import", 202, files=files, data={"campaign_id": campaign_id}
    )
    while job["status"] not in ("completed", "failed"):
        await asyncio.sleep(0.05)
        job = await call_api(ctx, "GET", f"/api/v1/leads/imports/{job['id']}", 200)
    seconds = time.perf_counter() - started
    created = job["rows_created"]
    return {
        "ok": job["status"] == "completed" and created == ctx.opts.leads and job["rows_failed"] == 0,
        "rows_created": created,
        "seconds": round(seconds, 2),
        "rows_per_s": round(created / seconds, 1),
        "dialer_memory": memory_mb(ctx.dialer.pid),
    }


async def run_campaign(ctx: Ctx, campaign_id: str) -> dict[str, Any]:
    services = (ctx.dialer, ctx.bridge)
    before = [await metrics_of(s, ctx.api) for s in services]
    snapshot = ctx.meter.snapshot()
    started = time.perf_counter()
    await call_api(ctx, "POST", f"/api/v1/campaigns/{campaign_id}/start", 200)
    in_flight: list[int] = []
    deadline = time.monotonic() + ctx.opts.timeout
    while (campaign := await call_api(ctx, "GET", f"/api/v1/campaigns/{campaign_id}", 200))["status"] in (
        "running",
        "scheduled",
    ):
        if time.monotonic() > deadline:
            break
        async with transaction(ctx.sessions) as session:
            in_flight.append(int(await session.scalar(_IN_FLIGHT, {"c": campaign_id}) or 0))
        await asyncio.sleep(0.5)
    elapsed = time.perf_counter() - started
    cores = ctx.meter.cores(snapshot, ctx.meter.snapshot())
    after = [await metrics_of(s, ctx.api) for s in services]
    report = await call_api(ctx, "GET", f"/api/v1/campaigns/{campaign_id}/report", 200)
    return {
        "status": campaign["status"],
        "status_reason": campaign["status_reason"],
        "seconds": round(elapsed, 1),
        "in_flight": {"max": max(in_flight, default=0), "mean": round(statistics.fmean(in_flight or [0]), 1)},
        "cores": cores,
        "dialer": dialer_figures(before[0], after[0]),
        "bridge": {
            "agent_connect": histogram(before[1], after[1], "dialplane_ari_agent_connect_seconds"),
            "abandoned": sum(delta(before[1], after[1], "dialplane_ari_abandoned_calls_total").values()),
        },
        "report": {k: report["calls"].get(k) for k in ("attempts", "answered", "answer_rate", "abandoned")},
    }


def dialer_figures(before: Sequence[Sample], after: Sequence[Sample]) -> dict[str, Any]:
    """The runner's pacing transactions: how many, and their time per call placed."""
    name = "dialplane_dialer_campaign_pace_seconds"
    seconds = delta(before, after, f"{name}_sum", "outcome")
    rounds = delta(before, after, f"{name}_count", "outcome")
    dials = delta(before, after, "dialplane_dialer_campaign_dials_total", "result")
    placed = dials.get("placed", 0.0)
    return {
        "dials": dials,
        "pace_transactions": rounds,
        "pace_dialed": histogram(before, after, name, outcome="dialed"),
        "pace_idle": histogram(before, after, name, outcome="idle"),
        "pace_ms_per_dial": round(1000 * seconds.get("dialed", 0.0) / placed, 2) if placed else None,
        "pace_ms_all_rounds_per_dial": round(1000 * sum(seconds.values()) / placed, 2) if placed else None,
    }


async def call_figures(ctx: Ctx, campaign_id: str) -> dict[str, Any]:
    async with transaction(ctx.sessions) as session:
        rows = (await session.execute(_CALLS, {"c": campaign_id})).all()
        leads = {
            r[0]: {"leads": r[1], "max_attempts": r[2]}
            for r in await session.execute(_LEADS, {"c": campaign_id})
        }
    created = [row.created_at for row in rows]
    rate = ctx.opts.rate
    behind = [(at - created[0]).total_seconds() - i / rate for i, at in enumerate(created)] if created else []
    span = (created[-1] - created[0]).total_seconds() if len(created) > 1 else 0.0
    achieved = (len(created) - 1) / span if span else None
    return {
        "calls": len(rows),
        "statuses": _count(row.status for row in rows),
        "abandoned": sum(bool(row.abandoned) for row in rows),
        "leads": leads,
        "achieved_per_s": round(achieved, 3) if achieved else None,
        "achieved_over_configured": round(achieved / rate, 3) if achieved else None,
        "per_10s_window": windows(created),
        "behind_slot_s": _quantiles([max(0.0, b) for b in behind]),
        "queued_to_dialing_ms": latency_ms(
            [(r.dialed_at - r.created_at).total_seconds() for r in rows if r.dialed_at]
        ),
        "dialing_to_answered_ms": latency_ms(
            [(r.answered_at - r.dialed_at).total_seconds() for r in rows if r.answered_at and r.dialed_at]
        ),
    }


def windows(created: Sequence[dt.datetime]) -> dict[str, float]:
    """Calls queued per second in each full 10 s window after the first call (min, median, max)."""
    if len(created) < 2:
        return {}
    counts: dict[int, int] = {}
    for at in created:
        window = int((at - created[0]).total_seconds() // 10)
        counts[window] = counts.get(window, 0) + 1
    full = [counts.get(w, 0) / 10 for w in range(max(counts))]  # the last window is partial
    if not full:
        return {}
    return {"min": min(full), "median": statistics.median(full), "max": max(full), "windows": len(full)}


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        q: round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)
        for q, p in (("p50", 0.5), ("p99", 0.99))
    } | {"max": round(ordered[-1], 3)}


async def run_all(opts: Options, url: str, asterisk_pid: int | None) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, ServiceSettings(database_url=url).database_url)
    settings = ServiceSettings(database_url=url, database_pool_size=2)
    engine = create_engine(settings)
    env = environment(opts, settings.database_url)
    logs = opts.output.parent
    auth = SignedPrincipal(Principal(id="api_key:bench", kind="api_key", name="bench", scopes=SCOPES))
    try:
        async with (
            service("ari-bridge", env, logs) as bridge,
            service("ai-agent", env, logs) as agent,
            service("dialer", env, logs) as dialer,
            httpx.AsyncClient(base_url=dialer.url, auth=auth, timeout=30) as api,
        ):
            pids = {"dialer": dialer.pid, "bridge": bridge.pid, "agent": agent.pid}
            meter = Meter(pids | ({"asterisk": asterisk_pid} if asterisk_pid else {}))
            ctx = Ctx(opts, create_session_factory(engine), dialer, bridge, api, meter)
            campaign_id = await create_campaign(ctx)
            imported = await import_leads(ctx, campaign_id)
            campaign = await run_campaign(ctx, campaign_id)
            calls = await call_figures(ctx, campaign_id)
    finally:
        await engine.dispose()
    leads = calls["leads"].values()
    ok = (
        imported["ok"]
        and campaign["status"] == "completed"
        and calls["calls"] == opts.leads
        and sum(group["leads"] for group in leads) == opts.leads
        and all(group["max_attempts"] == 1 for group in leads)
    )
    return {"ok": ok, "import": imported, "campaign": campaign, "calls": calls}


async def bench(opts: Options, asterisk_pid: int | None) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # so the cleanup runs
    async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
        return {"database": redact_url(url), **await run_all(opts, url, asterisk_pid)}


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=env_url, help="server to create the bench database on")
    p.add_argument("--ari-url", default="http://127.0.0.1:8088/ari", help="ARI of the local Asterisk")
    p.add_argument("--ari-user", default=os.environ.get("ASTERISK_ARI_USERNAME", "dialplane"))
    p.add_argument("--ari-password", default=os.environ.get("ASTERISK_ARI_PASSWORD", "dialplane"))
    p.add_argument(
        "--leads", type=int, default=2000, help="leads of the campaign (default 2000, at most 2000)"
    )
    p.add_argument("--rate", type=float, default=5.0, help="the campaign's calls per second (default 5)")
    p.add_argument("--max-concurrent", type=int, default=40, help="the campaign's concurrent calls (40)")
    p.add_argument("--agents", type=int, default=40, help="conversations the ai-agent holds at once (40)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds the campaign may take (1800)")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if not 1 <= args.leads <= 2000:
        p.error("--leads: the test carrier answers 2,000 numbers (+12025552000 to +12025553999)")
    return Options(**{k.replace("-", "_"): v for k, v in vars(args).items()})


def print_table(report: dict[str, Any]) -> None:
    imported, campaign, calls = report["import"], report["campaign"], report["calls"]
    dialer = campaign["dialer"]
    rows = [
        (
            "import",
            f"{imported['rows_created']} rows in {imported['seconds']} s = {imported['rows_per_s']} rows/s",
        ),
        ("campaign", f"{campaign['status']} after {campaign['seconds']} s; {calls['calls']} calls"),
        (
            "rate",
            f"configured {report['parameters']['rate']}/s, achieved {calls['achieved_per_s']}/s"
            f" ({calls['achieved_over_configured']}); 10 s windows {calls['per_10s_window']}",
        ),
        ("behind slot s", str(calls["behind_slot_s"])),
        (
            "pacing per dial",
            f"{dialer['pace_ms_per_dial']} ms in dialing rounds,"
            f" {dialer['pace_ms_all_rounds_per_dial']} ms with idle rounds",
        ),
        ("dialer CPU per dial", f"{campaign['dialer_cpu_ms_per_dial']} ms"),
        ("in flight", str(campaign["in_flight"])),
        ("agent connect", str(campaign["bridge"]["agent_connect"])),
        ("abandoned", str(calls["abandoned"])),
        ("cores", str(campaign["cores"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    started = time.perf_counter()
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with asterisk_for_the_run() as asterisk:
            measured = asyncio.run(bench(opts, asterisk.pid))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted (the bench database, if made, was dropped)", file=sys.stderr)
        return 130
    campaign = measured["campaign"]
    dialer_seconds = campaign["cores"]["dialer"] * campaign["cores"]["seconds"]
    campaign["dialer_cpu_ms_per_dial"] = round(1000 * dialer_seconds / max(measured["calls"]["calls"], 1), 2)
    hidden = ("database_url", "ari_password", "output")
    report = {
        "benchmark": "campaign",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "parameters": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items() if k not in hidden
        },
        "source": source_state(),
        **measured,
    }
    opts.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_table(report)
    print(f"{report['elapsed_s']} s; written to {opts.output}" + ("" if report["ok"] else "\nFAILED"))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
