"""The gateway declares the dialer's do-not-call and dial-refusal routes with the same models, checks the
scopes and forwards: entries are added, checked, imported, exported and removed through it; refusals of
calls are listed, masked for those who may not read the list; an import is bounded by the body limit."""

from __future__ import annotations

import csv
import io

import httpx

from dialer.main import create_app as create_dialer
from dialer.testing import dialer_settings
from gateway.main import create_app
from gateway.testing import gateway_settings

from .conftest import MAX_BODY_BYTES, Login

DNC = "/api/v1/do-not-call"
CSV = {"content-type": "text/csv"}


def test_every_do_not_call_and_refusal_route_of_the_dialer_is_declared_by_the_gateway(
    database_url: str,
) -> None:
    internal = create_dialer(dialer_settings(database_url)).openapi()["paths"]
    public = create_app(gateway_settings(database_url)).openapi()["paths"]
    routes = [
        (path, method, operation)
        for path, operations in internal.items()
        if path.startswith((DNC, "/api/v1/dial-refusals"))
        for method, operation in operations.items()
    ]
    assert len(routes) == 8
    for path, method, operation in routes:
        declared = public[path][method]
        assert set(operation["responses"]) - {"422"} <= set(declared["responses"]), (method, path)
        internal_params = {p["name"] for p in operation.get("parameters", []) if p["in"] != "header"}
        assert internal_params <= {p["name"] for p in declared.get("parameters", [])}, (method, path)
        assert operation.get("requestBody") == declared.get("requestBody"), (method, path)


async def test_entries_round_trip_through_the_gateway(client: httpx.AsyncClient, log_in: Login) -> None:
    headers = await log_in(["do_not_call:read", "do_not_call:write"])

    added = await client.post(DNC, headers=headers, json={"number": "+1 202 555 0101"})
    again = await client.post(DNC, headers=headers, json={"number": "+12025550101"})
    checked = await client.get(f"{DNC}/check", headers=headers, params={"number": "+12025550101"})
    imported = await client.post(
        f"{DNC}/import", headers={**headers, **CSV}, content=b"number,match\n+1312,prefix\nnope,\n"
    )
    listed = await client.get(DNC, headers=headers)
    exported = await client.get(f"{DNC}/export", headers=headers)
    deleted = await client.delete(f"{DNC}/{added.json()['id']}", headers=headers)
    gone = await client.get(f"{DNC}/{added.json()['id']}", headers=headers)

    assert added.status_code == 201 and added.headers["location"] == f"{DNC}/{added.json()['id']}"
    assert again.status_code == 409 and again.json()["id"] == added.json()["id"]
    assert checked.json() == {"blocked": True, "entry": added.json()}
    assert imported.json()["added"] == 1 and imported.json()["errors"][0]["line"] == 3
    assert [e["number"] for e in listed.json()["items"]] == ["+1312", "+12025550101"]
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == 'attachment; filename="do-not-call.csv"'  # a download
    assert [row[0] for row in csv.reader(io.StringIO(exported.text))] == ["number", "'+1312", "'+12025550101"]
    assert deleted.status_code == 204 and gone.status_code == 404


async def test_reading_and_changing_need_their_scopes(client: httpx.AsyncClient, log_in: Login) -> None:
    reader = await log_in(["do_not_call:read"])
    other = await log_in(["calls:read", "calls:write", "campaigns:read"])

    assert (await client.get(DNC, headers=reader)).status_code == 200
    assert (await client.get(f"{DNC}/export", headers=reader)).status_code == 200
    for denied in (
        await client.post(DNC, headers=reader, json={"number": "+12025550101"}),
        await client.post(f"{DNC}/import", headers={**reader, **CSV}, content=b"number\n"),
        await client.delete(f"{DNC}/1", headers=reader),
        await client.get(DNC, headers=other),
        await client.get(f"{DNC}/check", headers=other, params={"number": "+12025550101"}),
        await client.get(f"{DNC}/export", headers=other),
    ):
        assert denied.status_code == 403 and denied.json()["code"] == "insufficient_scope"
    assert (await client.get(DNC)).status_code == 401


async def test_bad_input_is_refused_at_the_edge(client: httpx.AsyncClient, log_in: Login) -> None:
    headers = await log_in(["do_not_call:read", "do_not_call:write"])
    prefix = await client.post(DNC, headers=headers, json={"number": "+1 202", "match": "prefix"})
    entry_id = await client.get(f"{DNC}/0", headers=headers)
    assert prefix.status_code == 422 and prefix.json()["errors"][0]["field"] == "number"
    assert entry_id.status_code == 422


async def test_an_import_through_the_gateway_is_bounded_by_its_body_limit(
    client: httpx.AsyncClient, log_in: Login
) -> None:
    headers = {**await log_in(["do_not_call:write"]), **CSV}
    rows = [f"+1202{n:07d}" for n in range(MAX_BODY_BYTES // 13 + 1)]
    body = "\n".join(["number", *rows]).encode()
    assert len(body) > MAX_BODY_BYTES
    assert (await client.post(f"{DNC}/import", headers=headers, content=body)).status_code == 413
    fits = await client.post(f"{DNC}/import", headers=headers, content=body[: MAX_BODY_BYTES - 100])
    assert fits.status_code == 200 and fits.json()["invalid"] <= 1


async def test_refusals_of_calls_are_listed_masked_without_do_not_call_read(
    client: httpx.AsyncClient, log_in: Login
) -> None:
    admin = await log_in(["admin"])
    operator = await log_in(["campaigns:read"])
    await client.post(DNC, headers=admin, json={"number": "+12025550123"})
    refused = await client.post("/api/v1/calls", headers=admin, json={"to": "+12025550123"})

    full = (await client.get("/api/v1/dial-refusals", headers=admin)).json()["items"]
    masked = (await client.get("/api/v1/dial-refusals", headers=operator)).json()["items"]
    denied = await client.get("/api/v1/dial-refusals", headers=await log_in(["do_not_call:read"]))

    assert refused.status_code == 422
    assert [(i["rule"], i["call_id"], i["number"]) for i in full] == [
        ("do_not_call", refused.json()["call_id"], "+12025550123")
    ]
    assert [i["number"] for i in masked] == ["+1********23"]
    assert denied.status_code == 403
