"""``make demo``'s main job, on the running local stack: an AI call, shown as the API calls a client makes.

Creates (or resets) the user ``demo-ai``, gets a token, places an agent call to the test carrier's
+12025550110 (a person who wants a meeting), prints the conversation live from the event stream
(``GET /api/v1/events?call_id=…``: each turn as it is spoken) and, at the end, the call's outcome and the
meeting that was booked. A meeting an earlier demo booked at that time is cancelled first. Exits 1 unless
the call ends with a meeting booked within three minutes.
"""
# ruff: noqa: S603  -- the subprocess is this repository's own CLI

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx

GATEWAY = os.environ.get("DEMO_GATEWAY_URL", "http://127.0.0.1:8000")
USER = "demo-ai"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password-change-me")
NUMBER = "+12025550110"
LEAD = {"name": "Jane Doe", "email": "jane.doe@example.com", "timezone": "America/New_York"}
SCOPES = ("calls:read", "calls:write", "meetings:read", "meetings:write")
FINAL = {"completed", "busy", "no_answer", "failed", "canceled"}
WAIT_SECONDS = 180


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dialplane.cli", *args], capture_output=True, text=True, check=False
    )


def ensure_user() -> None:
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    created = cli("users", "create", USER, "--password", PASSWORD, *scopes)
    if created.returncode != 0:
        reset = cli("users", "set-password", USER, "--password", PASSWORD)
        if reset.returncode != 0:
            raise SystemExit(f"could not create or reset the demo user:\n{created.stderr}{reset.stderr}")


def show(command: str, answer: httpx.Response) -> None:
    print(f"\n$ {command}\n{answer.status_code} {json.dumps(answer.json(), indent=2)[:1200]}")


def main() -> int:
    ensure_user()
    with httpx.Client(base_url=GATEWAY, timeout=10) as client:
        token = client.post("/api/v1/token", data={"username": USER, "password": PASSWORD})
        show(f"curl -s -X POST {GATEWAY}/api/v1/token -d username={USER} -d password=…", token)
        token.raise_for_status()
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        free_the_slot(client, auth)
        body = {"to": NUMBER, "agent": {"lead": LEAD}}
        created = client.post("/api/v1/calls", headers=auth, json=body)
        show(
            f"curl -s -X POST {GATEWAY}/api/v1/calls -H 'Authorization: Bearer $TOKEN'"
            f" -H 'Content-Type: application/json' -d '{json.dumps(body)}'",
            created,
        )
        created.raise_for_status()
        call_id = created.json()["id"]
        print(f"\n$ curl -sN '{GATEWAY}/api/v1/events?call_id={call_id}' -H 'Authorization: Bearer $TOKEN'")
        threading.Thread(target=print_live, args=(auth, call_id), daemon=True).start()
        call = wait_for_outcome(client, auth, call_id)
        time.sleep(0.5)  # the last lines of the live view
        show(f"curl -s {GATEWAY}/api/v1/calls/{call_id} -H 'Authorization: Bearer $TOKEN'", call)
        meetings = client.get("/api/v1/meetings", params={"call_id": call_id}, headers=auth)
        show(
            f"curl -s '{GATEWAY}/api/v1/meetings?call_id={call_id}' -H 'Authorization: Bearer $TOKEN'",
            meetings,
        )
    booked = call.json().get("outcome") == "meeting_booked" and meetings.json().get("items")
    print(f"\noutcome: {call.json().get('outcome')} — {call.json().get('summary')}")
    return 0 if booked else 1


def free_the_slot(client: httpx.Client, auth: dict[str, str]) -> None:
    """The demo's person asks for tomorrow at 10 am: cancel what an earlier demo booked there."""
    zone = ZoneInfo(str(LEAD["timezone"]))
    start = dt.datetime.combine(dt.datetime.now(zone).date() + dt.timedelta(days=1), dt.time(10), zone)
    window = {"from": start.isoformat(), "to": (start + dt.timedelta(minutes=30)).isoformat()}
    booked = client.get("/api/v1/meetings", params={**window, "status": "scheduled"}, headers=auth)
    for meeting in booked.json().get("items", []) if booked.is_success else []:
        client.patch(f"/api/v1/meetings/{meeting['id']}", json={"status": "cancelled"}, headers=auth)
        print(f"(cancelled the meeting an earlier demo booked at {start:%Y-%m-%d %H:%M %Z})")


def print_live(auth: dict[str, str], call_id: str) -> None:
    """The call's events as they happen: status changes, and each turn of the conversation."""
    url = f"{GATEWAY}/api/v1/events"
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", url, params={"call_id": call_id}, headers=auth) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("data: "):
                print(describe(json.loads(line.removeprefix("data: "))), flush=True)


def describe(event: dict[str, Any]) -> str:
    data = event["data"]
    if event["type"] == "conversation.turn":
        who = "agent " if data["speaker"] == "agent" else "person"
        cut = " [interrupted]" if data.get("interrupted") else ""
        return f"  {who}: {data['text']}{cut}"
    if event["type"] == "conversation.ended":
        return f"  … conversation ended: {data.get('outcome')}"
    return f"  … {event['type'].removeprefix('call.')}"


def wait_for_outcome(client: httpx.Client, auth: dict[str, str], call_id: str) -> httpx.Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = client.get(f"/api/v1/calls/{call_id}", headers=auth)
        call = answer.json()
        ended = call["status"] in FINAL and (call["outcome"] is not None or call["status"] != "completed")
        if ended or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
