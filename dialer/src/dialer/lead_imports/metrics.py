"""Metrics of lead imports."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from dialplane.metrics import NAMESPACE

UPLOADED_BYTES = Counter(
    "dialer_lead_import_uploaded_bytes_total", "Bytes of lead files stored for import.", namespace=NAMESPACE
)
ROWS = Counter(
    "dialer_lead_import_rows_total",
    "Rows of lead files imported, by result (created, merged, failed).",
    ["result"],
    namespace=NAMESPACE,
)
IMPORTS = Counter(
    "dialer_lead_imports_finished_total",
    "Lead imports finished, by status (completed, failed).",
    ["status"],
    namespace=NAMESPACE,
)
BATCH_DURATION = Histogram(
    "dialer_lead_import_batch_duration_seconds",
    "Time to write one batch of rows (its transaction).",
    namespace=NAMESPACE,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
