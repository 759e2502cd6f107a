"""The campaign gauges as Prometheus scrapes them: campaigns by status, and the leads of running and paused
campaigns by status, every status exported (0 when none has it) and following the database's changes."""

from __future__ import annotations

import datetime as dt
import uuid

from prometheus_client import REGISTRY

from dialer.campaigns import metrics, repository, service
from dialer.campaigns.testing import CAMPAIGN_SCOPES, add_lead
from dialer.testing import principal
from dialplane.api.campaigns import CreateCampaignRequest, LeadSelection
from dialplane.api.leads import LEAD_STATUSES
from dialplane.db import SessionFactory, transaction

ACTIONS_TO = {"draft": (), "running": ("start",), "paused": ("start", "pause"), "stopped": ("stop",)}


def scraped(name: str, statuses: tuple[str, ...]) -> dict[str, float | None]:
    return {status: REGISTRY.get_sample_value(name, {"status": status}) for status in statuses}


def nonzero(values: dict[str, float | None]) -> dict[str, float | None]:
    return {status: value for status, value in values.items() if value != 0}


async def campaign_in(sessions: SessionFactory, status: str, leads: list[uuid.UUID]) -> uuid.UUID:
    request = CreateCampaignRequest(name=f"{status} campaign", leads=LeadSelection(lead_ids=leads))
    async with transaction(sessions) as session:
        campaign = await service.create(session, principal(CAMPAIGN_SCOPES), request, dt.datetime.now(dt.UTC))
        for action in ACTIONS_TO[status]:
            await service.change_state(session, campaign.id, action)
    return campaign.id


async def refresh(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await metrics.refresh(session)


async def test_counts_campaigns_by_status_and_the_leads_of_running_and_paused_ones(
    sessions: SessionFactory,
) -> None:
    phones = iter(f"+1202555010{n}" for n in range(10))
    leads = {status: [await add_lead(sessions, next(phones)) for _ in range(2)] for status in ACTIONS_TO}
    campaign_ids = {status: await campaign_in(sessions, status, leads[status]) for status in ACTIONS_TO}
    async with transaction(sessions) as session:
        running = campaign_ids["running"]
        await repository.set_lead_state(session, running, leads["running"][0], status="contacted")

    await refresh(sessions)

    campaigns = scraped("dialplane_dialer_campaigns", metrics.CAMPAIGN_STATUSES)
    assert campaigns == {"draft": 1, "running": 1, "paused": 1, "stopped": 1, "completed": 0}
    campaign_leads = scraped("dialplane_dialer_campaign_leads", LEAD_STATUSES)
    assert None not in campaign_leads.values()  # every status is exported
    assert nonzero(campaign_leads) == {"pending": 3, "contacted": 1}


async def test_a_status_that_empties_drops_to_zero(sessions: SessionFactory) -> None:
    lead = await add_lead(sessions, "+12025550100")
    campaign_id = await campaign_in(sessions, "running", [lead])
    await refresh(sessions)
    assert nonzero(scraped("dialplane_dialer_campaign_leads", LEAD_STATUSES)) == {"pending": 1}

    async with transaction(sessions) as session:
        await service.change_state(session, campaign_id, "stop")
    await refresh(sessions)

    assert nonzero(scraped("dialplane_dialer_campaigns", metrics.CAMPAIGN_STATUSES)) == {"stopped": 1}
    assert nonzero(scraped("dialplane_dialer_campaign_leads", LEAD_STATUSES)) == {}
