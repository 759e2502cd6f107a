"""``make demo``'s main job, on the running local stack: a client's first call, shown as curl commands.

Creates (or resets) the user ``demo``, gets a token, places a call to the test carrier's +12025550100
(answers, 3 s of silence, hangs up), follows it to its end and prints its timeline. Exits 1 if the call
does not end ``completed`` within a minute.
"""
# ruff: noqa: S603  -- the subprocess is this repository's own CLI

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx

GATEWAY = os.environ.get("DEMO_GATEWAY_URL", "http://127.0.0.1:8000")
USER = "demo"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password-change-me")
NUMBER = "+12025550100"
FINAL = {"completed", "busy", "no_answer", "failed", "canceled"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dialplane.cli", *args], capture_output=True, text=True, check=False
    )


def ensure_user() -> None:
    created = cli(
        "users", "create", USER, "--password", PASSWORD, "--scope", "calls:read", "--scope", "calls:write"
    )
    if created.returncode != 0:
        reset = cli("users", "set-password", USER, "--password", PASSWORD)
        if reset.returncode != 0:
            raise SystemExit(f"could not create or reset the demo user:\n{created.stderr}{reset.stderr}")


def show(command: str, answer: httpx.Response) -> None:
    print(f"\n$ {command}\n{answer.status_code} {json.dumps(answer.json(), indent=2)[:1500]}")


def main() -> int:
    ensure_user()
    with httpx.Client(base_url=GATEWAY, timeout=10) as client:
        token = client.post("/api/v1/token", data={"username": USER, "password": PASSWORD})
        show(f"curl -s -X POST {GATEWAY}/api/v1/token -d username={USER} -d password=…", token)
        token.raise_for_status()
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = client.post("/api/v1/calls", headers=auth, json={"to": NUMBER})
        show(
            f"curl -s -X POST {GATEWAY}/api/v1/calls -H 'Authorization: Bearer $TOKEN'"
            f" -H 'Content-Type: application/json' -d '{{\"to\": \"{NUMBER}\"}}'",
            created,
        )
        created.raise_for_status()
        call_id = created.json()["id"]
        call = follow(client, auth, call_id)
        show(f"curl -s {GATEWAY}/api/v1/calls/{call_id} -H 'Authorization: Bearer $TOKEN'", call)
        timeline = client.get(f"/api/v1/calls/{call_id}/events", headers=auth)
        print("\ntimeline:", " → ".join(item["status"] for item in timeline.json()["items"]))
    return 0 if call.json()["status"] == "completed" else 1


def follow(client: httpx.Client, auth: dict[str, str], call_id: str) -> httpx.Response:
    deadline, seen = time.monotonic() + 60, ""
    while True:
        answer = client.get(f"/api/v1/calls/{call_id}", headers=auth)
        status = answer.json()["status"]
        if status != seen:
            print(f"  … {status}", flush=True)
            seen = status
        if status in FINAL or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
