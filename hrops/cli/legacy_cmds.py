"""`hrops legacy ...` and `hrops legacy-sim`: legacy HR web systems driven through their forms."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections import Counter
from pathlib import Path

import typer
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table

from hrops.cli.common import acting_user, console, fail, settings

legacy_app = typer.Typer(
    help="Legacy HR web systems: mappings, pushes, tasks for people.", no_args_is_help=True
)

AS_HELP = "Act as this user (username or employee id); default HROPS_USER"
ACTIONS = {"retry", "cancel", "approve-mapping", "reject-mapping"}


def register(app: typer.Typer) -> None:
    app.add_typer(legacy_app, name="legacy")
    app.command("legacy-sim")(legacy_sim)


def legacy_sim(
    port: int = typer.Option(8765, help="Port to listen on"),
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    db: Path | None = typer.Option(None, help="SQLite file of the stand-in (default <var>/legacy_hris.db)"),
    layout: str = typer.Option("v1", help="v1, or v2: the redesigned forms (ids and labels changed)"),
    session_ttl: float = typer.Option(900, help="Seconds of inactivity before a session expires"),
    fault_500_rate: float = typer.Option(0.0, help="Share of requests answered with a server error"),
    slow_rate: float = typer.Option(0.0, help="Share of requests answered slowly"),
    slow_seconds: float = typer.Option(2.0, help="How slow a slow answer is"),
    slow_on: list[str] = typer.Option(
        [], help="Slow only requests starting with this ('POST /newhire/confirm'); repeatable"
    ),
    expire_rate: float = typer.Option(0.0, help="Share of requests that find their session expired"),
    no_duplicate_check: bool = typer.Option(False, help="Let the stand-in accept duplicate records"),
    seed: int | None = typer.Option(None, help="Seed of the fault dice (repeatable runs)"),
) -> None:
    """Run the stand-in legacy HR system (a deliberately old-fashioned web app) in the foreground."""
    from pydantic import ValidationError

    from infra.legacy_hris import SimConfig, serve

    try:
        config = SimConfig(
            db_path=db or settings().var_dir / "legacy_hris.db",
            layout=layout,  # type: ignore[arg-type]
            session_ttl=session_ttl,
            fault_500_rate=fault_500_rate,
            slow_rate=slow_rate,
            slow_seconds=slow_seconds,
            slow_on=slow_on,
            expire_rate=expire_rate,
            detect_duplicates=not no_duplicate_check,
            seed=seed,
        )
    except ValidationError as e:
        fail(
            "; ".join(
                f"--{'-'.join(str(x) for x in err['loc']).replace('_', '-')}: {err['msg']}"
                for err in e.errors()
            )
        )
    config.db_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"Classic HRIS stand-in on http://{host}:{port}  (layout {layout}; Ctrl-C stops it)")
    serve(config, host=host, port=port)


@legacy_app.command("validate")
def validate(files: list[Path] = typer.Argument(..., help="Mapping files (system.yaml or a form)")) -> None:
    """Check mapping files against the schema (and a form against its system's code tables)."""
    from tools.legacy.catalog import validate_file
    from tools.legacy.mapping import FormMapping, MappingError

    bad = 0
    for path in files:
        try:
            mapping = validate_file(path)
        except MappingError as e:
            bad += 1
            console.print(f"[red]✗[/] {e.report()}", highlight=False)
            continue
        what = (
            f"form {mapping.system}/{mapping.form} v{mapping.version}: {len(mapping.pages)} pages, "
            f"{len(mapping.fields())} fields"
            if isinstance(mapping, FormMapping)
            else f"system {mapping.system} v{mapping.version}: {len(mapping.tables)} code tables"
        )
        console.print(f"[green]✓[/] {path}: {what}", highlight=False)
    if bad:
        fail(f"{bad} of {len(files)} mapping files have problems (listed above)")


@legacy_app.command("systems")
def systems() -> None:
    """Legacy systems and forms this installation can drive, with the version in force."""
    from tools.legacy import catalog

    table = Table("system", "form", "version", "action", "file")
    for name in catalog.systems():
        for form in catalog.forms(name):
            loaded = catalog.form(name, form)
            table.add_row(name, form, str(loaded.form.version), loaded.form.action, str(loaded.path))
    console.print(table)


@legacy_app.command("fields")
def fields() -> None:
    """HR record attributes a mapping can use as `source:`."""
    from tools.legacy.record import source_fields

    table = Table("source", "type")
    for name, kind in source_fields().items():
        table.add_row(name, kind)
    console.print(table)


@legacy_app.command("login")
def login(
    system: str = typer.Argument(..., help="Legacy system name, e.g. classic_hris"),
    username: str = typer.Option(..., help="Login name in that system"),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input"),
) -> None:
    """Store the login for a legacy system in the secrets file (never printed, never logged)."""
    from tools.legacy import catalog, credentials

    acting_user("store legacy system logins", "admin")
    if system not in catalog.systems():
        fail(f"no legacy system {system!r} (known: {', '.join(catalog.systems())})")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("password: ")
    if not password:
        fail("empty password")
    credentials.store(system, username, password)
    console.print(f"saved the login for {system} in {settings().credentials_file}")


def _who(as_user: str | None):  # noqa: ANN202
    from hrops import legacy_service as svc

    try:
        return svc.principal(as_user or settings().user)
    except svc.RequestError as e:
        fail(str(e))


async def _push_all(
    system: str, form: str, employee_ids: list[str], as_user: str | None, wait: bool
) -> Counter:
    from hrops import legacy_service as svc
    from hrops.temporal_client import connect

    client = await connect(settings())
    started = await svc.start(client, system, form, employee_ids, _who(as_user))
    outcomes: Counter = Counter()
    if not wait:
        for s in started:
            console.print(f"started {s.workflow_id}", highlight=False)
        return outcomes
    problems: list[tuple[str, str]] = []
    with Progress(
        TextColumn("[bold]pushing into " + system),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[tally]}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("push", total=len(started), tally="")

        def settled(st) -> None:  # noqa: ANN001
            if st.stage.value == "completed" and st.result:
                outcomes[st.result.outcome] += 1
            else:
                outcomes[st.stage.value] += 1
                wid = svc.workflow_id_for(st.system, st.form, st.employee_id)
                problems.append((wid, st.task.message if st.task else st.stage.value))
            tally = " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(outcomes.items()))
            bar.update(task, advance=1, tally=tally)

        await svc.settle_many(client, [s.workflow_id for s in started], settled)
    title = f"{system}/{form}: {len(started)} records"
    table = Table("outcome", "records", title=title, min_width=len(title) + 4)
    labels = {
        "entered": "entered",
        "already_present": "already present (not entered again)",
        "updated": "updated",
        "unchanged": "already up to date",
        "needs_attention": "needs a person",
        "mapping_review": "mapping fix to approve",
        "failed": "workflow ended abnormally",
    }
    for key, n in sorted(outcomes.items()):
        table.add_row(labels.get(key, key), str(n))
    console.print(table)
    for wid, why in problems:
        console.print(f"[yellow]![/] {wid}: {why}  (`hrops legacy show {wid}`)", highlight=False)
    return outcomes


@legacy_app.command("push")
def push(
    employee: str | None = typer.Argument(None, help="Employee id, e.g. E1042"),
    system: str = typer.Option(..., "--system", help="Legacy system, e.g. classic_hris"),
    form: str = typer.Option("new_hire", "--form", help="Form mapping: new_hire, employee_update, ..."),
    all_new: bool = typer.Option(False, "--all-new", help="Every employee hired recently (see --days)"),
    days: int = typer.Option(30, help="With --all-new: hired within this many days (and future starters)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    wait: bool = typer.Option(True, help="Wait and print the outcome (--no-wait: start and return)"),
) -> None:
    """Enter one employee, or all recent hires, into a legacy system: once each, read back, with evidence."""
    from hrops import legacy_service as svc
    from hrops.temporal_client import TemporalUnavailable

    if bool(employee) == all_new:
        fail("give an employee id or --all-new (not both)")
    try:
        svc.check_target(system, form)
        ids = svc.new_hires(days) if all_new else [employee]  # type: ignore[list-item]
        if not ids:
            console.print(f"no employees hired in the last {days} days")
            return
        outcomes = asyncio.run(_push_all(system, form, ids, as_user, wait))
    except (svc.RequestError, TemporalUnavailable) as e:
        fail(str(e))
    console.print(f"evidence: {settings().evidence_dir / system}", highlight=False)
    if outcomes.get("needs_attention") or outcomes.get("mapping_review"):
        console.print("see `hrops legacy tasks` for what needs a person")


def _run(make, *args):  # noqa: ANN001, ANN002, ANN202
    from hrops import legacy_service as svc
    from hrops.temporal_client import TemporalUnavailable, connect

    async def main():  # noqa: ANN202
        return await make(await connect(settings()), *args)

    try:
        return asyncio.run(main())
    except (svc.RequestError, TemporalUnavailable) as e:
        fail(str(e))


@legacy_app.command("tasks")
def tasks() -> None:
    """Pushes waiting for a person (validation errors, changed pages, read-back differences)."""
    from hrops import legacy_service as svc

    items = _run(svc.tasks)
    if not items:
        console.print("nothing waits for a person")
        return
    table = Table("push", "employee", "stage")
    for i in items:
        table.add_row(i.workflow_id, i.employee_id, i.stage)
    console.print(table)


@legacy_app.command("show")
def show(
    workflow_id: str = typer.Argument(..., help="Push id, e.g. legacy-classic_hris-new_hire-E1042"),
) -> None:
    """Where a push stands: outcome, open task with its screenshot, mapping proposal diff, history."""
    from hrops import legacy_service as svc

    st = _run(svc.state, workflow_id)
    console.print(
        f"[bold]{workflow_id}[/]  {st.system}/{st.form}  employee {st.employee_id}  stage [bold]{st.stage.value}[/]"
    )
    if st.result:
        r = st.result
        console.print(
            f"{r.outcome.replace('_', ' ')} as [bold]{r.reference}[/]; read back equal: {', '.join(r.verified)}",
            highlight=False,
        )
        if r.evidence:
            console.print(f"evidence: {settings().evidence_dir / st.system / r.evidence}", highlight=False)
    if st.task:
        t = st.task
        body = f"{t.kind}: {t.message}\npage: {t.page or '-'}"
        if t.screenshot:
            body += f"\nscreenshot: {settings().evidence_dir / st.system / t.screenshot}"
        body += f"\nactions: {', '.join(a.value.replace('_', '-') for a in t.actions)}"
        console.print(Panel(body, title=f"task {t.task_id}", border_style="yellow"), highlight=False)
    if st.proposal:
        p = st.proposal
        console.print(f"[bold]mapping v{p.version} proposed[/] ({len(p.changes)} selectors changed)")
        for c in p.changes:
            console.print(
                f"  {c.page}.{c.key}: {', '.join(c.after)}  [dim](score {c.score}: {c.reason})[/]",
                highlight=False,
            )
        for u in p.unmatched:
            console.print(f"  [red]unmatched[/] {u}", highlight=False)
        console.print(Syntax(p.diff, "diff", word_wrap=True))
    for e in st.history:
        console.print(f"[dim]{e.at:%Y-%m-%d %H:%M:%S}[/] {e.text}", highlight=False)


@legacy_app.command("resolve")
def resolve(
    workflow_id: str = typer.Argument(..., help="Push id (see `hrops legacy tasks`)"),
    action: str = typer.Option(..., "--action", help="retry, cancel, approve-mapping or reject-mapping"),
    note: str | None = typer.Option(None, help="What was fixed (kept in the push's history)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Act on a push that waits for a person."""
    from hrops import legacy_service as svc
    from workflows.legacy_sync.messages import Action

    if action not in ACTIONS:
        fail(f"--action must be one of {', '.join(sorted(ACTIONS))}")
    who = _who(as_user)
    st = _run(svc.resolve, workflow_id, Action(action.replace("-", "_")), who, note)
    console.print(f"{workflow_id}: {action} recorded; stage now {st.stage.value}")
