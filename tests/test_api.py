"""The HTTP API against a real Temporal dev server and worker: sign-in, scoping, the slice."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hrops.api import auth
from hrops.api.app import app
from hrops.settings import get_settings


@pytest.fixture
async def api(temporal_env, main_worker):
    app.state.client = temporal_env.client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrops") as http:
        yield http
    app.state.client = None


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.issue(get_settings(), user)}"}


async def test_sign_in_is_required_and_checked(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json()["status"] == "ok"
    assert (await api.get("/api/me")).status_code == 401
    forged = auth.issue(get_settings(), "li.wei")[:-4] + "0000"
    assert (await api.get("/api/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    expired = auth.issue(get_settings(), "li.wei", ttl=-1)
    resp = await api.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]
    me = (await api.get("/api/me", headers=_as("li.wei"))).json()
    assert me["username"] == "li.wei" and set(me["roles"]) == {"employee", "manager"}
    tools = (await api.get("/api/tools", headers=_as("li.wei"))).json()
    assert {"name": "employee.change_address", "requires_approval": True}.items() <= next(
        t for t in tools if t["name"] == "employee.change_address"
    ).items()


async def test_request_approve_and_who_may_see_it(api: httpx.AsyncClient) -> None:
    body = {
        "employee_id": "E1003",
        "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
    }
    refused = await api.post("/api/requests/address-change", json=body, headers=_as("li.wei"))
    assert refused.status_code == 422 and "only for themselves" in refused.json()["detail"]
    bad = await api.post(
        "/api/requests/address-change",
        headers=_as("wang.fang"),
        json={**body, "address": {**body["address"], "country": "XX"}},
    )
    assert bad.status_code == 422 and "not an ISO 3166-1 alpha-2" in str(bad.json())

    created = await api.post("/api/requests/address-change", json=body, headers=_as("wang.fang"))
    assert created.status_code == 201
    request_id = created.json()["request_id"]

    for _ in range(50):
        inbox = (await api.get("/api/approvals", headers=_as("li.wei"))).json()
        if inbox:
            break
        await asyncio.sleep(0.1)
    assert [i["request_id"] for i in inbox] == [request_id]
    assert (await api.get("/api/approvals", headers=_as("wang.fang"))).json() == []

    # The requester, the approver and HR ops may see it; a colleague gets the same 404 as for nothing.
    for user in ("wang.fang", "li.wei", "amy.hughes"):
        assert (await api.get(f"/api/requests/{request_id}", headers=_as(user))).status_code == 200
    assert (await api.get(f"/api/requests/{request_id}", headers=_as("chen.jing"))).status_code == 404
    assert (await api.get("/api/requests/REQ-404", headers=_as("amy.hughes"))).status_code == 404

    own = await api.post(
        f"/api/requests/{request_id}/decision", json={"verdict": "approve"}, headers=_as("wang.fang")
    )
    assert (
        own.status_code == 409 and "wang.fang requested REQ-1 and cannot approve it" in own.json()["detail"]
    )
    wrong = await api.post(
        f"/api/requests/{request_id}/decision", json={"verdict": "approve"}, headers=_as("amy.hughes")
    )
    assert wrong.status_code == 409 and "amy.hughes may not decide" in wrong.json()["detail"]
    ok = await api.post(
        f"/api/requests/{request_id}/decision", json={"verdict": "approve"}, headers=_as("li.wei")
    )
    assert ok.status_code == 200 and ok.json()["approver"] == "li.wei"
    for _ in range(50):
        state = (await api.get(f"/api/requests/{request_id}", headers=_as("wang.fang"))).json()
        if state["stage"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert state["stage"] == "completed" and state["applied"]["effective_on"] == "2026-11-23"
