"""Network faults for tests: drop the TCP packets of a port on 127.0.0.1 with iptables, so that a peer is
neither refused nor closed but silent (the connection hangs, as behind a broken network), for a block.

::

    reason = iptables_unusable()
    pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

    async with dropping_packets(5433):
        ...  # nothing reaches 127.0.0.1:5433 and nothing comes back from it

Each use makes a chain of its own (``dpdrop-<port>-<random>``) holding the two ``DROP`` rules, inserts a jump
to it at the top of ``INPUT`` (loopback packets pass ``INPUT`` too), and removes the jump and deletes the
chain afterwards, whatever happens in the block; rules it did not create are never touched. In case the
test process dies without running its ``finally`` (``kill -9``, ``os._exit``), a detached watchdog removes
the chain after ``at_most`` seconds: a port of the shared Asterisk must not stay blocked for everyone.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cache

IPTABLES = "iptables"
COMMAND_TIMEOUT_SECONDS = 10.0


class IptablesError(RuntimeError):
    """An iptables command failed; the message holds the command and its output."""


def _iptables(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # ``-w``: wait for the xtables lock rather than fail when another iptables runs at the same moment.
    command = [IPTABLES, "-w", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)
    if check and done.returncode != 0:
        raise IptablesError(f"{shlex.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return done


@cache
def iptables_unusable() -> str | None:
    """Why packets cannot be dropped here (not root, no ``iptables``, a rule cannot be added), or ``None``
    if they can. The probe adds a rule to a chain of its own and deletes both."""
    if os.geteuid() != 0:
        return "dropping packets needs root (iptables)"
    if shutil.which(IPTABLES) is None:
        return "no iptables binary (apt install iptables)"
    probe = f"dpprobe-{secrets.token_hex(4)}"
    try:
        _iptables("-N", probe)
        try:
            _iptables("-A", probe, "-p", "tcp", "--dport", "9", "-j", "RETURN")
        finally:
            _remove_chain(probe)
    except (IptablesError, OSError, subprocess.TimeoutExpired) as exc:
        return f"iptables cannot add a rule here: {exc}"
    return None


def drop_rules(port: int) -> list[list[str]]:
    """The rules of a chain dropping TCP to and from ``127.0.0.1:port`` (both directions)."""
    to_port = ["-p", "tcp", "-d", "127.0.0.1", "--dport", str(port), "-j", "DROP"]
    from_port = ["-p", "tcp", "-s", "127.0.0.1", "--sport", str(port), "-j", "DROP"]
    return [to_port, from_port]


def _remove_chain(chain: str) -> None:
    """Unhook ``chain`` from ``INPUT`` (if hooked), flush and delete it; keeps going past failures."""
    _iptables("-D", "INPUT", "-j", chain, check=False)
    _iptables("-F", chain, check=False)
    _iptables("-X", chain, check=False)


def _removal_command(chain: str) -> str:
    return "; ".join(
        shlex.join([IPTABLES, "-w", *arguments])
        for arguments in (["-D", "INPUT", "-j", chain], ["-F", chain], ["-X", chain])
    )


def _start_watchdog(chain: str, at_most: float) -> subprocess.Popen[bytes]:
    """A process of its own session that removes ``chain`` after ``at_most`` seconds unless killed first."""
    script = f"sleep {at_most:g}; {_removal_command(chain)}"
    return subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    if watchdog.poll() is None:
        os.killpg(watchdog.pid, signal.SIGTERM)  # its own group: the shell and its ``sleep``
    watchdog.wait(timeout=COMMAND_TIMEOUT_SECONDS)


def _make_chain(chain: str, rules: Sequence[Sequence[str]]) -> None:
    _iptables("-N", chain)
    for rule in rules:
        _iptables("-A", chain, *rule)
    _iptables("-I", "INPUT", "1", "-j", chain)


@asynccontextmanager
async def dropping_packets(port: int, *, at_most: float = 120.0) -> AsyncIterator[str]:
    """For the block, drop every TCP packet to and from ``127.0.0.1:port``; yields the chain's name.

    The rules are removed when the block ends (also on an error or a cancellation), or by the watchdog
    after ``at_most`` seconds at the latest, should this process die first.
    """
    chain = f"dpdrop-{port}-{secrets.token_hex(4)}"
    watchdog = _start_watchdog(chain, at_most)
    try:
        _make_chain(chain, drop_rules(port))
        yield chain
    finally:
        # Synchronous on purpose: a cancellation cannot interrupt it half-way.
        _remove_chain(chain)
        _stop_watchdog(watchdog)


def chain_exists(chain: str) -> bool:
    """Whether ``chain`` is still in the filter table (for tests that the rules went away)."""
    return _iptables("-S", chain, check=False).returncode == 0
