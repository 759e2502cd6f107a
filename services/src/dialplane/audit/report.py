"""An audit report for people (grouped by invariant) and for programs (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dialplane.audit.findings import AuditReport, Finding, Invariant
from dialplane.log import mask_number


def as_text(report: AuditReport, *, settled: bool = False) -> str:
    """One line per invariant (``ok`` or ``FAIL`` with its findings), then what is in flight, then the
    verdict."""
    what = f"campaign {report.scope.campaign_id}" if report.scope.campaign_id else "the whole database"
    lines = [f"Audit of {what}"]
    for invariant in Invariant:
        found = report.of(invariant)
        mark = "FAIL" if found else "ok"
        lines.append(f"[{mark:>4}] {invariant.heading}{_count(found)}")
        lines += [f"         {line(finding)}" for finding in found]
    if report.in_flight:
        note = "counted as findings: --settled" if settled else "not wrong while the system runs"
        lines.append(f"In flight{_count(report.in_flight)} ({note})")
        lines += [f"         [{finding.invariant}] {line(finding)}" for finding in report.in_flight]
    lines.append(_verdict(report, settled=settled))
    return "\n".join(lines)


def line(finding: Finding) -> str:
    """``call …: what is wrong (lead …, campaign …, number +44*****12)``."""
    context = []
    if finding.call_id is not None and finding.lead_id is not None:
        context.append(f"lead {finding.lead_id}")
    if finding.campaign_id is not None and finding.subject != f"campaign {finding.campaign_id}":
        context.append(f"campaign {finding.campaign_id}")
    if finding.number and not finding.subject.startswith("number "):
        context.append(f"number {mask_number(finding.number)}")
    suffix = f" ({', '.join(context)})" if context else ""
    return f"{finding.subject}: {finding.message}{suffix}"


def _count(findings: Sequence[Finding]) -> str:
    return f" — {len(findings)}" if findings else ""


def _verdict(report: AuditReport, *, settled: bool) -> str:
    wrong = report.findings if settled else report.violations
    if not wrong:
        return "Clean: every invariant holds."
    groups = len({finding.invariant for finding in wrong})
    return f"{len(wrong)} finding{'s' if len(wrong) != 1 else ''} in {groups} of {len(Invariant)} invariants."


def as_json(report: AuditReport, *, settled: bool = False) -> str:
    body = {
        "campaign_id": str(report.scope.campaign_id) if report.scope.campaign_id else None,
        "clean": report.clean(settled=settled),
        "settled": settled,
        "violations": [finding.as_json() for finding in report.violations],
        "in_flight": [finding.as_json() for finding in report.in_flight],
    }
    return json.dumps(body, indent=2)
