"""Gauges of the campaign dashboard that Prometheus cannot derive from counters, read from the database.

- ``dialplane_dialer_campaigns{status}``: campaigns by status (draft, running, paused, stopped, completed);
- ``dialplane_dialer_campaign_leads{status}``: the leads of running and paused campaigns, by their status in
  the campaign (``campaign_leads.status``: pending, queued, calling, contacted, …).

Both count the whole database, so every dialer process exports the same values: aggregate them with ``max``,
not ``sum``. :func:`refresh` sets every known status, 0 when none has it, so a status that empties drops to 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import get_args

from prometheus_client import Gauge
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import campaign_leads, campaigns
from dialplane.api.campaigns import CampaignStatus
from dialplane.api.leads import LEAD_STATUSES
from dialplane.metrics import NAMESPACE

CAMPAIGN_STATUSES: tuple[str, ...] = get_args(CampaignStatus)
ACTIVE_CAMPAIGN_STATUSES = ("running", "paused")

CAMPAIGNS = Gauge("dialer_campaigns", "Campaigns by status.", ["status"], namespace=NAMESPACE)
CAMPAIGN_LEADS = Gauge(
    "dialer_campaign_leads",
    "Leads of running and paused campaigns, by their status in the campaign.",
    ["status"],
    namespace=NAMESPACE,
)


def _set_all(gauge: Gauge, statuses: Iterable[str], counts: Mapping[str, int]) -> None:
    for status in statuses:
        gauge.labels(status).set(counts.get(status, 0))


_set_all(CAMPAIGNS, CAMPAIGN_STATUSES, {})  # export every status at 0 from the start
_set_all(CAMPAIGN_LEADS, LEAD_STATUSES, {})


async def _counts(session: AsyncSession, query: Select[str, int]) -> dict[str, int]:
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


def _campaigns_by_status() -> Select[str, int]:
    return select(campaigns.c.status, func.count()).group_by(campaigns.c.status)


def _active_leads_by_status() -> Select[str, int]:
    status = campaign_leads.c.status
    return (
        select(status, func.count())
        .join(campaigns, campaigns.c.id == campaign_leads.c.campaign_id)
        .where(campaigns.c.status.in_(ACTIVE_CAMPAIGN_STATUSES))
        .group_by(status)
    )


async def refresh(session: AsyncSession) -> None:
    """Read both gauges from the database (one grouped query each) and set them."""
    _set_all(CAMPAIGNS, CAMPAIGN_STATUSES, await _counts(session, _campaigns_by_status()))
    _set_all(CAMPAIGN_LEADS, LEAD_STATUSES, await _counts(session, _active_leads_by_status()))
