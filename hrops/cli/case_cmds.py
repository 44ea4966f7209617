"""`hrops cases list|show|answer`: policy questions the assistant handed to HR ops (the second tier).
HR ops answer them; the asker is told; `--save` keeps the answer as a correction that the assistant
gives the next time the same question is asked."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from hrops.cli.common import console, fail, store_url
from hrops.cli.request_cmds import AS_HELP, _who

cases_app = typer.Typer(
    help="Policy questions handed to HR ops: list, show and answer them.", no_args_is_help=True
)
STATUSES = ("open", "answered", "all")
SAVE_SCOPES = ("everyone", "country", "location")


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")


@cases_app.command("list")
def list_cmd(
    status: str = typer.Option("open", "--status", help="open, answered or all"),
    as_json: bool = typer.Option(False, "--json", help="Print the cases as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Cases, oldest first: HR ops and admins see all, anyone else their own."""
    from hrops import knowledge_service

    if status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    store_url()
    found = knowledge_service.open_cases(_who(as_user), None if status == "all" else status)
    if as_json:
        console.print_json(data=[c.listed().model_dump(mode="json") for c in found])
        return
    if not found:
        console.print(f"no {'' if status == 'all' else status + ' '}cases")
        return
    table = Table("case", "asked by", "on", "reason", "status", "question")
    for c in found:
        reason = f"{c.reason} ({c.category})" if c.category else c.reason
        # A sensitive question is shown only in `cases show`, not in a list on a shared screen.
        question = "(sensitive: `hrops cases show`)" if c.reason == "sensitive" else c.question[:80]
        table.add_row(c.case_id, c.asker, c.asked_on.isoformat(), reason, c.status, question)
    console.print(table)


@cases_app.command("show")
def show(
    case_id: str = typer.Argument(..., help="Case id, e.g. KB-3"),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """One case: the question, why it was handed on, what the search found, the draft and the answer."""
    from hrops import knowledge_service
    from tools.knowledge.cases import CaseError

    store_url()
    try:
        c = knowledge_service.case(_who(as_user), case_id)
    except CaseError as e:
        fail(str(e))
    if as_json:
        console.print_json(c.model_dump_json())
        return
    reason = f"{c.reason} ({c.category})" if c.category else c.reason
    console.print(
        f"[bold]{c.case_id}[/] asked by {c.asker} on {c.asked_on} ({c.language}); {reason}; {c.status}",
        highlight=False,
    )
    console.print("\n[bold]question[/]")
    console.print(c.question, markup=False, highlight=False)
    if c.triage_why:
        console.print("\n[bold]handed on for[/] " + escape(c.triage_why), highlight=False)
    if c.retrieved:
        console.print("\n[bold]found[/] " + ", ".join(c.retrieved), highlight=False)
    if c.draft:
        console.print("\n[bold]draft (not sent)[/]")
        console.print(c.draft, markup=False, highlight=False)
    if c.answer:
        console.print(f"\n[bold]answer[/] by {c.answered_by} at {c.answered_at}", highlight=False)
        console.print(c.answer, markup=False, highlight=False)
        if c.correction_id:
            console.print(f"saved as correction {c.correction_id}")
    else:
        console.print(f'\nopen: `hrops cases answer {c.case_id} "..." [--save country]`')


@cases_app.command("answer")
def answer(
    case_id: str = typer.Argument(..., help="Case id, e.g. KB-3"),
    text: str = typer.Argument(..., help="The answer the asker gets"),
    save: str | None = typer.Option(
        None, "--save", help="Keep it as a correction for askers in the same location, country, or everyone"
    ),
    cite: list[str] | None = typer.Option(
        None, "--cite", help="A policy section it rests on, doc#anchor (repeatable)"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Answer a case: the asker is told at once; with --save the assistant answers the same question so next time."""
    from hrops import knowledge_service
    from tools.knowledge.cases import CaseError

    if save is not None and save not in SAVE_SCOPES:
        fail(f"--save {save!r} is not one of {', '.join(SAVE_SCOPES)}")
    store_url()
    try:
        c = knowledge_service.answer_case(_who(as_user), case_id, text, save_as=save, cites=cite or [])  # type: ignore[arg-type]
    except CaseError as e:
        fail(str(e))
    saved = f"; saved as correction {c.correction_id} ({save})" if c.correction_id else ""
    console.print(f"{c.case_id} answered; {c.asker} is told{saved}", highlight=False)


@cases_app.command("remind")
def remind() -> None:
    """Bring up open cases again: to HR ops after HROPS_KB_CASE_REMIND_HOURS, to the admins after
    HROPS_KB_CASE_ESCALATE_HOURS; each reminder once. Run it hourly (cron, a k8s CronJob)."""
    from datetime import timedelta

    from hrops.cli.common import settings
    from hrops.clock import now
    from tools.knowledge.cases import remind_overdue
    from tools.store.db import session_scope

    cfg = settings()
    with session_scope(store_url(), write=True) as s:
        done = remind_overdue(
            s, now(), timedelta(hours=cfg.kb_case_remind_hours), timedelta(hours=cfg.kb_case_escalate_hours)
        )
    console.print(
        f"reminded HR ops of {len(done.reminded)} open cases"
        + (f" ({', '.join(done.reminded)})" if done.reminded else "")
        + f"; escalated {len(done.escalated)} to the admins"
        + (f" ({', '.join(done.escalated)})" if done.escalated else ""),
        highlight=False,
    )
