"""Smoke test of the local Asterisk: ARI answers, and each test-carrier number behaves as documented in
asterisk/conf/extensions.conf.

Every call is placed at once when the module starts (fixture ``calls``); each test then awaits its own
outcome, so the module takes as long as its slowest call (about 15 s), not their sum.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from dialplane.testing.asterisk import AriTestClient, AsteriskInfo

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

NORMAL_CLEARING = 16
USER_BUSY = 17
NO_ANSWER = 19
UNALLOCATED = 1
CONGESTION = 34
TALK_DETECT_SILENCE_MS = "1000"  # ChannelTalkingFinished after 1 s of quiet (Asterisk's default is 2.5 s)


@dataclass(frozen=True)
class CallOutcome:
    answered: bool  # the application saw StasisStart
    cause: int | None  # ChannelDestroyed cause (Q.850); None if the channel left Stasis before that
    cause_txt: str
    seconds: float  # from the originate to the end (ChannelDestroyed or StasisEnd)
    up_when_checked: bool = False  # still up when the scenario looked (calls we hang up ourselves)
    stasis_args: tuple[str, ...] = ()


Scenario = Callable[[AriTestClient], Coroutine[Any, Any, CallOutcome]]
Calls = dict[str, asyncio.Task[CallOutcome]]


async def dial(ari: AriTestClient, number: str, ring_timeout: int = 30, context: str | None = None) -> str:
    channel_id = f"smoke-{number[-4:]}-{uuid.uuid4().hex[:12]}"
    await ari.originate(
        f"Local/{number}@test-carrier", channel_id, ring_timeout=ring_timeout, context=context
    )
    return channel_id


async def outcome(
    ari: AriTestClient,
    channel_id: str,
    started: float,
    up_when_checked: bool = False,
    end_event: str = "ChannelDestroyed",
) -> CallOutcome:
    """Wait for the call's end. Pass ``end_event="StasisEnd"`` for a channel that entered Stasis from the
    dialplan: the application does not see its ChannelDestroyed."""
    end = await ari.wait_for(end_event, channel_id, within=30)
    stasis_start = ari.find("StasisStart", channel_id)
    return CallOutcome(
        answered=stasis_start is not None,
        cause=end.get("cause"),
        cause_txt=end.get("cause_txt", ""),
        seconds=time.monotonic() - started,
        up_when_checked=up_when_checked,
        stasis_args=tuple(stasis_start["args"]) if stasis_start else (),
    )


async def is_up(ari: AriTestClient, channel_id: str) -> bool:
    return ari.find("ChannelDestroyed", channel_id) is None and await ari.channel_exists(channel_id)


def call_until_it_ends(number: str, ring_timeout: int = 30) -> Scenario:
    """Call, then only watch: the far end ends the call."""

    async def scenario(ari: AriTestClient) -> CallOutcome:
        started = time.monotonic()
        channel_id = await dial(ari, number, ring_timeout=ring_timeout)
        return await outcome(ari, channel_id, started)

    return scenario


async def answered_and_held(ari: AriTestClient) -> CallOutcome:
    """+12025550104: answers; we check it is still up after 3 s, then hang up."""
    started = time.monotonic()
    channel_id = await dial(ari, "+12025550104")
    await ari.wait_for("StasisStart", channel_id)
    await asyncio.sleep(3)
    up = await is_up(ari, channel_id)
    await ari.hangup(channel_id)
    return await outcome(ari, channel_id, started, up_when_checked=up)


async def answering_machine(ari: AriTestClient) -> CallOutcome:
    """+12025550105: answers, talks (greeting, beep), goes quiet; we check it is still up, then hang up."""
    started = time.monotonic()
    channel_id = await dial(ari, "+12025550105")
    await ari.wait_for("StasisStart", channel_id)
    await ari.set_variable(channel_id, "TALK_DETECT(set)", TALK_DETECT_SILENCE_MS)
    await ari.wait_for("ChannelTalkingFinished", channel_id, within=15)
    await asyncio.sleep(1)
    up = await is_up(ari, channel_id)
    await ari.hangup(channel_id)
    return await outcome(ari, channel_id, started, up_when_checked=up)


def answering_machine_detection(number: str) -> Scenario:
    """Originate into the dialplane-amd context: AMD() runs, then the call enters Stasis with its result."""

    async def scenario(ari: AriTestClient) -> CallOutcome:
        started = time.monotonic()
        channel_id = await dial(ari, number, context="dialplane-amd")
        await ari.wait_for("StasisStart", channel_id, within=15)
        await ari.hangup(channel_id)
        return await outcome(ari, channel_id, started, end_event="StasisEnd")

    return scenario


async def person_who_declines(ari: AriTestClient) -> CallOutcome:
    """+12025550111: says "Hello?", waits for us; after we speak, declines and hangs up by itself (this
    scenario never hangs up)."""
    started = time.monotonic()
    channel_id = await dial(ari, "+12025550111")
    await ari.wait_for("StasisStart", channel_id)
    await ari.set_variable(channel_id, "TALK_DETECT(set)", TALK_DETECT_SILENCE_MS)
    await ari.wait_for("ChannelTalkingFinished", channel_id)  # "Hello?"
    await asyncio.sleep(2)
    waiting = await is_up(ari, channel_id)
    await ari.play(channel_id, "sound:hello-world")
    return await outcome(ari, channel_id, started, up_when_checked=waiting)


SCENARIOS: dict[str, Scenario] = {
    "answers-3s": call_until_it_ends("+12025550100"),
    "busy": call_until_it_ends("+12025550101"),
    "no-answer": call_until_it_ends("+12025550102", ring_timeout=3),
    "unreachable": call_until_it_ends("+12025550103"),
    "held": answered_and_held,
    "machine": answering_machine,
    "machine-amd": answering_machine_detection("+12025550105"),
    "person-amd": answering_machine_detection("+12025550111"),
    "declines": person_who_declines,
    "unallocated": call_until_it_ends("+12025550199"),
}


@pytest_asyncio.fixture(scope="module")
async def ari(asterisk: AsteriskInfo) -> AsyncIterator[AriTestClient]:
    async with AriTestClient(asterisk) as client:
        yield client


@pytest_asyncio.fixture(scope="module")
async def calls(ari: AriTestClient) -> AsyncIterator[Calls]:
    tasks = {name: asyncio.create_task(scenario(ari)) for name, scenario in SCENARIOS.items()}
    yield tasks
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_asterisk_is_version_22(ari: AriTestClient) -> None:
    info = await ari.asterisk_info()
    assert info["system"]["version"].startswith("22.")


async def test_answers_then_hangs_up_after_3_seconds(calls: Calls) -> None:
    call = await calls["answers-3s"]
    assert call.answered
    assert (call.cause, call.cause_txt) == (NORMAL_CLEARING, "Normal Clearing")
    assert 2.5 < call.seconds < 6


async def test_busy(calls: Calls) -> None:
    call = await calls["busy"]
    assert not call.answered
    assert (call.cause, call.cause_txt) == (USER_BUSY, "User busy")


async def test_rings_until_the_originate_times_out(calls: Calls) -> None:
    call = await calls["no-answer"]
    assert not call.answered
    assert (call.cause, call.cause_txt) == (NO_ANSWER, "User alerting, no answer")
    assert 2.5 < call.seconds < 6


async def test_unreachable(calls: Calls) -> None:
    call = await calls["unreachable"]
    assert not call.answered
    assert (call.cause, call.cause_txt) == (CONGESTION, "Circuit/channel congestion")


async def test_unallocated_number(calls: Calls) -> None:
    call = await calls["unallocated"]
    assert not call.answered
    assert (call.cause, call.cause_txt) == (UNALLOCATED, "Unallocated (unassigned) number")


async def test_stays_up_until_we_hang_up(calls: Calls) -> None:
    call = await calls["held"]
    assert call.answered
    assert call.up_when_checked
    assert call.cause == NORMAL_CLEARING


async def test_answering_machine_stays_up_after_greeting(calls: Calls) -> None:
    call = await calls["machine"]
    assert call.answered
    assert call.up_when_checked


async def test_amd_recognises_the_answering_machine(calls: Calls) -> None:
    call = await calls["machine-amd"]
    assert call.stasis_args[:2] == ("amd", "MACHINE")


async def test_amd_recognises_a_person(calls: Calls) -> None:
    call = await calls["person-amd"]
    assert call.stasis_args[:2] == ("amd", "HUMAN")


async def test_person_waits_then_declines_and_hangs_up(calls: Calls) -> None:
    call = await calls["declines"]
    assert call.answered
    assert call.up_when_checked  # still waiting for us 2 s after "Hello?"
    assert call.cause == NORMAL_CLEARING
    assert call.seconds < 20
