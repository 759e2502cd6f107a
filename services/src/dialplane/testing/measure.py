"""Measuring processes for the benchmarks (bench/): CPU and memory from /proc, and the figures of a service's
Prometheus ``/metrics`` text (deltas between two scrapes, histogram quantiles like PromQL's)."""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


# --- processes, from /proc -------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after "pid (comm)"


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (all its databases: other users' work is in it too)."""
    pids = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
    return pids


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)  # minus idle and iowait


def memory_mb(pid: int) -> dict[str, float]:
    """Resident set now (VmRSS) and its peak so far (VmHWM), in MiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith(("VmRSS", "VmHWM"))}
    return {"rss_mb": round(kb["VmRSS"] / 1024, 1), "peak_rss_mb": round(kb["VmHWM"] / 1024, 1)}


@dataclass(frozen=True)
class Snapshot:
    at: float
    ticks: dict[str, int]
    postgres: dict[int, int]  # pid -> ticks
    machine: tuple[int, int]


@dataclass(frozen=True)
class Meter:
    """CPU of the bridge, Asterisk, PostgreSQL, this script, and of the whole machine."""

    pids: dict[str, int]

    def snapshot(self) -> Snapshot:
        ticks = {name: cpu_ticks(pid) for name, pid in self.pids.items()}
        postgres = {pid: cpu_ticks(pid) for pid in postgres_pids()}
        return Snapshot(time.perf_counter(), ticks, postgres, machine_ticks())

    @staticmethod
    def cores(before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Cores used between two snapshots by each, ``machine`` (busy cores, anyone's) and ``seconds``."""
        seconds = max(after.at - before.at, 1e-9)
        used = {n: (after.ticks[n] - before.ticks[n]) / TICKS_PER_S / seconds for n in before.ticks}
        postgres = (ticks - before.postgres.get(pid, 0) for pid, ticks in after.postgres.items())
        used["postgres"] = sum(postgres) / TICKS_PER_S / seconds  # backends that ended meanwhile are missed
        busy, total = (a - b for a, b in zip(after.machine, before.machine, strict=True))
        used["machine"] = (os.cpu_count() or 1) * busy / max(total, 1)
        return {name: round(value, 2) for name, value in used.items()} | {"seconds": round(seconds, 2)}


# --- the bridge's /metrics (Prometheus text) -------------------------------------------------------------

Sample = tuple[str, dict[str, str], float]
_SAMPLE = re.compile(r"^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(body: str) -> list[Sample]:
    matches = (_SAMPLE.match(line) for line in body.splitlines() if not line.startswith("#"))
    return [(m[1], dict(_LABEL.findall(m[2] or "")), float(m[3])) for m in matches if m]


def by_label(samples: Sequence[Sample], name: str, label: str, **labels: str) -> dict[str, float]:
    """Values of the series of ``name`` matching ``labels``, summed by the value of ``label``."""
    values: dict[str, float] = {}
    for n, ls, value in samples:
        if n == name and labels.items() <= ls.items():
            values[ls.get(label, "")] = values.get(ls.get(label, ""), 0.0) + value
    return values


def delta(
    before: Sequence[Sample], after: Sequence[Sample], name: str, label: str = "", **labels: str
) -> dict[str, float]:
    """How much each series (summed by ``label``) grew between two scrapes."""
    old = by_label(before, name, label, **labels)
    return {key: value - old.get(key, 0.0) for key, value in by_label(after, name, label, **labels).items()}


def quantile(cumulative: dict[float, float], q: float) -> float | None:
    """Like PromQL's histogram_quantile: linear within the bucket holding the rank."""
    total, lower, below = cumulative.get(math.inf, 0.0), 0.0, 0.0
    for bound in sorted(cumulative):
        if total and cumulative[bound] >= q * total:
            if math.isinf(bound):
                return lower  # above the last finite bound: at least that
            return lower + (bound - lower) * (q * total - below) / max(cumulative[bound] - below, 1e-12)
        lower, below = bound, cumulative[bound]
    return None


def histogram(before: Sequence[Sample], after: Sequence[Sample], name: str, **labels: str) -> dict[str, Any]:
    """Count and p50/p99 (ms, and the bucket's upper bound) of what a histogram observed in between."""
    counts = {float(le): n for le, n in delta(before, after, f"{name}_bucket", "le", **labels).items()}
    total = counts.get(math.inf, 0.0)
    figures: dict[str, Any] = {"count": int(total)}
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        value = quantile(counts, q)
        figures[f"{label}_ms"] = None if value is None else round(value * 1000, 1)
        upper = [bound for bound, count in counts.items() if total and count >= q * total]
        figures[f"{label}_bucket_le_ms"] = min(upper) * 1000 if upper else None
    return figures


def latency_ms(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1] * 1000, 1)}
