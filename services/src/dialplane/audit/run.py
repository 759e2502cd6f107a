"""Running every check on one consistent snapshot of the database."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.audit.campaigns import load_facts
from dialplane.audit.dialing import check_do_not_call, check_overlaps
from dialplane.audit.events import check_events
from dialplane.audit.findings import AuditReport, Invariant, Scope
from dialplane.audit.leads import check_leads
from dialplane.audit.limits import check_limits
from dialplane.audit.webhooks import check_webhooks
from dialplane.db import SessionFactory

_ORDER = list(Invariant)
_SNAPSHOT = text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


async def run_audit(session: AsyncSession, scope: Scope | None = None) -> AuditReport:
    """Every check, in ``session``'s transaction; findings ordered by invariant."""
    scope = scope or Scope()
    facts = await load_facts(session, scope)
    findings = [
        *await check_leads(session, scope, facts),
        *await check_limits(session, scope, facts),
        *await check_events(session, scope),
        *await check_webhooks(session, scope),
        *await check_overlaps(session, scope),
        *await check_do_not_call(session, scope),
    ]
    findings.sort(key=lambda finding: _ORDER.index(finding.invariant))
    return AuditReport(scope, findings)


async def audit_database(sessions: SessionFactory, scope: Scope | None = None) -> AuditReport:
    """:func:`run_audit` in a read-only transaction of its own that sees one snapshot (repeatable read), so
    a database in use is judged as it was at one moment."""
    async with sessions() as session, session.begin():
        await session.execute(_SNAPSHOT)
        return await run_audit(session, scope)


async def campaign_exists(sessions: SessionFactory, scope: Scope) -> bool:
    if scope.campaign_id is None:
        return True
    query = text("SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = :campaign_id)")
    async with sessions() as session, session.begin():
        return bool(await session.scalar(query, scope.params()))
