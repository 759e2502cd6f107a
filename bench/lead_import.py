"""Benchmark of the streamed lead import: upload rate, import rate (rows per second) and peak memory.

    uv run python bench/lead_import.py [--rows 100000] [--batch-size 1000] [--no-errors]

Connects to the server of ``--database-url`` (default: ``$DIALPLANE_DATABASE_URL``, then ``$DATABASE_URL``,
then ``postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane``), creates a throwaway database
``dialplane_bench_<random>``, migrates it, runs the phases and drops it again, even on failure.

The file is made on the fly (``dialer.lead_imports.testing.LeadFile``: by default 1 % of the rows have a
deliberate problem and 8 % repeat a phone), never held whole. Phases, in this process: ``parse`` reads and
checks the rows without a database (the CPU floor); ``upload`` stores the file as the upload route does
(multipart parsing, 256 KiB chunks, one transaction); ``import`` runs a dialer import worker on it (new
leads); ``merge`` imports the same file again (every row merges into a known lead). The counts must be
those the file predicts, else the script exits 1. The figures go to ``bench/results/lead_import.json``
and a table is printed (see bench/README.md for what they mean).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.lead_imports.batch import Batch
from dialer.lead_imports.columns import Columns
from dialer.lead_imports.csv_stream import CsvStream, Record
from dialer.lead_imports.testing import Expected, LeadFile, multipart_body, peak_memory, streamed
from dialer.lead_imports.upload import receive
from dialer.lead_imports.worker import ImportWorker
from dialer.settings import Settings
from dialer.tables import lead_imports
from dialplane.db import SessionFactory, create_engine, create_session_factory, redact_url, transaction
from dialplane.internal_auth import Principal
from dialplane.log import configure_logging
from dialplane.migrate import upgrade
from dialplane.runners import running
from dialplane.settings import ServiceSettings
from dialplane.testing.database import scratch_database

DEFAULT_URL = "postgresql://dialplane:dialplane@127.0.0.1:5432/dialplane"
RESULTS = Path(__file__).parent / "results" / "lead_import.json"
BENCH_PRINCIPAL = Principal(id="user:bench", kind="user", name="bench", scopes=frozenset({"leads:write"}))
MIB = 2**20


@dataclass(frozen=True)
class Options:
    database_url: str
    rows: int
    batch_size: int
    max_line_bytes: int
    errors: bool
    timeout: float
    output: Path


@dataclass
class Measured:
    seconds: float
    cpu_seconds: float
    memory_growth_mib: float
    memory_measure: str


async def measure(work: Callable[[], Awaitable[Any]]) -> tuple[Any, Measured]:
    """What ``work`` returns, with its wall and CPU time and the peak growth of this process's memory."""
    with peak_memory() as peak:
        started, cpu = time.perf_counter(), time.process_time()
        result = await work()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return result, Measured(
        round(seconds, 3), round(cpu_seconds, 3), round(peak.growth / MIB, 2), peak.measure
    )


# --- phases ----------------------------------------------------------------------------------------


async def parse_only(file: LeadFile, max_line_bytes: int) -> int:
    """Read and check every row as the worker does, in batches of 1,000, without a database; rows read."""
    stream, columns, rows, batch = CsvStream(max_line_bytes), None, 0, Batch()
    for piece in chain(file.pieces(256 * 1024), [b""]):
        if piece:
            stream.feed(piece)
        else:
            stream.close()
        for item in stream.items():
            if columns is None:
                assert isinstance(item, Record), item
                columns = Columns.from_header(item.cells)
                continue
            batch.add(item, columns)
            if batch.rows >= 1000:
                rows, batch = rows + batch.rows, Batch()
    return rows + batch.rows


async def store(sessions: SessionFactory, file: LeadFile, max_line_bytes: int) -> str:
    content_type, body = multipart_body(file.pieces())
    async with transaction(sessions) as session:
        job = await receive(session, BENCH_PRINCIPAL, streamed(body), content_type, max_line_bytes)
    return str(job.id)


async def run_import(sessions: SessionFactory, settings: Settings, import_id: str) -> Any:
    """Run a worker until the import has finished; the job's row."""
    async with running([ImportWorker(sessions, settings)]):
        while True:
            async with transaction(sessions) as session:
                job = (
                    await session.execute(select(lead_imports).where(lead_imports.c.id == import_id))
                ).one()
            if job.status in ("completed", "failed"):
                return job
            await asyncio.sleep(0.01)


async def _limited(seconds: float, work: Awaitable[Any]) -> Any:
    async with asyncio.timeout(seconds):
        return await work


