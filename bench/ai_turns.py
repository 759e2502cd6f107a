"""Benchmark of AI conversations over the local Asterisk with the offline stack (Silero VAD, Whisper tiny.en,
the dialogue policy, espeak-ng): how fast the agent answers, how fast it stops when interrupted, and how
many conversations one ai-agent process holds.

    uv run python bench/ai_turns.py [--calls 2] [--levels 1,2,4] [--barge-ins 3]

The four services run as separate processes (``python -m gateway|dialer|ari_bridge|ai_agent``) on free
ports and a throwaway database (created, migrated and dropped as in bench/gateway_calls.py); the local
Asterisk is started for the run if it was stopped. Calls go through the gateway like a client's.

1. turn latency: ``--calls`` calls, one after the other, to +12025550110 (a person who wants a meeting).
   Each agent turn that answers the person stores its stages (``conversation_turns.timings``): end of the
   person's speech → end-of-turn decided (the end-of-turn silence) → speech to text final → first model
   token → first speech byte → first audio frame sent. Reported: end of speech → first audio p50/p95, each
   stage's p50, and the pipeline's own overhead: end of speech → first audio minus the end-of-turn silence
   and the time spent waiting on the models (speech to text after the decision, the model, the speech
   synthesis);
2. concurrency: for each level of ``--levels``, that many calls at once; the end-to-end p95 per level, and
   the highest level whose p95 stays under twice the one-call p95;
3. barge-in: ``--barge-ins`` calls to +12025550113 (a person who talks over the agent's opening); the time
   from the person starting to speak to the agent's audio stopping, measured on the audio the person's
   line sent and heard (Asterisk records both on that line).

Figures go to ``bench/results/ai_turns.json`` and a table is printed (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from ari_origination import asterisk_for_the_run  # type: ignore[import-not-found]  # a sibling script
from gateway_calls import started  # type: ignore[import-not-found]

from ai_agent.audio.lines import first_loud, first_quiet, loudness
from dialplane.db import create_engine, create_session_factory, redact_url, transaction
from dialplane.migrate import upgrade
from dialplane.settings import ServiceSettings
from dialplane.testing.database import scratch_database
from dialplane.testing.http import free_port
from gateway.users import service as users

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
REPOSITORY = Path(__file__).resolve().parent.parent
OWN_PREFIXES = ("DIALPLANE_", "GATEWAY_", "DIALER_", "ARI_BRIDGE_", "AI_AGENT_")
SERVICES = ("dialer", "ari_bridge", "ai_agent", "gateway")
MEETING_PERSON, BARGING_PERSON = "+12025550110", "+12025550113"
LEAD = {"name": "Jane Doe", "email": "jane.doe@example.com", "timezone": "America/New_York"}
FINAL = {"completed", "busy", "no_answer", "failed", "canceled"}
USER, PASSWORD = "bench", "a long bench password"
EVERY_DAY = {day: ["08:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass(frozen=True)
class Options:
    database_url: str
    output: Path
    calls: int
    levels: list[int]
    barge_ins: int
    ari_url: str
    log_level: str


# --- the stack ---------------------------------------------------------------------------------------------


def environment(opts: Options, database_url: str, ports: dict[str, int]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    calendar = [{"name": "default", "time_zone": "America/New_York", "working_hours": EVERY_DAY}]
    return inherited | {
        "DIALPLANE_ENVIRONMENT": "development",  # the local Asterisk has the development credentials
        "DIALPLANE_DATABASE_URL": database_url,
        "DIALPLANE_LOG_LEVEL": opts.log_level,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "GATEWAY_DIALER_URL": f"http://127.0.0.1:{ports['dialer']}",
        "GATEWAY_AI_AGENT_URL": f"http://127.0.0.1:{ports['ai_agent']}",
        "GATEWAY_USER_RATE_LIMIT_PER_MINUTE": str(10**9),
        "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": "+120255501",
        "AI_AGENT_CALENDARS": json.dumps(calendar),
    }


@contextlib.asynccontextmanager
async def stack(opts: Options, database_url: str, logs: Path) -> AsyncIterator[dict[str, str]]:
    ports = {name: free_port() for name in SERVICES}
    env = environment(opts, database_url, ports)
    async with contextlib.AsyncExitStack() as services:
        running = [await services.enter_async_context(started(n, env, logs / f"{n}.log")) for n in SERVICES]
        yield {service.name: service.url for service in running}


async def prepared_database(url: str) -> str:
    """Migrate, add the benchmark's user; the URL as the services take it."""
    await asyncio.to_thread(upgrade, url)
    settings = ServiceSettings(database_url=url)
    engine = create_engine(settings, pool_size=1, max_overflow=0)
    try:
        async with transaction(create_session_factory(engine)) as session:
            await users.create_user(session, USER, PASSWORD, ["calls:read", "calls:write"])
    finally:
        await engine.dispose()
    return settings.database_url


