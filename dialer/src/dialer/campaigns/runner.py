"""The campaign runner: every round (``campaign_round_seconds``, or sooner when a campaign call ends) it paces
each running campaign in a transaction of its own:

1. the campaign row is locked with ``SKIP LOCKED`` — in several dialer processes, one paces a campaign at a
   time and the others pass it over this round (so its limits hold across processes);
2. a campaign whose 30-day abandon rate has reached ``campaign_abandon_pause_ratio`` of its limit pauses;
3. how many calls may start: the campaign's free concurrency, the live ai-agents' free capacity, the trunks'
   free lines, and its calls-per-second budget (``next_dial_at`` advances ``1 / rate`` per call);
4. that many due leads are claimed (``SKIP LOCKED``) and each goes through the dial decision
   (:mod:`.dialing`): a queued call, or a recorded refusal;
5. a campaign with no lead left to dial or in a call completes.

A call is queued in the same transaction as its lead's claim, so a dialer killed at any moment either
queued the call (and the lead says so) or did neither: no lead is lost and none is dialed twice.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.analytics.report_repository import abandon_rate
from dialer.campaigns import capacity, metrics, repository
from dialer.campaigns.dialing import dial_lead
from dialer.campaigns.repository import CampaignRecord
from dialer.policy.clock import Clock, system_clock
from dialer.settings import Settings
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream
from dialplane.events.wakeup import Signal
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

BURST_SECONDS = 1.0  # after a pause in dialing, at most this many seconds of the rate start at once
GAUGES_SECONDS = 5.0  # how often the campaign gauges (:mod:`.metrics`) are counted again

DIALS = Counter(
    "dialer_campaign_dials_total",
    "Campaign dial decisions, by result (placed, or the rule that refused the dial).",
    ["result"],
    namespace=NAMESPACE,
)
PACE_SECONDS = Histogram(
    "dialer_campaign_pace_seconds",
    "One campaign's pacing transaction (checks, claims, dial decisions, queued calls, commit), by whether it"
    " placed a call (dialed) or not (idle).",
    ["outcome"],
    namespace=NAMESPACE,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PAUSES = Counter(
    "dialer_campaign_auto_pauses_total",
    "Campaigns paused by the runner because their abandon rate neared the limit.",
    namespace=NAMESPACE,
)


class CampaignRunner:
    name = "campaigns"

    def __init__(
        self, sessions: SessionFactory, settings: Settings, stream: EventStream, clock: Clock = system_clock
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._stream = stream
        self._clock = clock
        self.signal = Signal()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.signal.set()

    async def run(self) -> None:
        gauges_due = 0.0
        while not self._stopping:
            try:
                await self.round()
                if time.monotonic() >= gauges_due:
                    async with transaction(self._sessions) as session:
                        await metrics.refresh(session)
                    gauges_due = time.monotonic() + GAUGES_SECONDS
            except Exception as exc:  # a failed round is tried again at the next one
                log.warning("campaign_round_failed", error=repr(exc))
            await self.signal.wait(self._settings.campaign_round_seconds)

    async def round(self) -> int:
        """Pace every running campaign once; returns how many calls were placed."""
        async with transaction(self._sessions) as session:
            campaign_ids = await repository.running_ids(session)
        placed = 0
        for campaign_id in campaign_ids:
            started = time.perf_counter()
            async with transaction(self._sessions) as session:
                dialed = await self._pace(session, campaign_id)
            PACE_SECONDS.labels("dialed" if dialed else "idle").observe(time.perf_counter() - started)
            placed += dialed
        return placed

    async def _pace(self, session: AsyncSession, campaign_id: uuid.UUID) -> int:
        campaign = await repository.get(session, campaign_id, skip_locked=True)
        if campaign is None or campaign.status != "running":
            return 0
        now = self._clock()
        if await self._pause_for_abandons(session, campaign, now):
            return 0
        start, slots = _rate_slots(campaign, now)
        budget = min(slots, await self._free_capacity(session, campaign))
        placed = 0
        if budget > 0:
            for lead in await repository.claim_due(session, campaign.id, now, budget):
                dialed = await dial_lead(session, self._stream, self._settings, campaign, lead, now)
                placed += dialed
                DIALS.labels("placed" if dialed else "refused").inc()
        if placed:
            interval = dt.timedelta(seconds=1 / campaign.calls_per_second)
            await repository.update_campaign(session, campaign.id, next_dial_at=start + placed * interval)
        elif not await repository.unfinished(session, campaign.id):
            await self._complete(session, campaign)
        return placed

    async def _free_capacity(self, session: AsyncSession, campaign: CampaignRecord) -> int:
        own = campaign.max_concurrent_calls - await capacity.in_flight_calls(session, campaign.id)
        if own <= 0:
            return 0
        return min(own, await capacity.free_agents(session), await capacity.free_lines(session))

    async def _pause_for_abandons(
        self, session: AsyncSession, campaign: CampaignRecord, now: dt.datetime
    ) -> bool:
        abandoned, answered = await abandon_rate(session, campaign.id, now)
        threshold = campaign.abandon_rate_limit * self._settings.campaign_abandon_pause_ratio
        if not answered or abandoned / answered < threshold:
            return False
        reason = (
            f"paused by the dialer: 30-day abandon rate {abandoned}/{answered} = {abandoned / answered:.1%}"
            f" reached {self._settings.campaign_abandon_pause_ratio:.0%} of the limit"
            f" {campaign.abandon_rate_limit:.1%}"
        )
        await repository.update_campaign(session, campaign.id, status="paused", status_reason=reason)
        PAUSES.inc()
        log.warning("campaign_paused_for_abandons", campaign_id=str(campaign.id), abandoned=abandoned)
        return True

    async def _complete(self, session: AsyncSession, campaign: CampaignRecord) -> None:
        await repository.update_campaign(
            session,
            campaign.id,
            status="completed",
            status_reason="every lead has reached a final status",
            ended_at=self._clock(),
        )
        log.info("campaign_completed", campaign_id=str(campaign.id))


def _rate_slots(campaign: CampaignRecord, now: dt.datetime) -> tuple[dt.datetime, int]:
    """Where this round's dials start on the rate's timeline, and how many fit up to ``now``."""
    interval = 1 / campaign.calls_per_second
    earliest = now - dt.timedelta(seconds=max(interval, BURST_SECONDS))
    start = max(campaign.next_dial_at or earliest, earliest)
    if start > now:
        return start, 0
    return start, math.floor((now - start).total_seconds() / interval) + 1
