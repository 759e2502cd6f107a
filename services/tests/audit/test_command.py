"""``dialplane audit``: exit 0 on a consistent database, 1 with the findings grouped by invariant."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import pytest

from dialplane.cli import main
from dialplane.log import mask_number


async def run_in_process(
    capsys: pytest.CaptureFixture[str], database_url: str, *args: str
) -> tuple[int, str, str]:
    """The command run by :func:`dialplane.cli.main` in this process (a thread: it runs its own loop)."""
    code = await asyncio.to_thread(main, ["audit", "--database-url", database_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def run_as_program(database_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialplane.cli",
        "audit",
        "--database-url",
        database_url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_clean_database_exits_0(database_url: str, clean_world: Any) -> None:
    code, out, err = await run_as_program(database_url)

    assert code == 0, out + err
    assert out.count("[  ok]") == 6
    assert out.rstrip().endswith("Clean: every invariant holds.")
    assert "dialplane:dialplane@" not in err  # the password is not printed


async def test_findings_exit_1_grouped_by_invariant_with_numbers_masked(
    capsys: pytest.CaptureFixture[str], database_url: str, world: Any, clean_world: Any
) -> None:
    lost = await world.call("+33600000001", events=("queued", "dialing", "ringing", "answered"))
    await world.do_not_call("+33600000002", world.minutes(0))
    listed = await world.call("+33600000002", at=world.minutes(30))
    await world.consumer_caught_up()

    code, out, _ = await run_in_process(capsys, database_url)

    assert code == 1
    lines = out.splitlines()
    events = lines.index(next(line for line in lines if line.startswith("[FAIL] no event lost")))
    assert lines[events].endswith("— 1")
    assert (
        lines[events + 1].strip().startswith(f"call {lost}: completed, but its events end at call.answered")
    )
    calling = lines.index(next(line for line in lines if line.startswith("[FAIL] no call to a number")))
    assert lines[calling + 1].strip().startswith(f"call {listed}: placed at")
    assert f"number {mask_number('+33600000002')}" in lines[calling + 1]
    assert "+33600000002" not in out
    assert lines[-1] == "2 findings in 2 of 6 invariants."


async def test_json_report(
    capsys: pytest.CaptureFixture[str], database_url: str, world: Any, clean_world: Any
) -> None:
    lost = await world.call("+33600000001", events=("queued", "dialing", "ringing", "answered"))

    code, out, _ = await run_in_process(capsys, database_url, "--json")

    report = json.loads(out)
    assert code == 1 and report["clean"] is False
    assert [(v["invariant"], v["call_id"], v["number"]) for v in report["violations"]] == [
        ("events", str(lost), mask_number("+33600000001"))
    ]


async def test_settled_counts_what_is_in_flight(
    capsys: pytest.CaptureFixture[str], database_url: str, world: Any, clean_world: Any
) -> None:
    call = await world.call("+33600000001", ("queued", "dialing"))
    await world.consumer_caught_up()

    assert (await run_in_process(capsys, database_url))[0] == 0
    code, out, _ = await run_in_process(capsys, database_url, "--settled")
    assert code == 1
    assert f"[final_state] call {call}: still dialing" in out


async def test_one_campaign(
    capsys: pytest.CaptureFixture[str], database_url: str, clean_world: dict[str, uuid.UUID]
) -> None:
    assert (await run_in_process(capsys, database_url, "--campaign", str(clean_world["campaign"])))[0] == 0
    code, _, err = await run_in_process(capsys, database_url, "--campaign", str(uuid.uuid4()))
    assert code == 2 and "no campaign" in err
