"""deploy/prometheus: promtool accepts the configuration and the rules, the rule unit tests pass, every alert
links a runbook section that exists, and a real Prometheus scrapes the four services and Asterisk, evaluates
every rule without error and records the call KPIs of real calls."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from local_prometheus import local_config

from ari_bridge.calls import repository
from ari_bridge.testing import hangup_command, originate_command
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import NewCommand, PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import free_port
from dialplane.testing.processes import ServiceProcess

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RUNBOOKS = REPO / "docs" / "runbooks.md"
TRUNK = "test-carrier"


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=60, check=False)


def assert_succeeds(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)}:\n{result.stdout}\n{result.stderr}"


def rule_groups() -> list[dict[str, Any]]:
    return [group for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]]


def test_promtool_accepts_the_configuration_and_the_rule_files_it_loads(promtool: str) -> None:
    result = run(promtool, "check", "config", CONFIG)
    assert_succeeds(result)
    assert "2 rule files found" in result.stdout  # rules/*.yml resolved next to the configuration


def test_promtool_accepts_the_rules(promtool: str) -> None:
    assert {path.name for path in RULE_FILES} == {"alerts.yml", "recording.yml"}
    assert_succeeds(run(promtool, "check", "rules", *RULE_FILES))


def test_the_rule_unit_tests_pass(promtool: str) -> None:
    tests = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
    assert tests, "deploy/prometheus/tests/ holds no rule unit tests"
    assert_succeeds(run(promtool, "test", "rules", *tests))


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_explains_itself_and_links_an_existing_runbook_section() -> None:
    headings = re.findall(r"^#+ (.+)$", RUNBOOKS.read_text(), flags=re.MULTILINE)
    anchors = {github_anchor(heading) for heading in headings}
    alerts = [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]
    assert len(alerts) >= 7
    for alert in alerts:
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], alert["alert"]
        path, _, anchor = annotations["runbook"].partition("#")
        assert path == "docs/runbooks.md", alert["alert"]
        assert anchor in anchors, f"{alert['alert']}: no section #{anchor} in docs/runbooks.md"


def every_second(targets: dict[str, str]) -> dict[str, Any]:
    """The local stack's configuration (scripts/local_prometheus.py), scraping and evaluating every second."""
    config = local_config(targets, interval="1s")
    for job in config["scrape_configs"]:
        if job["job_name"] == "asterisk":  # res_prometheus is slow while Asterisk carries many channels
            job |= {"scrape_interval": "3s", "scrape_timeout": "3s"}
    return config


