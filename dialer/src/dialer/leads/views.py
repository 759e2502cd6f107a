"""How a stored lead is shown: the public ``LeadDetails``, with its effective time zone."""

from __future__ import annotations

from dialer import numbers
from dialer.leads.repository import LeadRecord
from dialplane.api.leads import LEADS, LeadDetails, TimeZoneSource


def lead_view(lead: LeadRecord) -> LeadDetails:
    zones = numbers.time_zones(lead.phone)
    timezone, source = effective_timezone(lead.timezone, zones)
    return LeadDetails(
        id=lead.id,
        phone=lead.phone,
        name=lead.name,
        email=lead.email,
        timezone=timezone,
        timezone_source=source,
        number_timezones=list(zones),
        language=lead.language,
        consent=lead.consent,
        consent_source=lead.consent_source,
        consent_at=lead.consent_at,
        partner=lead.partner,
        status=lead.status,
        custom_fields=lead.custom_fields,
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )


def effective_timezone(
    own: str | None, number_zones: tuple[str, ...]
) -> tuple[str | None, TimeZoneSource | None]:
    """The lead's own zone; else its number's when the number has exactly one; else none."""
    if own is not None:
        return own, "lead"
    if len(number_zones) == 1:
        return number_zones[0], "number"
    return None, None


def lead_location(lead: LeadRecord) -> str:
    return f"{LEADS}/{lead.id}"
