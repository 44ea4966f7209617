"""`hrops kb import|reindex|list|ask`: the HR policy knowledge base: import policy documents (Markdown, HTML,
PDF, DOCX, xlsx) as versioned, effective-dated, scoped sections; list what is in force; ask a policy
question and get quoted passages with their citation, or a hand-off to HR."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from hrops.cli.common import console, fail, store_url
from hrops.cli.request_cmds import AS_HELP, _who

kb_app = typer.Typer(
    help="The HR policy knowledge base: import documents, list them, ask questions.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")


@contextmanager
def _indexing(quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for embedding sections; yields what to tell it (done, total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("indexing sections for the policy search"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("embed", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD (e.g. 2027-01-01)")


@kb_app.command("import")
def import_cmd(
    paths: list[Path] = typer.Argument(..., help="Policy files: .md, .html, .pdf, .docx, .xlsx"),
    doc_id: str | None = typer.Option(
        None, "--doc-id", help="Document id (one file only); default: from the file"
    ),
    title: str | None = typer.Option(None, "--title"),
    language: str | None = typer.Option(None, "--language", help="en or zh; default: detected"),
    topic: str | None = typer.Option(None, "--topic", help="leave, payroll, expenses, ..."),
    effective_from: str | None = typer.Option(
        None, "--effective-from", help="YYYY-MM-DD; default: front matter, else today"
    ),
    country: list[str] | None = typer.Option(
        None, "--country", help="Only for this country (repeatable), e.g. CN"
    ),
    location: list[str] | None = typer.Option(None, "--location", help="Only for this location (repeatable)"),
    group: list[str] | None = typer.Option(
        None, "--group", help="Only for this employee group (repeatable): staff, manager"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Import policy documents: every file is read and checked first; one bad file imports nothing.
    A changed file becomes a new version of its document; the same file again changes nothing."""
    from hrops import knowledge_service
    from tools.knowledge.library import KnowledgeError, MetaOverrides

    if language not in (None, "en", "zh"):
        fail(f"--language {language!r}: use en or zh")
    overrides = MetaOverrides(
        doc_id=doc_id,
        title=title,
        language=language,  # type: ignore[arg-type]
        topic=topic,
        effective_from=_day(effective_from, "--effective-from"),
        countries=country or None,
        locations=location or None,
        groups=group or None,
    )
    store_url()
    who = _who(as_user)
    with _indexing(quiet=as_json) as progress:
        try:
            outcomes = knowledge_service.import_files(who, paths, overrides, progress=progress)
        except KnowledgeError as e:
            fail(str(e))
    if as_json:
        console.print_json(data=[o.model_dump(mode="json") for o in outcomes])
        return
    table = Table("document", "version", "outcome", "sections", "in force from", "changes")
    for o in outcomes:
        changes = ", ".join(
            f"{n} {what}"
            for n, what in ((len(o.added), "added"), (len(o.changed), "changed"), (len(o.removed), "removed"))
            if n
        )
        table.add_row(
            o.doc_id, str(o.version), o.status, str(o.sections), o.effective_from.isoformat(), changes or "-"
        )
    console.print(table)


