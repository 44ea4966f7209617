"""Fixtures for legacy-system tests: the stand-in server, a seeded company, a browser pool, workers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from hrops.settings import reset_settings

SYSTEM = "classic_hris"
DEFAULTS = {
    "layout": "v1",
    "fault_500_rate": 0.0,
    "slow_rate": 0.0,
    "slow_seconds": 2.0,
    "slow_on": [],
    "expire_rate": 0.0,
    "session_ttl": 900,
    "detect_duplicates": True,
}


@dataclass
class Sim:
    url: str
    db_path: Any
    username: str
    password: str

    def configure(self, **changes: Any) -> dict[str, Any]:
        r = httpx.put(f"{self.url}/_sim/config", json=changes, timeout=10)
        r.raise_for_status()
        return r.json()

    def rows(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/_sim/employees", timeout=10).json()

    def stats(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/_sim/stats", timeout=10).json()


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`hrops legacy-sim` in its own process, as users run it (and off this process's GIL)."""
    from infra.legacy_hris import SimProcess

    with SimProcess(tmp_path_factory.mktemp("legacy") / "legacy_hris.db", seed=20261123) as sim:
        yield sim


@pytest.fixture
def sim(sim_server: Any, monkeypatch: pytest.MonkeyPatch) -> Sim:
    """The stand-in, wiped and back on its defaults; our settings point at it."""
    httpx.post(f"{sim_server.url}/_sim/reset", timeout=10).raise_for_status()
    username, password = next(iter(sim_server.users.items()))
    out = Sim(url=sim_server.url, db_path=sim_server.db_path, username=username, password=password)
    out.configure(**DEFAULTS)
    monkeypatch.setenv("HROPS_LEGACY_URLS", json.dumps({SYSTEM: sim_server.url}))
    monkeypatch.setenv("HROPS_LEGACY_CLASSIC_HRIS_USERNAME", username)
    monkeypatch.setenv("HROPS_LEGACY_CLASSIC_HRIS_PASSWORD", password)
    monkeypatch.setenv("HROPS_LEGACY_CONTEXTS", "4")
    monkeypatch.setenv("HROPS_LEGACY_STEP_TIMEOUT", "10")
    # The stand-in saves at once (or 0.3 s late when "slow"): a short grace is long enough.
    monkeypatch.setenv("HROPS_LEGACY_SUBMIT_GRACE", "3")
    reset_settings()
    return out


@pytest.fixture
def demo(store_url: str) -> str:
    """A small seeded demo company (divisions, levels and locations the mapping has codes for)."""
    from tools.demo_company import SeedOptions, seed_store

    seed_store(
        store_url,
        SeedOptions(employees=60, seed=7, learning_per_employee=0, as_of=date(2026, 11, 23)),
        actor="admin",
    )
    return store_url


@pytest.fixture(scope="session")
async def browser_pool() -> AsyncIterator[Any]:
    from tools.legacy.pool import shared_pool

    pool = shared_pool(4)
    yield pool
    await pool.close()


@pytest.fixture
async def legacy_workers(temporal_env: Any, demo: str, sim: Sim, browser_pool: Any) -> AsyncIterator[Any]:
    """Workers on both task queues (workflows on main, browser activities on rpa)."""
    from tests.conftest import terminate_running
    from workflows import task_queues
    from workflows.worker import build_worker

    main = build_worker(temporal_env.client, task_queues.MAIN)
    rpa = build_worker(temporal_env.client, task_queues.RPA)
    async with main, rpa:
        yield temporal_env.client
    await terminate_running(temporal_env.client)


def active_employees(url: str, n: int) -> list[str]:
    """Active employees in a division the stand-in has a department for (the CEO's office has none)."""
    from sqlalchemy import select

    from tools.legacy import catalog
    from tools.legacy.record import load_employee
    from tools.store.db import session_scope
    from tools.store.models import Employee

    departments = catalog.system(SYSTEM).tables["departments"]
    out = []
    with session_scope(url) as s:
        for eid in s.scalars(select(Employee.id).where(Employee.status == "active").order_by(Employee.id)):
            rec = load_employee(s, eid, date(2026, 11, 23))
            if rec and rec.division in departments:
                out.append(eid)
            if len(out) == n:
                break
    return out


def set_employee(url: str, employee_id: str, **fields: Any) -> None:
    from tools.store.db import session_scope
    from tools.store.models import Employee

    with session_scope(url, write=True) as s:
        emp = s.get(Employee, employee_id)
        assert emp is not None
        for k, v in fields.items():
            setattr(emp, k, v)


def set_home(url: str, employee_id: str, **fields: Any) -> None:
    """Change the home address in force (the latest effective-dated row)."""
    from sqlalchemy import select

    from tools.store.db import session_scope
    from tools.store.models import EmployeeAddress

    with session_scope(url, write=True) as s:
        home = s.scalars(
            select(EmployeeAddress)
            .where(EmployeeAddress.employee_id == employee_id)
            .order_by(EmployeeAddress.valid_from.desc())
        ).first()
        assert home is not None
        for k, v in fields.items():
            setattr(home, k, v)
