"""``dialplane audit [--database-url URL] [--campaign ID] [--settled] [--json]``.

Exit codes: 0 every invariant holds, 1 findings (printed grouped by invariant), 2 the audit could not run
(bad campaign id, no such campaign, database unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from dialplane.audit import report
from dialplane.audit.findings import AuditReport, Scope
from dialplane.audit.run import audit_database, campaign_exists
from dialplane.db import create_engine, create_session_factory, redact_url
from dialplane.settings import ServiceSettings

CLEAN, FINDINGS, UNUSABLE = 0, 1, 2


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "audit", help="check the invariants (no lost event, no over-dialing, ...) on a database"
    )
    parser.add_argument("--database-url", metavar="URL", help="default: $DIALPLANE_DATABASE_URL")
    parser.add_argument("--campaign", metavar="ID", help="audit one campaign's calls and leads")
    parser.add_argument(
        "--settled", action="store_true", help="the system is at rest: anything in flight is a finding"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        scope = Scope(uuid.UUID(args.campaign) if args.campaign else None)
    except ValueError:
        print(f"error: not a campaign id: {args.campaign}", file=sys.stderr)
        return UNUSABLE
    url = ServiceSettings(**({"database_url": args.database_url} if args.database_url else {})).database_url
    print(f"database: {redact_url(url)}", file=sys.stderr)
    try:
        audited = asyncio.run(_audit(url, scope))
    except (OSError, OperationalError, DBAPIError) as exc:
        print(f"error: the database cannot be audited: {exc}", file=sys.stderr)
        return UNUSABLE
    if audited is None:
        print(f"error: no campaign {scope.campaign_id}", file=sys.stderr)
        return UNUSABLE
    render = report.as_json if args.json else report.as_text
    print(render(audited, settled=args.settled))
    return CLEAN if audited.clean(settled=args.settled) else FINDINGS


async def _audit(url: str, scope: Scope) -> AuditReport | None:
    engine = create_engine(ServiceSettings(database_url=url), pool_size=1, max_overflow=0)
    try:
        sessions = create_session_factory(engine)
        if not await campaign_exists(sessions, scope):
            return None
        return await audit_database(sessions, scope)
    finally:
        await engine.dispose()