@contextlib.asynccontextmanager
async def running_prometheus(
    binary: str, config: dict[str, Any], workdir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Prometheus on a free port of 127.0.0.1 with ``config``; a client of its HTTP API."""
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            await poll(lambda: ready(client, process), within=30, what=f"Prometheus ready ({workdir})")
            yield client
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        log.close()


async def ready(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> bool:
    assert process.returncode is None, "Prometheus exited (its log is prometheus.log in the test's tmp)"
    try:
        return (await client.get("/-/ready")).status_code == 200
    except httpx.TransportError:
        return False


async def poll(check: Any, *, within: float, what: str) -> None:
    """Until ``await check()`` is true; fails the test after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while not await check():
                await asyncio.sleep(0.25)
    except TimeoutError:
        pytest.fail(f"not within {within:g} s: {what}")


async def api(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    answer = await client.get(f"/api/v1/{path}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


@pytest_asyncio.fixture(scope="module")
async def prometheus(
    prometheus_binary: str,
    services: dict[str, ServiceProcess],
    asterisk: AsteriskInfo,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    targets = {name: proc.address for name, proc in services.items()}
    targets["asterisk"] = f"127.0.0.1:{asterisk.http_port}"
    config = every_second(targets)
    async with running_prometheus(prometheus_binary, config, tmp_path_factory.mktemp("prometheus")) as client:
        yield client


async def target_health(client: httpx.AsyncClient) -> dict[str, tuple[str, str]]:
    """Health and last scrape error of each job's target."""
    active = (await api(client, "targets", state="active"))["activeTargets"]
    return {target["labels"]["job"]: (target["health"], target["lastError"]) for target in active}


async def wait_all_up(client: httpx.AsyncClient, jobs: set[str]) -> None:
    async def all_up() -> bool:
        return await target_health(client) == dict.fromkeys(jobs, ("up", ""))

    try:
        await poll(all_up, within=30, what="every target up")
    except pytest.fail.Exception:
        pytest.fail(f"not every target up within 30 s: {await target_health(client)}")


@pytest.mark.asterisk
async def test_prometheus_scrapes_every_part_and_evaluates_every_rule(prometheus: httpx.AsyncClient) -> None:
    jobs = {job["job_name"] for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    assert jobs == {"gateway", "dialer", "ari-bridge", "ai-agent", "asterisk"}

    await wait_all_up(prometheus, jobs)

    async def evaluated() -> bool:
        groups = (await api(prometheus, "rules"))["groups"]
        return all(rule["health"] != "unknown" for group in groups for rule in group["rules"])

    await poll(evaluated, within=10, what="every rule evaluated once")
    loaded = {(g["file"], g["name"]): g["rules"] for g in (await api(prometheus, "rules"))["groups"]}
    expected = {
        (str(path), g["name"]) for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"]
    }
    assert set(loaded) == expected
    failures = {
        r["name"]: r.get("lastError") for rules in loaded.values() for r in rules if r["health"] != "ok"
    }
    assert failures == {}


async def send(sessions: SessionFactory, stream: PostgresEventStream, *commands: NewCommand) -> None:
    async with transaction(sessions) as session:
        await stream.send(session, *commands)


async def wait_status(sessions: SessionFactory, call_id: str, *statuses: CallStatus) -> None:
    async def reached() -> bool:
        async with transaction(sessions) as session:
            call = await repository.get(session, call_id)
        return call is not None and call.status in statuses

    await poll(reached, within=30, what=f"call {call_id} {', '.join(statuses)}")


async def place_two_answered_calls(sessions: SessionFactory, stream: PostgresEventStream) -> None:
    """Two answered calls, ended a few scrapes apart (a counter's first sample gives no rate): one that
    stays up until hung up, and one the test carrier ends after 3 s while the first is up."""
    held, short = str(uuid.uuid4()), str(uuid.uuid4())
    await send(sessions, stream, originate_command(held, "+12025550104"))  # answers, holds 10 minutes
    await wait_status(sessions, held, CallStatus.ANSWERED)
    await asyncio.sleep(2.5)
    await send(sessions, stream, originate_command(short, "+12025550100"))  # answers, hangs up after 3 s
    await wait_status(sessions, short, CallStatus.COMPLETED)
    await asyncio.sleep(2.5)
    await send(sessions, stream, hangup_command(held))
    await wait_status(sessions, held, CallStatus.COMPLETED)


async def samples(client: httpx.AsyncClient, query: str) -> dict[str, float]:
    """Instant vector of ``query``: value by the series' labels (without the name), as text."""
    result = (await api(client, "query", query=query))["result"]
    return {
        ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items()) if k != "__name__"): float(s["value"][1])
        for s in result
    }


@pytest.mark.asterisk
async def test_the_call_kpis_are_recorded_from_real_calls(
    prometheus: httpx.AsyncClient,
    services: dict[str, ServiceProcess],
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
) -> None:
    await wait_all_up(prometheus, set(services) | {"asterisk"})  # counters need a sample before the calls
    bridge = services["ari-bridge"]
    async with httpx.AsyncClient() as client:
        await poll(lambda: is_ready(client, bridge), within=15, what="the bridge connected to Asterisk")
    await place_two_answered_calls(sessions, event_stream)
    asr = f'trunk:dialplane_call_answer_seizure:ratio_rate5m{{trunk="{TRUNK}"}}'

    async def recorded() -> bool:
        return bool(await samples(prometheus, asr))

    await poll(recorded, within=15, what=f"a sample of {asr}")
    assert await samples(prometheus, asr) == {f"trunk={TRUNK}": 1.0}
    duration = await samples(prometheus, "trunk:dialplane_call_duration_seconds:mean_rate5m")
    assert 3.0 < duration[f"trunk={TRUNK}"] < 30.0  # the held call: from its answer to the hang-up
    failed = await samples(prometheus, "node_trunk:dialplane_ari_originations_failed:ratio_rate5m")
    assert failed == {f"node=local,trunk={TRUNK}": 0.0}
    finals = await samples(prometheus, "trunk_status:dialplane_call_final:rate5m")
    assert finals[f"status=completed,trunk={TRUNK}"] > 0
    delay = await samples(prometheus, "trunk_until:dialplane_ari_post_dial_delay_seconds:p95_rate5m")
    assert 0 < delay[f"trunk={TRUNK},until=answered"] < 2.0
    causes = await samples(prometheus, "sum by (cause) (dialplane_call_hangup_causes_total)")
    assert sum(causes.values()) == 2


async def is_ready(client: httpx.AsyncClient, service: ServiceProcess) -> bool:
    return (await client.get(f"{service.url}/ready")).status_code == 200