def import_figures(job: Any, measured: Measured, expected: Expected) -> dict[str, Any]:
    counts = {
        "lines": job.lines_done,
        "rows": job.rows_done,
        "created": job.rows_created,
        "merged": job.rows_merged,
        "failed": job.rows_failed,
    }
    wanted = {
        "lines": expected.lines,
        "rows": expected.rows,
        "created": expected.created,
        "merged": expected.merged,
        "failed": expected.failed,
    }
    return {
        "status": job.status,
        "rows_per_s": round(job.rows_done / measured.seconds),
        "cpu_ms_per_1000_rows": round(measured.cpu_seconds / max(job.rows_done, 1) * 1e6, 1),
        **vars(measured),
        "counts": counts,
        "ok": job.status == "completed" and counts == wanted,
        "expected": wanted,
    }


async def run_all(opts: Options, url: str) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, ServiceSettings(database_url=url).database_url)
    settings = Settings(
        database_url=url,
        environment="development",
        import_batch_size=opts.batch_size,
        import_poll_interval_seconds=0.01,
        import_max_line_bytes=opts.max_line_bytes,
    )
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    file = LeadFile(opts.rows, settings.import_max_line_bytes, errors=opts.errors)
    limit = settings.import_max_line_bytes
    try:
        phases: dict[str, Any] = {}
        size = sum(len(piece) for piece in file.pieces())
        rows, parsed = await measure(partial(parse_only, file, limit))
        phases["parse"] = {"rows_per_s": round(rows / parsed.seconds), **vars(parsed)}
        import_id, stored = await measure(partial(store, sessions, file, limit))
        phases["upload"] = {"bytes": size, "mib_per_s": round(size / MIB / stored.seconds, 1), **vars(stored)}
        new = file.expected()
        job, imported = await measure(
            partial(_limited, opts.timeout, run_import(sessions, settings, import_id))
        )
        phases["import"] = import_figures(job, imported, new)
        again = Expected(new.lines, new.rows, created=0, merged=new.created + new.merged, failed=new.failed)
        import_id = await store(sessions, file, limit)
        job, merged = await measure(
            partial(_limited, opts.timeout, run_import(sessions, settings, import_id))
        )
        phases["merge"] = import_figures(job, merged, again)
        return {"machine": await machine_info(engine), "file_bytes": size, "phases": phases}
    finally:
        await engine.dispose()


async def machine_info(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        version = await conn.scalar(text("SHOW server_version"))
        names = ("synchronous_commit", "fsync", "shared_buffers")
        settings = {name: await conn.scalar(text(f"SHOW {name}")) for name in names}
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
    }


async def bench(opts: Options) -> dict[str, Any]:
    configure_logging(level="WARNING", service="bench")
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
    p.add_argument("--rows", type=int, default=100_000, help="rows of the file (default 100000)")
    p.add_argument("--batch-size", type=int, default=1000, help="rows per transaction (default 1000)")
    p.add_argument(
        "--max-line-bytes", type=int, default=4096, help="line limit, and size of the too-long lines (4096)"
    )
    p.add_argument("--no-errors", dest="errors", action="store_false", help="no deliberate problems")
    p.add_argument("--timeout", type=float, default=600.0, help="max wait for an import, s (default 600)")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON result (default {RESULTS})")
    return Options(**vars(p.parse_args(argv)))


def print_table(report: dict[str, Any]) -> None:
    header = ("phase", "rows/s", "MiB/s", "s", "cpu s", "cpu ms/1k rows", "peak +MiB", "check")
    rows = [header]
    for name, phase in report["phases"].items():
        check = "-" if "ok" not in phase else ("ok" if phase["ok"] else f"FAILED {phase['counts']}")
        rows.append(
            (
                name,
                phase.get("rows_per_s", "-"),
                phase.get("mib_per_s", "-"),
                phase["seconds"],
                phase["cpu_seconds"],
                phase.get("cpu_ms_per_1000_rows", "-"),
                phase["memory_growth_mib"],
                check,
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(cells)))


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    started = time.perf_counter()
    try:
        measured = asyncio.run(bench(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted (the bench database, if made, was dropped)", file=sys.stderr)
        return 130
    phases = measured["phases"]
    report = {
        "benchmark": "lead_import",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "ok": all(phase.get("ok", True) for phase in phases.values()),
        "parameters": {k: v for k, v in vars(opts).items() if k not in ("database_url", "output")},
        **measured,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_table(report)
    size = f"{report['file_bytes']:,} bytes, {opts.rows:,} rows"
    print(f"{size}; {report['elapsed_s']} s; written to {opts.output}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