@kb_app.command("reindex")
def reindex_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Embed every policy section not yet indexed by the embedding model's current recipe (after
    changing HROPS_EMBEDDING_MODEL or upgrading): otherwise questions embed them, a few hundred each."""
    from hrops import knowledge_service
    from tools.knowledge.library import KnowledgeError

    store_url()
    who = _who(as_user)
    with _indexing(quiet=as_json) as progress:
        try:
            outcome = knowledge_service.reindex(who, progress=progress)
        except KnowledgeError as e:
            fail(str(e))
    if as_json:
        console.print_json(data=outcome.model_dump(mode="json"))
    else:
        console.print(
            f"{outcome.model}: {outcome.embedded} sections indexed in {outcome.calls} calls"
            + (
                f"; {outcome.missing} still without a vector"
                if outcome.missing
                else "; every section indexed"
            )
        )
    if outcome.error:
        fail(
            f"the embeddings endpoint failed ({outcome.error}); {outcome.missing} sections wait for the next "
            "run: check HROPS_EMBEDDING_MODEL / HROPS_EMBEDDING_BASE_URL and that the server is up"
        )


@kb_app.command("list")
def list_cmd(
    on: str | None = typer.Option(None, "--on", help="As of this date (YYYY-MM-DD); default today"),
    history: bool = typer.Option(False, "--history", help="Every version ever imported"),
    as_json: bool = typer.Option(False, "--json", help="Print the documents as JSON"),
) -> None:
    """The policy documents in force (and versions waiting for their date)."""
    from hrops import knowledge_service

    store_url()
    docs = knowledge_service.documents(_day(on, "--on"), history=history)
    if as_json:
        console.print_json(data=[d.model_dump(mode="json") for d in docs])
        return
    if not docs:
        console.print(
            "the knowledge base is empty: `hrops kb import FILE...` (or `hrops seed` for the demo handbook)"
        )
        return
    table = Table("document", "v", "title", "lang", "topic", "from", "scope", "sections", "status")
    for d in docs:
        scope = (
            "; ".join(f"{axis}: {', '.join(v)}" for axis, v in d.scope.model_dump().items() if v)
            or "everyone"
        )
        status = (
            "in force"
            if d.in_force
            else (
                "from " + d.effective_from.isoformat()
                if d.effective_from > (_day(on, "--on") or _today())
                else "replaced"
            )
        )
        table.add_row(
            d.doc_id,
            str(d.version),
            d.title,
            d.language,
            d.topic,
            d.effective_from.isoformat(),
            scope,
            str(d.sections),
            status,
        )
    console.print(table)


def _today() -> date:
    from hrops.clock import today

    return today()


@kb_app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., help='A policy question, e.g. "how do I claim relocation expenses?"'),
    on: str | None = typer.Option(None, "--on", help="Ask as of this date (YYYY-MM-DD); default today"),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Answer from the policies that apply to you (your country, location and group), quoted and
    cited; a question no policy supports, or a sensitive one, goes to HR ops instead."""
    from hrops import knowledge_service

    if not question.strip():
        fail(
            'the question is empty: ask something, e.g. hrops kb ask "how many days of annual leave do I get?"'
        )
    store_url()
    who = _who(as_user)
    answer = knowledge_service.ask(who, question, _day(on, "--on"))
    if as_json:
        console.print_json(answer.model_dump_json())
        return
    # Policy text is data: printed without rich markup.
    console.print(answer.text, markup=False, highlight=False)
    if answer.case_id:
        console.print(
            (
                f"问题编号 {answer.case_id}"
                if answer.language == "zh"
                else f"Your question is case {answer.case_id}"
            )
            + f" (`hrops cases show {answer.case_id}`)",
            highlight=False,
        )


@kb_app.command("evals")
def evals_cmd(
    export: Path | None = typer.Option(None, "--export", help="Write them as evaluation questions (YAML)"),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """HR's saved answers as evaluation cases: ask each saved question again, as someone within its
    scope, and check that HR's answer comes back (HR ops and admins)."""
    from hrops.clock import today
    from tools.knowledge.cases import may_answer
    from tools.knowledge.evals import check_corrections, export_yaml
    from tools.store.db import session_scope

    url = store_url()
    who = _who(as_user)
    if not may_answer(who):
        fail(f"{who.username} may not read HR's saved answers: HR ops and admins do")
    with session_scope(url) as s:
        if export:
            export.write_text(export_yaml(s), encoding="utf-8")
            console.print(f"written: {export}", highlight=False)
            return
        checks = check_corrections(s, today())
    if as_json:
        console.print_json(data=[c.model_dump(mode="json") for c in checks])
        return
    if not checks:
        console.print('no saved answers yet: `hrops cases answer KB-n "..." --save country` saves one')
        return
    table = Table("correction", "question", "asked as", "result")
    for c in checks:
        where = c.asked_as.location or c.asked_as.country or "anyone"
        table.add_row(str(c.correction_id), c.question[:70], where, "ok" if c.ok else f"[red]got {c.got}[/]")
    console.print(table)
    passed = sum(c.ok for c in checks)
    console.print(f"{passed}/{len(checks)} saved answers given back")
    if passed < len(checks):
        raise typer.Exit(1)
