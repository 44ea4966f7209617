"""`hrops import employees` and `hrops export employees`: spreadsheets in and out of the HR store."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hrops.cli.common import acting_user, console, err_console, fail, store_url

import_app = typer.Typer(help="Bring data into the HR store from spreadsheets.", no_args_is_help=True)
export_app = typer.Typer(help="Write HR data to formatted spreadsheets.", no_args_is_help=True)

AS_HELP = "Act as this user (username or employee id); default HROPS_USER"
SHOWN_ERRORS = 40  # more go to --errors FILE


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


def _actor(as_user: str | None, doing: str) -> str:
    """The acting username: HR ops or an admin (a store without users accepts any name)."""
    return acting_user(doing, "hr_ops", "admin", as_user=as_user)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@contextmanager
def _progress() -> Iterator[object]:
    """A progress bar on a terminal for long imports; nothing when output is piped."""
    bar = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    tasks: dict[str, int] = {}

    def report(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=done, total=total)

    with bar:
        yield report


def _write_errors(path: Path, errors: list) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # the BOM makes Excel read UTF-8
        out = csv.writer(f)
        out.writerow(["row", "column", "field", "problem"])
        out.writerows([e.row, e.column or "", e.field or "", e.message] for e in errors)


@import_app.command("employees")
def import_employees_cmd(
    file: Path = typer.Argument(..., help="The .xlsx or .csv file"),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        "-m",
        help="Mapping YAML (see examples/ibm_attrition). Without it the headers must be field names, as in an export",
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Import the valid rows and report the skipped ones (default: all or nothing)",
    ),
    as_of: datetime | None = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Date the file describes (YYYY-MM-DD); derived dates count back from it. "
        "Default: the date this file was first imported, else today",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report; write nothing"),
    errors_out: Path | None = typer.Option(
        None, "--errors", help="Also write every row problem to this CSV file"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Import employees: every row is checked first; nothing is written unless all rows are valid."""
    from hrops.clock import today
    from tools.employee_io import EmployeeIOError, import_employees, load_mapping, previous_as_of

    url = store_url()
    actor = _actor(as_user, "import employees")
    try:
        spec = load_mapping(mapping) if mapping else None
        day, why = _day(as_of), "given"
        if day is None and file.is_file() and (day := previous_as_of(url, file)):
            why = "the date this file was first imported"
        if day is None:
            day, why = today(), "today"
        with _progress() as progress:
            report = import_employees(
                url,
                file,
                spec,
                as_of=day,
                actor=actor,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=progress,
            )  # type: ignore[arg-type]
    except EmployeeIOError as e:
        fail(str(e))

    where = f"{report.file}" + (f" (sheet {report.sheet!r})" if report.sheet else "")
    console.print(f"{where}: {report.rows} rows, as of {report.as_of} ({why})", highlight=False)
    if report.errors:
        table = Table(
            "row",
            "column",
            "problem",
            title=f"{len(report.rows_with_errors)} rows with problems",
            title_justify="left",
        )
        for e in report.errors[:SHOWN_ERRORS]:
            table.add_row(str(e.row), e.column or "-", e.message)
        console.print(table)
        if len(report.errors) > SHOWN_ERRORS:
            more = len(report.errors) - SHOWN_ERRORS
            console.print(f"… and {more} more" + ("" if errors_out else " (--errors FILE writes them all)"))
        if errors_out:
            _write_errors(errors_out, report.errors)
            console.print(f"all {len(report.errors)} problems written to {errors_out}", highlight=False)
    if report.errors and (not skip_invalid or len(report.rows_with_errors) == report.rows):
        valid = report.rows - len(report.rows_with_errors)
        fail(
            f"nothing imported: {len(report.rows_with_errors)} of {report.rows} rows have problems. Fix them "
            "and import again"
            + (f", or use --skip-invalid to import the {valid} valid rows" if valid else "")
        )
    verb = "would create" if dry_run else "created"
    console.print(
        f"{verb} {report.created}, unchanged {report.unchanged}, skipped {report.skipped}", highlight=False
    )
    if report.facts_added:
        verb = "would add" if dry_run else "added"
        console.print(f"employee facts {verb}: {report.facts_added}", highlight=False)
    if report.skipped:
        console.print("skipped rows: " + ", ".join(map(str, report.rows_with_errors)), highlight=False)
    if report.org_units_created:
        console.print(
            f"org units {'to create' if dry_run else 'created'}: {', '.join(report.org_units_created)}",
            highlight=False,
        )
    if dry_run:
        console.print("dry run: nothing written")


def _classes(include: str | None) -> set:
    from tools.store.classification import Classification

    chosen = set()
    for word in (include or "").split(","):
        if not (word := word.strip().lower()):
            continue
        try:
            chosen.add(Classification(word))
        except ValueError:
            fail(f"unknown class {word!r} in --include: choose from personal, sensitive (comma-separated)")
    return chosen


@export_app.command("employees")
def export_employees_cmd(
    out: Path = typer.Argument(..., help="The .xlsx file to write"),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="YYYY-MM-DD; default today"
    ),
    include: str | None = typer.Option(
        None,
        "--include",
        help="Extra classes of columns: personal (contact, birth date, address), "
        "sensitive (pay, gender, national id); comma-separated",
    ),
    org: str | None = typer.Option(None, "--org", help="Only this org unit (by code) and the units below it"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Export everyone employed on a date to a formatted workbook (an About sheet says what is in it)."""
    from hrops.clock import today
    from tools.employee_io import EmployeeIOError, export_employees

    url = store_url()
    classes = _classes(include)
    actor = _actor(as_user, "export employees")
    try:
        report = export_employees(
            url, out, as_of=_day(as_of) or today(), actor=actor, include=classes, org_code=org
        )
    except EmployeeIOError as e:
        fail(str(e))
    scope = f" in {org}" if org else ""
    noun = "employee" if report.rows == 1 else "employees"
    console.print(
        f"wrote {report.rows} {noun}{scope} as of {report.as_of} to {report.path} "
        f"(classes: {', '.join(c.value for c in report.include)})",
        highlight=False,
    )
