"""Calls that should not have been placed.

* Overlap: a lead's call placed while another call of the same lead (in any campaign) was still going on —
  from its creation to its end; a call not ended yet goes on for ever.
* Do-not-call: a call placed (not refused) to a number that was on the do-not-call list in force at the
  moment the call was created — the global list for every call, the campaign's list for its calls; exact
  entries and prefixes. Such a call should have been a refusal (``dial_refusals``, or a call row with
  ``refused_by``).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.audit.findings import Finding, Invariant, Scope, in_scope
from dialplane.calls import TERMINAL
from dialplane.log import mask_number

_TERMINAL = ", ".join(f"'{status.value}'" for status in sorted(TERMINAL))

_OVERLAPS = text(
    f"""
    SELECT b.id, b.lead_id, b.campaign_id, b.to_number, a.id AS earlier, a.status AS earlier_status,
           a.ended_at AS earlier_ended_at
    FROM calls a
    JOIN calls b ON b.lead_id = a.lead_id AND (a.created_at, a.id) < (b.created_at, b.id)
    WHERE a.lead_id IS NOT NULL AND a.refused_by IS NULL AND b.refused_by IS NULL
      AND b.created_at < COALESCE(
          a.ended_at, CASE WHEN a.status IN ({_TERMINAL}) THEN a.updated_at END, 'infinity')
      AND ({in_scope("a.campaign_id")} OR {in_scope("b.campaign_id")})
    ORDER BY b.created_at, b.id
    """
)
_LISTED = text(
    f"""
    SELECT DISTINCT ON (c.id) c.id, c.campaign_id, c.lead_id, c.to_number, c.created_at,
           d.number AS entry, d.match, d.campaign_id AS list_campaign_id, d.created_at AS listed_at
    FROM calls c
    JOIN do_not_call d
      ON (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id)
     AND d.created_at <= c.created_at
     AND (d.expires_at IS NULL OR d.expires_at > c.created_at)
     AND ((d.match = 'exact' AND d.number = c.to_number)
          OR (d.match = 'prefix' AND left(c.to_number, length(d.number)) = d.number))
    WHERE c.refused_by IS NULL AND {in_scope("c.campaign_id")}
    ORDER BY c.id, d.created_at
    """
)


async def check_overlaps(session: AsyncSession, scope: Scope) -> list[Finding]:
    rows = (await session.execute(_OVERLAPS, scope.params())).all()
    return [
        Finding(
            Invariant.OVERLAP,
            f"placed while the lead's call {row.earlier} was still going on"
            f" ({_ended(row.earlier_status, row.earlier_ended_at)})",
            call_id=row.id,
            lead_id=row.lead_id,
            campaign_id=row.campaign_id,
            number=row.to_number,
        )
        for row in rows
    ]


def _ended(status: str, ended_at: object) -> str:
    if ended_at is None:
        return f"it is {status}"
    return f"it ended {status} at {ended_at}"


async def check_do_not_call(session: AsyncSession, scope: Scope) -> list[Finding]:
    rows = (await session.execute(_LISTED, scope.params())).all()
    return [
        Finding(
            Invariant.DO_NOT_CALL,
            f"placed at {row.created_at}, after {_entry(row.entry, row.match)} went on the"
            f" {'campaign' if row.list_campaign_id else 'global'} do-not-call list at {row.listed_at}:"
            " it should have been refused",
            call_id=row.id,
            lead_id=row.lead_id,
            campaign_id=row.campaign_id,
            number=row.to_number,
        )
        for row in rows
    ]


def _entry(number: str, match: str) -> str:
    return "the number" if match == "exact" else f"the prefix {mask_number(number)}"
