"""A 100,000-row file with deliberate errors (bad phones, time zones and consent, wrong numbers of cells, a
line too long, lines that are not UTF-8, repeated phones, quoted notes over two lines, blank lines): the
error report and the counts are exact, the row that comes last wins, and the worker's memory does not grow
with the file."""

from __future__ import annotations

from dialer.lead_imports.testing import LeadFile, peak_memory
from dialer.settings import Settings
from dialplane.db import SessionFactory

from .conftest import MAX_LINE_BYTES, assert_exact, forget_leads, run_worker_until_finished, store_file


async def import_measured(sessions: SessionFactory, settings: Settings, file: LeadFile) -> tuple[str, int]:
    """Import ``file`` with a worker; the import id and how much the memory grew meanwhile at its peak."""
    import_id = await store_file(sessions, file.pieces())
    with peak_memory() as peak:
        assert await run_worker_until_finished(sessions, settings, import_id, within=120) == "completed"
    return import_id, peak.growth


async def test_a_large_file_is_imported_exactly_with_flat_memory(
    sessions: SessionFactory, worker_settings: Settings
) -> None:
    existing = await forget_leads(sessions)
    await import_measured(sessions, worker_settings, LeadFile(2_000, MAX_LINE_BYTES))  # warms caches up

    await forget_leads(sessions)
    small_file = LeadFile(10_000, MAX_LINE_BYTES)
    small_id, small_peak = await import_measured(sessions, worker_settings, small_file)
    await assert_exact(sessions, small_id, small_file.expected(existing))

    await forget_leads(sessions)
    large_file = LeadFile(100_000, MAX_LINE_BYTES)
    large_id, large_peak = await import_measured(sessions, worker_settings, large_file)
    expected = large_file.expected(existing)
    await assert_exact(sessions, large_id, expected)

    assert expected.rows == 100_000 and expected.failed > 1000 and expected.merged > 7000
    assert {e.field for e in expected.errors} == {None, "phone", "timezone", "consent", "email", "language"}
    # Holding the file (8.9 MB) or its rows would show; the peak of 10,000 rows is the yardstick.
    assert large_peak < max(small_peak, 0) + 4 * 2**20, (small_peak, large_peak)
