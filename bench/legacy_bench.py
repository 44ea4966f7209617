"""Legacy RPA throughput: the mapping engine vs a minimal hand-written Playwright script.

Both fill the same new-hire wizard of the stand-in (infra/legacy_hris) for the same employees,
with 1 and 4 browser contexts, in one run on one machine. The hand-written script is the
practical limit: fixed CSS ids, no search before create, no read-back, no evidence. The engine
is measured as shipped (search, fill, read-back, screenshots + HTML at every step) and without
evidence files, so the cost of each part is visible.

    .venv/bin/python bench/legacy_bench.py --records 12 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test helpers pick employees
console = Console()
SYSTEM = "classic_hris"
FLOOR = "hand-written script (floor)"


def _setup(workdir: Path, records: int) -> tuple[list[str], str]:
    os.environ["HROPS_VAR_DIR"] = str(workdir / "var")
    os.environ["HROPS_TODAY"] = "2026-11-23"
    from hrops.settings import reset_settings

    reset_settings()
    from tools.demo_company import SeedOptions, seed_store

    url = f"sqlite:///{workdir / 'var' / 'hrops.db'}"
    seed_store(
        url,
        SeedOptions(employees=max(60, records), seed=11, learning_per_employee=0, as_of=date(2026, 11, 23)),
    )
    from tests.legacy_fixtures import active_employees

    return active_employees(url, records), url


async def _engine_run(ids: list[str], contexts: int, evidence: bool, tag: str) -> float:
    from tools.legacy.pool import BrowserPool
    from tools.legacy.push import PushRequest, push

    pool = BrowserPool(contexts)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in ids:
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            eid = queue.get_nowait()
            await push(
                PushRequest(
                    system=SYSTEM,
                    form="new_hire",
                    employee_id=eid,
                    actor="admin",
                    evidence_folder=f"{tag}-{eid}",
                ),
                pool=pool,
                evidence=evidence,
            )

    async with pool.slot():  # start the browser before the clock
        pass
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(contexts)))
    took = time.perf_counter() - started
    await pool.close()
    return took


async def _hand_run(ids: list[str], contexts: int, base: str, user: str, password: str) -> float:
    """The minimal script a person would write for this one wizard."""
    from playwright.async_api import async_playwright

    from hrops.settings import get_settings
    from tools.browser import LAUNCH_ARGS, executable
    from tools.legacy.record import load_employee
    from tools.store.db import session_scope

    codes = {
        "departments": {
            "Engineering": "D100",
            "Product": "D200",
            "Sales": "D300",
            "Marketing": "D400",
            "Operations": "D500",
            "Finance": "D600",
            "Human Resources": "D700",
            "Legal": "D800",
        },
        "locations": {
            "Shanghai": "SHA",
            "Beijing": "PEK",
            "Shenzhen": "SZX",
            "Singapore": "SIN",
            "London": "LON",
            "New York": "NYC",
        },
        "positions": {
            "L1": "01",
            "L2": "02",
            "L3": "02",
            "L4": "03",
            "L5": "04",
            "L6": "04",
            "L7": "05",
            "L8": "06",
            "L9": "07",
        },
    }
    with session_scope(get_settings().db_url) as s:
        records = [load_employee(s, i, date(2026, 11, 23)) for i in ids]
    queue: asyncio.Queue = asyncio.Queue()
    for r in records:
        queue.put_nowait(r)
    path = executable()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(path) if path else None, args=LAUNCH_ARGS)

        async def worker() -> None:
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/login")
            await page.fill("#userid", user)
            await page.fill("#pwd", password)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/menu")
            while not queue.empty():
                r = queue.get_nowait()
                dept = codes["departments"][r.division]
                await page.goto(f"{base}/newhire/personal")
                await page.fill("#emp_no", r.employee_id[1:].rjust(6, "0"))
                await page.fill("#fam_nm", r.family_name)
                await page.fill("#gvn_nm", r.given_name)
                await page.fill("#nm_loc", r.local_name or "")
                await page.fill("#dob_dt", f"{r.birth_date:%d/%m/%Y}")
                await page.check(
                    f"input[name=sex][value={ {'female': 'F', 'male': 'M'}.get(r.gender or '', 'X') }]"
                )
                await page.fill("#nat_id", r.national_id or "")
                await page.click("button[type=submit]")
                await page.wait_for_url("**/newhire/job")
                await page.select_option("#dept_sel", dept)
                await page.wait_for_selector(
                    f"#pos_sel option[value='{dept}-{codes['positions'][r.level]}']", state="attached"
                )
                await page.select_option("#pos_sel", f"{dept}-{codes['positions'][r.level]}")
                await page.fill("#start_dt", f"{r.hire_date:%d/%m/%Y}")
                await page.check("input[name=emptype][value=FT]")
                await page.select_option("#loc_sel", codes["locations"][r.location])
                await page.click("button[type=submit]")
                await page.wait_for_url("**/newhire/pay")
                frame = page.frame_locator("#payframe")
                await frame.locator("#grade_sel").select_option(f"G{r.level[1:].rjust(2, '0')}")
                await frame.locator("#sal").fill(f"{r.base_amount:.2f}")
                await frame.locator("#ccy_sel").select_option(r.currency)
                await frame.locator("input[name=pension]").check()
                await frame.locator("button[type=submit]").click()
                await page.wait_for_url("**/newhire/confirm")
                await page.click("button[type=submit]")
                await page.wait_for_selector(".success")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(contexts)))
        took = time.perf_counter() - started
        await browser.close()
    return took


async def main(records: int, rounds: int) -> None:
    from infra.legacy_hris import SimProcess

    workdir = Path(tempfile.mkdtemp(prefix="hrops-bench-"))
    ids, _ = _setup(workdir, records)
    took: dict[tuple[str, int], list[float]] = {}
    # The stand-in runs in its own process, as a legacy system would: it shares the CPU, not the GIL.
    with SimProcess(workdir / "legacy.db") as sim:
        user, password = next(iter(sim.users.items()))
        os.environ["HROPS_LEGACY_URLS"] = f'{{"{SYSTEM}": "{sim.url}"}}'
        os.environ["HROPS_LEGACY_CLASSIC_HRIS_USERNAME"] = user
        os.environ["HROPS_LEGACY_CLASSIC_HRIS_PASSWORD"] = password
        from hrops.settings import reset_settings

        reset_settings()
        runs: list[tuple[str, int, Callable[[str], Awaitable[float]]]] = []
        for contexts in (1, 4):
            runs += [
                (FLOOR, contexts, lambda tag, c=contexts: _hand_run(ids, c, sim.url, user, password)),
                (
                    "engine, no evidence files",
                    contexts,
                    lambda tag, c=contexts: _engine_run(ids, c, False, tag),
                ),
                (
                    "engine as shipped (evidence)",
                    contexts,
                    lambda tag, c=contexts: _engine_run(ids, c, True, tag),
                ),
            ]
        # Rounds interleave the runs, and the median of each is reported: a shared machine's noise
        # then hits every run alike instead of whichever happened to run during it.
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("benchmark runs", total=len(runs) * rounds)
            for r in range(rounds):
                for i, (name, contexts, run) in enumerate(runs):
                    httpx.post(f"{sim.url}/_sim/reset").raise_for_status()
                    took.setdefault((name, contexts), []).append(await run(f"r{r}-{i}"))
                    bar.advance(task)
    table = Table(title=f"New-hire wizard, {records} records per run, median of {rounds} interleaved rounds")
    for col in ("run", "contexts", "seconds", "records/min", "s/record", "vs floor"):
        table.add_column(col, justify="right" if col != "run" else "left")
    for (name, contexts), times in took.items():
        median = statistics.median(times)
        floor = statistics.median(took[(FLOOR, contexts)])
        table.add_row(
            name,
            str(contexts),
            f"{median:.1f}",
            f"{records / median * 60:.0f}",
            f"{median / records:.2f}",
            f"{median / floor:.2f}x",
        )
    console.print(table)
    console.print(f"machine: {os.cpu_count()} cores; chromium {executable_version()}")


def executable_version() -> str:
    from tools.browser import executable

    return str(executable())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.rounds))
