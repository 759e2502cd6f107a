"""The dialer service application: the calls API, the consumer of call events, and status-callback delivery
(every status change is offered to the webhook listener in the consumer's transaction; the webhook runner
delivers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dialer import analytics, campaigns, do_not_call, lead_imports, leads, refusals
from dialer.calls import api, conversations, legacy
from dialer.calls.consumer import CONSUMER_GROUP, CallEvents
from dialer.calls.listeners import StatusListener
from dialer.campaigns.runner import CampaignRunner
from dialer.campaigns.settle import CampaignCallListener
from dialer.lead_imports.worker import ImportWorker
from dialer.policy.clock import Clock, system_clock
from dialer.settings import Settings
from dialer.webhooks import WebhookRunner, WebhookStatusListener, create_client
from dialplane.app import create_service_app
from dialplane.calls import CALLS_STREAM, CONVERSATIONS_STREAM
from dialplane.runners import running


def create_app(
    settings: Settings | None = None,
    *,
    status_listeners: Sequence[StatusListener] = (),
    clock: Clock = system_clock,
) -> FastAPI:
    """The service. ``status_listeners`` hear about every call status change (see :class:`StatusListener`);
    more can be appended to ``app.state.status_listeners`` in a lifespan before requests arrive. ``clock`` is
    the campaign runner's (tests set it)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def dialer(app: FastAPI) -> AsyncIterator[None]:
        campaign_runner = CampaignRunner(app.state.sessions, settings, app.state.event_stream, clock)
        callback_delay = dt.timedelta(seconds=settings.campaign_callback_delay_seconds)
        campaign_calls = CampaignCallListener(campaign_runner.signal.set, callback_delay)
        app.state.status_listeners = [WebhookStatusListener(), campaign_calls, *status_listeners]
        app.state.campaign_runner = campaign_runner
        events = CallEvents(app.state.status_listeners)
        consumer = app.state.event_stream.consumer(CONSUMER_GROUP, [CALLS_STREAM], events.handle)
        outcomes = app.state.event_stream.consumer(
            conversations.CONSUMER_GROUP,
            [CONVERSATIONS_STREAM],
            conversations.ConversationEvents(callback_delay).handle,
        )
        async with create_client() as client:
            webhooks = WebhookRunner(
                app.state.sessions,
                client,
                settings.webhook_config(),
                listener=app.state.event_stream.listener,
            )
            imports = ImportWorker(app.state.sessions, settings)
            async with running([consumer, outcomes, webhooks, imports, campaign_runner]):
                yield

    return create_service_app(
        settings,
        title="Dialplane Dialer",
        routers=[
            api.router,
            legacy.router,
            lead_imports.api.router,  # before leads: /leads/import is not a lead id
            leads.api.router,
            campaigns.api.router,
            do_not_call.api.router,
            refusals.api.router,
            analytics.api.router,
        ],
        extra_lifespan=dialer,
    )
