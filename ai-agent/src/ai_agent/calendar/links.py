"""Meeting links made from a template such as ``https://meet.example.com/{meeting_id}``.

Placeholders: ``{meeting_id}`` and ``{calendar}``; values are percent-encoded. A template is checked when
the settings are loaded (unknown placeholders, a result that is not an http(s) URL), not when a meeting is
booked. The link is made once, at booking, and stored with the meeting.
"""

from __future__ import annotations

import string
from urllib.parse import quote, urlsplit

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
