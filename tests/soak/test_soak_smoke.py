"""Smoke test of ``make soak``'s load run (bench/soak.py), so the script cannot rot: about 18 s of its mixed
traffic at low rates over the real stack (the four services as processes, a throwaway database, the local
Asterisk). It must exit 0 with no error of any kind and report every endpoint of its mix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import server_url

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
SERVICES = {"gateway", "dialer", "ari-bridge", "ai-agent"}
ENDPOINTS = {  # what the soak's traffic is made of: setup, the API round, calls
    "POST /api/v1/campaigns",
    "POST /api/v1/leads/import",
    "GET /api/v1/leads/imports/{id}",
    "POST /api/v1/campaigns/{id}/start",
    "GET /api/v1/me",
    "GET /api/v1/calls",
    "GET /api/v1/calls?cursor",
    "GET /api/v1/calls/{id}",
    "GET /api/v1/calls/{id}/events",
    "POST /api/v1/leads",
    "GET /api/v1/leads/{id}",
    "PATCH /api/v1/leads/{id}",
    "DELETE /api/v1/leads/{id}",
    "GET /api/v1/leads",
    "GET /api/v1/leads?cursor",
    "GET /api/v1/campaigns/{id}",
    "GET /api/v1/campaigns/{id}/report",
    "GET /api/v1/campaigns/{id}/leads",
    "GET /api/v1/analytics/overview",
    "GET /api/v1/analytics/call-outcomes",
    "GET /api/v1/analytics/lead-statuses",
    "GET /api/v1/analytics/recent-activity",
    "POST /api/v1/calls",
}

pytestmark = pytest.mark.asterisk


def soak_command(asterisk: AsteriskInfo, out: Path) -> list[str]:
    rates = ["--duration", "18", "--rate", "4", "--call-rate", "0.2", "--campaign-rate", "0.5"]
    return [
        *(sys.executable, str(SOAK), *rates, "--subscribers", "2", "--settle", "40"),
        *("--database-url", server_url(), "--ari-url", asterisk.ari_url),
        *("--ari-user", asterisk.username, "--ari-password", asterisk.password),
        *("--log-dir", str(out), "--json", str(out / "soak.json")),
    ]


def test_a_short_soak_ends_with_no_error_and_reports_every_endpoint(
    asterisk: AsteriskInfo, tmp_path: Path
) -> None:
    """Exit 0 and an empty error list; every endpoint of the mix was answered, never with an unexpected
    status; every SSE subscriber received events and missed none; the campaign settled every lead and each
    call completed; the audit is clean; the memory of all four services was sampled."""
    finished = subprocess.run(soak_command(asterisk, tmp_path), capture_output=True, text=True, timeout=150)
    output = f"{finished.stdout[-4000:]}\n{finished.stderr[-4000:]}"
    assert finished.returncode == 0, output
    report = json.loads((tmp_path / "soak.json").read_text())

    assert report["ok"] and report["errors"] == [], output
    assert set(report["endpoints"]) == ENDPOINTS, output
    assert all(e["count"] > 0 and e["errors"] == 0 and e["p99"] > 0 for e in report["endpoints"].values())
    assert report["requests_per_s"] > 2
    assert len(report["sse"]["events"]) == 2 and min(report["sse"]["events"]) > 0
    assert report["sse"]["missed"] == [0, 0]
    campaign = report["campaign"]
    assert campaign["status"] == "completed" and campaign["leads_settled"] == campaign["leads"] > 0
    assert set(campaign["call_statuses"]) == {"completed"}
    assert campaign["call_statuses"]["completed"] > campaign["leads"]  # the API's calls too
    assert report["audit"]["violations"] == []
    assert set(report["memory"]) == SERVICES
    assert all(m["start_mib"] > 0 and m["end_mib"] > 0 for m in report["memory"].values())
