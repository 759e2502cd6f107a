"""Meeting links: the :class:`MeetingLinks` protocol, and links made from a template such as
``https://meet.example.com/{meeting_id}`` (:class:`TemplateLinks`; Zoom is :mod:`ai_agent.calendar.zoom`).

Placeholders: ``{meeting_id}`` and ``{calendar}``; values are percent-encoded. A template is checked when
the settings are loaded (unknown placeholders, a result that is not an http(s) URL), not when a meeting is
booked. The link is made once, at booking, and stored with the meeting.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from ai_agent.calendar.interface import Meeting

DEFAULT_LINK_TEMPLATE = "https://meet.example.com/{meeting_id}"
PLACEHOLDERS = frozenset({"meeting_id", "calendar"})


def meeting_link(template: str | None, *, meeting_id: str, calendar: str) -> str | None:
    """The link of a meeting, or None when the calendar has no template."""
    if template is None:
        return None
    return template.format(meeting_id=quote(meeting_id, safe=""), calendar=quote(calendar, safe=""))


def validate_link_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` makes an http(s) URL from the known placeholders."""
    try:
        parsed = [
            (name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
        ]
    except ValueError as exc:
        raise ValueError(f"malformed link template {template!r}: {exc}") from exc
    fields = {name for name, _, _ in parsed if name is not None}
    if any(spec or conversion for _, spec, conversion in parsed):
        raise ValueError(f"link template placeholders take no format spec or conversion: {template!r}")
    if unknown := fields - PLACEHOLDERS:
        raise ValueError(f"unknown placeholders in link template: {', '.join(sorted(unknown))}")
    sample = urlsplit(meeting_link(template, meeting_id="00000000-0000-0000-0000-000000000000", calendar="c"))
    if sample.scheme not in {"http", "https"} or not sample.netloc:
        raise ValueError(f"the link template must make an http(s) URL: {template!r}")


class MeetingLinks(Protocol):
    """Where a calendar's meeting links come from."""

    async def link(self, meeting: Meeting) -> str | None:
        """The link of ``meeting``, just booked (its own ``link`` is still None), or None for no link. A
        service that fails raises a :class:`~ai_agent.calendar.interface.CalendarError`: the calendar then
        keeps the meeting without a link."""
        ...

    async def aclose(self) -> None:
        """Release what the provider holds (HTTP connections)."""
        ...


@dataclass(frozen=True, slots=True)
class TemplateLinks:
    """Links from a template (checked here too); None: meetings get no link."""

    template: str | None = DEFAULT_LINK_TEMPLATE

    def __post_init__(self) -> None:
        if self.template is not None:
            validate_link_template(self.template)

    async def link(self, meeting: Meeting) -> str | None:
        return meeting_link(self.template, meeting_id=meeting.id, calendar=meeting.calendar)

    async def aclose(self) -> None:
        return None