# --- calls -------------------------------------------------------------------------------------------------


class Client:
    def __init__(self, http: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.http, self.auth = http, auth

    async def call(self, to: str) -> str:
        created = await self.http.post(
            "/api/v1/calls", headers=self.auth, json={"to": to, "agent": {"lead": LEAD}}
        )
        created.raise_for_status()
        return str(created.json()["id"])

    async def ended(self, call_id: str, within: float = 240.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            call: dict[str, Any] = (await self.http.get(f"/api/v1/calls/{call_id}", headers=self.auth)).json()
            if call["status"] in FINAL and (call["outcome"] or call["status"] != "completed"):
                return call
            await asyncio.sleep(0.5)
        raise TimeoutError(f"call {call_id} did not end within {within} s")

    async def timings(self, call_id: str) -> list[dict[str, float]]:
        """The stages of each agent turn that answered the person."""
        answer = await self.http.get(f"/api/v1/calls/{call_id}/conversation", headers=self.auth)
        answer.raise_for_status()
        turns = answer.json()["turns"]
        return [
            t["timings"]
            for t in turns
            if t["speaker"] == "agent" and "end_of_speech_to_first_audio_ms" in t["timings"]
        ]


async def conversations(client: Client, count: int) -> list[dict[str, float]]:
    call_ids = [await client.call(MEETING_PERSON) for _ in range(count)]
    ended = await asyncio.gather(*(client.ended(call_id) for call_id in call_ids), return_exceptions=True)
    if stuck := [call_id for call_id, end in zip(call_ids, ended, strict=True) if isinstance(end, Exception)]:
        print(f"calls that did not end in time: {stuck}", file=sys.stderr)
    return [timing for call_id in call_ids for timing in await client.timings(call_id)]


async def barge_in(client: Client, ari: httpx.AsyncClient) -> float:
    before = {r["name"] for r in (await ari.get("/recordings/stored")).json()}
    await client.ended(await client.call(BARGING_PERSON))
    after = {r["name"] for r in (await ari.get("/recordings/stored")).json()}
    [take] = {name.removesuffix("-heard") for name in after - before if name.endswith("-heard")}
    sent = loudness((await ari.get(f"/recordings/stored/{take}-said/file")).content)
    heard = loudness((await ari.get(f"/recordings/stored/{take}-heard/file")).content)
    person_starts = first_loud(sent)
    for name in (take, f"{take}-said", f"{take}-heard"):
        await ari.delete(f"/recordings/stored/{name}")
    return float((first_quiet(heard, person_starts) - person_starts) * 10)


# --- figures -----------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def overhead_ms(timing: dict[str, float]) -> float | None:
    """End of speech → first audio, minus the end-of-turn silence and the waits on the models."""
    keys = (
        "end_of_speech_to_first_audio_ms",
        "end_of_speech_to_turn_decided_ms",
        "turn_decided_to_stt_final_ms",
        "stt_final_to_llm_first_token_ms",
        "llm_first_token_to_tts_first_byte_ms",
    )
    if not all(key in timing for key in keys):
        return None
    total, silence, stt, llm, tts = (timing[key] for key in keys)
    return total - silence - max(0.0, stt) - llm - tts


def summary(timings: Sequence[dict[str, float]]) -> dict[str, Any]:
    def values(key: str) -> list[float]:
        return [t[key] for t in timings if key in t]

    e2e = values("end_of_speech_to_first_audio_ms")
    overheads = [o for o in map(overhead_ms, timings) if o is not None]
    stages = (
        "end_of_speech_to_turn_decided_ms",
        "turn_decided_to_stt_final_ms",
        "stt_final_to_llm_first_token_ms",
        "llm_first_token_to_tts_first_byte_ms",
        "tts_first_byte_to_first_audio_ms",
    )
    return {
        "turns": len(e2e),
        "end_of_speech_to_first_audio_ms": {"p50": percentile(e2e, 0.5), "p95": percentile(e2e, 0.95)},
        "stages_p50_ms": {stage.removesuffix("_ms"): percentile(values(stage), 0.5) for stage in stages},
        "overhead_ms": {"p50": percentile(overheads, 0.5), "p95": percentile(overheads, 0.95)},
    }


async def run_all(opts: Options, url: str) -> dict[str, Any]:
    url = await prepared_database(url)
    logs = REPOSITORY / ".run" / "bench-ai-turns"
    logs.mkdir(parents=True, exist_ok=True)
    async with (
        stack(opts, url, logs) as urls,
        httpx.AsyncClient(base_url=urls["gateway"], timeout=30) as http,
        httpx.AsyncClient(base_url=opts.ari_url, auth=("dialplane", "dialplane"), timeout=30) as ari,
    ):
        token = await http.post("/api/v1/token", data={"username": USER, "password": PASSWORD})
        client = Client(http, {"Authorization": f"Bearer {token.json()['access_token']}"})
        single: list[dict[str, float]] = []
        for _ in range(opts.calls):
            single += await conversations(client, 1)
        levels = {level: summary(await conversations(client, level)) for level in opts.levels}
        stops = [await barge_in(client, ari) for _ in range(opts.barge_ins)]
    baseline = summary(single)["end_of_speech_to_first_audio_ms"]["p95"] or 0.0
    held = [
        lvl
        for lvl, s in levels.items()
        if (s["end_of_speech_to_first_audio_ms"]["p95"] or 1e9) < 2 * baseline
    ]
    return {
        "single_calls": summary(single),
        "levels": levels,
        "concurrent_calls_before_p95_doubles": max(held, default=0),
        "barge_in_stop_ms": {"each": stops, "p50": percentile(stops, 0.5), "max": max(stops, default=None)},
    }


def print_table(report: dict[str, Any]) -> None:
    single = report["single_calls"]
    e2e = single["end_of_speech_to_first_audio_ms"]
    print(
        f"one call at a time: {single['turns']} turns, end of speech → first audio "
        f"p50 {e2e['p50']} ms, p95 {e2e['p95']} ms; overhead p95 {single['overhead_ms']['p95']} ms"
    )
    for stage, value in single["stages_p50_ms"].items():
        print(f"  {stage:45} p50 {value} ms")
    for level, figures in report["levels"].items():
        e2e = figures["end_of_speech_to_first_audio_ms"]
        print(f"{level:>2} at once: {figures['turns']:>3} turns, p50 {e2e['p50']} ms, p95 {e2e['p95']} ms")
    print(f"held before p95 doubles: {report['concurrent_calls_before_p95_doubles']} calls")
    print(f"barge-in stop (on the audio): {report['barge_in_stop_ms']['each']} ms")


def parse_args(argv: Sequence[str]) -> Options:
    env_url = os.environ.get("DIALPLANE_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=env_url)
    p.add_argument("--output", type=Path, default=REPOSITORY / "bench" / "results" / "ai_turns.json")
    p.add_argument("--calls", type=int, default=2, help="one-at-a-time calls for the turn latency")
    p.add_argument("--levels", default="1,2,4", help="concurrent calls per level")
    p.add_argument("--barge-ins", type=int, default=3)
    p.add_argument("--ari-url", default="http://127.0.0.1:8088/ari")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",") if level.strip()]
    return Options(
        args.database_url, args.output, args.calls, levels, args.barge_ins, args.ari_url, args.log_level
    )


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    began = time.perf_counter()
    opts.output.parent.mkdir(parents=True, exist_ok=True)

    async def bench() -> dict[str, Any]:
        async with scratch_database(opts.database_url, prefix="dialplane_bench") as url:
            return {"database": redact_url(url), **await run_all(opts, url)}

    try:
        with asterisk_for_the_run():
            measured = asyncio.run(bench())
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    report = {
        "benchmark": "ai_turns",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "parameters": {"calls": opts.calls, "levels": opts.levels, "barge_ins": opts.barge_ins},
        **measured,
    }
    opts.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"{report['elapsed_s']} s; written to {opts.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
