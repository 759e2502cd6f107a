"""Who the agent is talking to on a call, as the conversation needs it: language, time zone, the model.

The language is the profile's, or the one spoken in the called number's country; the lead's time zone is
the one given with the call, or the number's (when the number has a single zone), or the calendar's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import timezone as number_zones

from ai_agent.llm.policy import DialoguePolicy
from ai_agent.llm.policy_lines import CallContext
from ai_agent.llm.policy_prompt import render_prompt
from ai_agent.profiles.repository import ProfileRecord

COUNTRY_LANGUAGES = {
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "FR": "fr",
    "BE": "fr",
    "ES": "es",
    "MX": "es",
    "AR": "es",
    "CO": "es",
    "IT": "it",
    "PT": "pt",
    "BR": "pt",
    "NL": "nl",
    "PL": "pl",
    "SE": "sv",
    "NO": "nb",
    "DK": "da",
    "FI": "fi",
    "CZ": "cs",
    "TR": "tr",
    "RU": "ru",
    "JP": "ja",
    "CN": "zh",
    "KR": "ko",
}


def language_for_number(number: str) -> str:
    """The language most spoken in the number's country (English where unknown)."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return "en"
    return COUNTRY_LANGUAGES.get(region or "", "en")


def zone_for_number(number: str) -> str | None:
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


@dataclass(frozen=True, slots=True)
class CallFacts:
    call_id: str
    to_number: str
    lead: Mapping[str, Any]
    profile: ProfileRecord
    calendar_zone: str

    @property
    def language(self) -> str:
        return self.profile.language or language_for_number(self.to_number)

    @property
    def time_zone(self) -> str:
        given = self.lead.get("timezone")
        return str(given) if given else zone_for_number(self.to_number) or self.calendar_zone

    @property
    def lead_name(self) -> str | None:
        name = self.lead.get("name")
        return str(name) if name else None

    def vocabulary(self) -> list[str]:
        """What this person is likely to say that speech to text would not expect: their name, and their
        email address as it is spoken."""
        email = self.lead.get("email")
        spoken = str(email).replace(".", " dot ").replace("@", " at ") if email else None
        return [" ".join(word.split()) for word in (self.lead_name, spoken) if word]

    def context(self) -> CallContext:
        email = self.lead.get("email")
        return CallContext(
            company=self.profile.company_name,
            agent_name=self.profile.agent_name,
            lead_name=self.lead_name,
            timezone=self.time_zone,
            topic=None,
            meeting_minutes=30,
            lead_email=str(email) if email else None,
            callback_number=None,
            calling_hours=(dt.time(8), dt.time(21)),
            meeting_hours=(dt.time(9), dt.time(17)),
        )

    def policy(self) -> DialoguePolicy:
        context = self.context()
        return DialoguePolicy(
            company=context.company,
            agent_name=context.agent_name,
            lead_name=context.lead_name,
            timezone=context.timezone,
            lead_email=context.lead_email,
        )

    def system_prompt(self, template: str, now: dt.datetime) -> str:
        return render_prompt(self.profile.system_prompt or template, self.context(), now)
