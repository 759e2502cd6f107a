"""The audit of a Dialplane database (``uv run dialplane audit``): the invariants that must hold whatever
crashed, restarted or was cut off — leads and calls in a consistent final state, no number dialed more than
its policy allows, no call event lost, every webhook delivered, no overlapping calls of a lead, no call to a
number on the do-not-call list.

Each check reads the dialer's tables by SQL (the schema of :mod:`dialplane.migrations`) and returns
:class:`Finding` objects; :func:`audit_database` runs them all on one snapshot. Work still going on (a call
in progress, a pending delivery, leads waiting for a retry) is reported ``in_flight``, not as a violation.
"""

from dialplane.audit.findings import AuditReport, Finding, Invariant, Scope
from dialplane.audit.run import audit_database, run_audit

__all__ = ["AuditReport", "Finding", "Invariant", "Scope", "audit_database", "run_audit"]
