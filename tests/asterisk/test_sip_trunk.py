"""Calls over real PJSIP trunks (asterisk/conf/pjsip.conf) to SIPp user agents on loopback (fixture sipp)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from dialplane.testing.asterisk import AriTestClient, AsteriskInfo
from dialplane.testing.sipp import SippTrunks

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(60)]

NUMBER = "+12025550100"
NORMAL_CLEARING = 16
USER_BUSY = 17
SIP_BUSY_HERE = 486


@pytest_asyncio.fixture(scope="module")
async def ari(asterisk: AsteriskInfo) -> AsyncIterator[AriTestClient]:
    async with AriTestClient(asterisk) as client:
        yield client


def new_channel_id() -> str:
    return f"sip-trunk-{uuid.uuid4().hex[:12]}"


async def test_answered_call_until_we_hang_up(ari: AriTestClient, sipp: SippTrunks) -> None:
    channel_id = new_channel_id()
    await ari.originate(f"PJSIP/{NUMBER}@{sipp.answer_endpoint}", channel_id)
    await ari.wait_for("StasisStart", channel_id)
    await ari.hangup(channel_id)
    destroyed = await ari.wait_for("ChannelDestroyed", channel_id)
    assert (destroyed["cause"], destroyed["cause_txt"]) == (NORMAL_CLEARING, "Normal Clearing")
    assert f"INVITE sip:{NUMBER}@127.0.0.1:5070 SIP/2.0" in sipp.answer_messages.read_text()


async def test_answered_call_echoes_audio(ari: AriTestClient, sipp: SippTrunks) -> None:
    """The SIPp user agent sends our RTP back: what we play, Asterisk hears as the far end talking."""
    channel_id = new_channel_id()
    await ari.originate(f"PJSIP/{NUMBER}@{sipp.answer_endpoint}", channel_id)
    await ari.wait_for("StasisStart", channel_id)
    await ari.set_variable(channel_id, "TALK_DETECT(set)", "1000")
    await ari.play(channel_id, "sound:hello-world")
    await ari.wait_for("ChannelTalkingStarted", channel_id, within=5)
    await ari.hangup(channel_id)
    await ari.wait_for("ChannelDestroyed", channel_id)


async def test_busy_reports_the_sip_status(ari: AriTestClient, sipp: SippTrunks) -> None:
    channel_id = new_channel_id()
    await ari.originate(f"PJSIP/{NUMBER}@{sipp.busy_endpoint}", channel_id)
    destroyed = await ari.wait_for("ChannelDestroyed", channel_id)
    assert (destroyed["cause"], destroyed["cause_txt"]) == (USER_BUSY, "User busy")
    assert destroyed["tech_cause"] == SIP_BUSY_HERE
    dial = await ari.wait_for("Dial", channel_id)  # the first: dialstatus ""
    assert dial["dialstring"] == f"{NUMBER}@{sipp.busy_endpoint}"
    assert ari.find("StasisStart", channel_id) is None
