"""Pytest fixture ``sipp``: real SIP user agents (SIPp) behind the PJSIP test trunks of the local Asterisk.

asterisk/conf/pjsip.conf defines the trunks; their SIPp scenarios are in asterisk/sipp/:

- ``sipp-answer`` (127.0.0.1:5070, ``uas-answer.xml``): 100, 180, 200 OK with PCMU; echoes RTP back; stays up
  until Asterisk sends BYE (SIPp hangs up by itself after 60 s).
- ``sipp-busy`` (127.0.0.1:5071, ``uas-busy.xml``): 100, 486 Busy Here.

Dial them as ``PJSIP/{number}@sipp-answer``: the number is the user part of the INVITE's Request-URI.
SIPp (Debian package ``sip-tester``) is installed with apt-get if missing. Each user agent is a child process
for the whole session; its output, errors and SIP messages go to files in a pytest temporary directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialplane.testing.asterisk import AsteriskInfo, repository_root

__all__ = ["SippTrunks", "sipp"]

SIPP_HOST = "127.0.0.1"
SIPP_ANSWER_PORT = 5070  # as in asterisk/conf/pjsip.conf
SIPP_BUSY_PORT = 5071
SIPP_ANSWER_MEDIA_PORT = 6070  # RTP echo; SIPp binds this port and the next but one
SIPP_BUSY_MEDIA_PORT = 6080
MAX_CALLS = 1_000_000  # SIPp exits after this many calls
READY_TIMEOUT_SECONDS = 10
STOP_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class SippTrunks:
    """PJSIP endpoints to dial (``PJSIP/{number}@{endpoint}``) and the SIPp log files behind them."""

    answer_endpoint: str
    busy_endpoint: str
    answer_log: Path  # SIPp's output; unexpected messages go to *-errors.log next to it
    busy_log: Path
    answer_messages: Path  # every SIP message sent and received
    busy_messages: Path


@dataclass(frozen=True)
class UserAgent:
    """One SIPp UAS: its PJSIP endpoint, scenario and ports, and where its logs go."""

    endpoint: str
    scenario: str
    port: int
    media_port: int
    directory: Path

    @property
    def log(self) -> Path:
        return self.directory / f"{self.endpoint}.log"

    @property
    def errors(self) -> Path:
        return self.directory / f"{self.endpoint}-errors.log"

    @property
    def messages(self) -> Path:
        return self.directory / f"{self.endpoint}-messages.log"

    def command(self, executable: str) -> list[str]:
        scenario = repository_root() / "asterisk" / "sipp" / self.scenario
        return [
            executable, "-sf", str(scenario), "-m", str(MAX_CALLS), "-nostdin",
            "-i", SIPP_HOST, "-bind_local", "-p", str(self.port), "-ci", SIPP_HOST,
            "-mi", SIPP_HOST, "-mp", str(self.media_port), "-rtp_echo",
            "-trace_err", "-error_file", str(self.errors),
            "-trace_msg", "-message_file", str(self.messages),
        ]  # fmt: skip


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)  # noqa: S603


def ensure_sipp_installed() -> str:
    """The ``sipp`` executable; installs Debian's ``sip-tester`` first if it is missing."""
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "sip-tester"]
    if shutil.which("sipp") is None and run(install).returncode != 0:
        run(["apt-get", "update", "-q"])
        result = run(install)
        if result.returncode != 0:
            pytest.fail(f"cannot install sip-tester (SIPp):\n{result.stdout}\n{result.stderr}", pytrace=False)
    if (found := shutil.which("sipp")) is None:
        pytest.fail("sip-tester is installed but sipp is not on PATH", pytrace=False)
    return found


def asterisk_cli(command: str) -> str:
    return run([str(repository_root() / "asterisk" / "local.sh"), "cli", command]).stdout


def asterisk_has_trunks(agents: list[UserAgent]) -> bool:
    aors = asterisk_cli("pjsip show aors")
    return all(f"{agent.endpoint}/sip:{SIPP_HOST}:{agent.port} " in aors for agent in agents)


def ensure_asterisk_has_trunks(agents: list[UserAgent]) -> None:
    """An Asterisk that was already running may have an older pjsip.conf: reload it once if its contacts for
    the trunks are missing or differ."""
    if asterisk_has_trunks(agents):
        return
    result = run([str(repository_root() / "asterisk" / "local.sh"), "reload"])
    if result.returncode != 0 or not asterisk_has_trunks(agents):
        message = f"Asterisk has no SIPp trunks after a reload:\n{result.stdout}\n{result.stderr}"
        pytest.fail(message, pytrace=False)


def udp_port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((SIPP_HOST, port))
        except OSError:
            return True
    return False


def start(agent: UserAgent, executable: str) -> subprocess.Popen[bytes]:
    """Start SIPp and wait until it listens on its port."""
    if udp_port_taken(agent.port):
        pytest.fail(f"UDP {SIPP_HOST}:{agent.port} is already in use (see `ss -lunp`)", pytrace=False)
    with agent.log.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 -- sipp from PATH, our scenario files
            agent.command(executable),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=agent.directory,
        )
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not udp_port_taken(agent.port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"SIPp for {agent.endpoint} did not start:\n{agent.log.read_text()}", pytrace=False)
        time.sleep(0.05)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def sipp(asterisk: AsteriskInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SippTrunks]:
    """Two SIPp user agents for the session, and an Asterisk that has the trunks to them."""
    directory = tmp_path_factory.mktemp("sipp")
    answer = UserAgent("sipp-answer", "uas-answer.xml", SIPP_ANSWER_PORT, SIPP_ANSWER_MEDIA_PORT, directory)
    busy = UserAgent("sipp-busy", "uas-busy.xml", SIPP_BUSY_PORT, SIPP_BUSY_MEDIA_PORT, directory)
    ensure_asterisk_has_trunks([answer, busy])
    executable = ensure_sipp_installed()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for agent in (answer, busy):
            processes.append(start(agent, executable))
        yield SippTrunks(answer.endpoint, busy.endpoint, answer.log, busy.log, answer.messages, busy.messages)
    finally:
        for process in processes:
            stop(process)
