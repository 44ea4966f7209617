"""`hrops seed`: the deterministic demo company."""

from __future__ import annotations

from datetime import date

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hrops.cli.common import acting_user, console, fail, settings, store_url


def register(app: typer.Typer) -> None:
    app.command()(seed)


def seed(
    employees: int = typer.Option(
        2000, help="Active headcount today; the leavers of the history come on top"
    ),
    seed: int = typer.Option(42, "--seed", help="Same seed, same company"),
    learning_per_employee: float = typer.Option(
        24.0, help="Learning records per active employee, on average"
    ),
    years: int = typer.Option(3, help="Years of history"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="YYYY-MM-DD the history ends; default today (HROPS_TODAY)"
    ),
    reset: bool = typer.Option(False, "--reset", help="Delete all HR data and the audit log first"),
) -> None:
    """Generate a realistic demo company: org tree, people, three years of history, learning."""
    from hrops.clock import today
    from tools.demo_company import SeedOptions, StoreNotEmpty, seed_store
    from tools.demo_company.company import MIN_EMPLOYEES
    from tools.demo_company.loader import DEMO_PASSWORD, demo_passwords

    if employees < MIN_EMPLOYEES:
        fail(
            f"--employees must be at least {MIN_EMPLOYEES} for a company with every division (got {employees})"
        )
    if not 1 <= years <= 10:
        fail(f"--years must be between 1 and 10 (got {years})")
    if learning_per_employee < 0:
        fail("--learning-per-employee cannot be negative")
    try:
        end = date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date; use YYYY-MM-DD")
    actor = acting_user("seed the demo company", "admin")
    options = SeedOptions(
        employees=employees, seed=seed, learning_per_employee=learning_per_employee, as_of=end, years=years
    )
    columns = (TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def tick(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            report = seed_store(store_url(), options, reset=reset, progress=tick, actor=actor)
        except StoreNotEmpty as e:
            fail(str(e))
    if report.already_seeded:
        console.print("already seeded with these options: nothing to do", highlight=False)
        demo_passwords(store_url())  # a company seeded before the web console had passwords
    table = Table(
        "", "count", title=f"Demo company ({report.seconds:.1f} s)" if not report.already_seeded else None
    )
    for name in (
        "employees",
        "active",
        "leavers",
        "org_units",
        "job_assignments",
        "compensation_rows",
        "addresses",
        "courses",
        "learning_records",
        "policy_documents",
        "users",
    ):
        table.add_row(name.replace("_", " "), f"{getattr(report, name):,}")
    console.print(table)
    accounts = Table("demo account", "username")
    for role, username in report.demo_accounts.items():
        accounts.add_row(role, username)
    console.print(accounts)
    console.print(
        f"Web console ({settings().api_url}/console): every active demo user signs in with the "
        f"password {DEMO_PASSWORD}",
        highlight=False,
    )
