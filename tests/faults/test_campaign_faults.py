"""A campaign keeps its promises while the system under it breaks: each service SIGKILLed in turn and then all
of them at once, Asterisk restarted, PostgreSQL restarted — each while calls are live and a client keeps
placing calls with status webhooks. Afterwards the campaign completes on its own and the audit (``dialplane
audit --settled``) finds nothing: every lead and call in a consistent final state, no number dialed more than
its policy allows, every call's events complete and in order, every webhook delivered (and the receiver got
each one, signed). See :mod:`faulty_campaign` for the stack and the checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from faulty_campaign import CampaignStack, campaign_stack
from private_postgres import private_postgres, server_binaries

from dialplane.testing.asterisk import AsteriskInfo, run_local_sh
from dialplane.testing.database import scratch_database

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(600)]

DOWN_SECONDS = 1.0  # how long a killed service stays down before it is started again
SHORT_CAMPAIGN = 8  # answering leads: enough for calls to be live at a single fault
FIVE_FAULTS_CAMPAIGN = 30  # answering leads: calls still live at the fifth fault (30-50 s in, by machine)


@pytest_asyncio.fixture
async def stack(asterisk: AsteriskInfo, tmp_path: Path) -> AsyncIterator[CampaignStack]:
    async with (
        scratch_database(prefix="dialplane_faults") as url,
        campaign_stack(url, asterisk, tmp_path) as stack,
    ):
        yield stack


async def test_each_service_killed_in_turn_and_all_at_once(stack: CampaignStack) -> None:
    campaign_id = await stack.start_campaign(FIVE_FAULTS_CAMPAIGN)
    began = time.monotonic()
    async with stack.api_calls():
        # the ai-agent last of the four: the calls answered while it is down are abandoned, and the
        # campaign would pause itself if those were all the answered calls it had
        for victims in (("dialer",), ("ari-bridge",), ("gateway",), ("ai-agent",), ()):
            await stack.wait_for_dialing(campaign_id)
            await stack.services.kill(*victims)  # () is every service
            await asyncio.sleep(DOWN_SECONDS)
            await stack.services.start(*victims)
        print(f"the five faults took {time.monotonic() - began:.1f} s")
    await stack.assert_all_settled(campaign_id)
    print(f"settled {time.monotonic() - began:.1f} s after the start")


async def test_asterisk_restarted_mid_campaign(stack: CampaignStack) -> None:
    campaign_id = await stack.start_campaign(SHORT_CAMPAIGN)
    async with stack.api_calls():
        await stack.wait_for_dialing(campaign_id)
        try:
            stopped = await asyncio.to_thread(run_local_sh, "stop")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            await asyncio.sleep(DOWN_SECONDS)
        finally:
            started = await asyncio.to_thread(run_local_sh, "start")  # always leave Asterisk running
        assert started.returncode == 0, started.stdout + started.stderr
        await stack.wait_ready("ari-bridge")  # reconnected and reconciled
    await stack.assert_all_settled(campaign_id)


@pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries")
async def test_postgres_restarted_mid_campaign(asterisk: AsteriskInfo, tmp_path: Path) -> None:
    async with private_postgres() as server, campaign_stack(server.url, asterisk, tmp_path) as stack:
        campaign_id = await stack.start_campaign(SHORT_CAMPAIGN)
        async with stack.api_calls():
            await stack.wait_for_dialing(campaign_id)
            await server.stop("fast")
            await asyncio.sleep(DOWN_SECONDS)
            await server.start()
            await stack.wait_ready("dialer")
        await stack.assert_all_settled(campaign_id)
