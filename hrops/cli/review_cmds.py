"""`hrops review list|show|approve|correct|evals`: the compliance review queue of model-written
outputs (HR ops and admins), and the evaluation cases made from reviewers' corrections."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hrops.cli.common import console, fail, settings, store_url
from hrops.cli.request_cmds import AS_HELP, _who

review_app = typer.Typer(
    help="Review model-written outputs (plans, summaries, readings): approve or correct them.",
    no_args_is_help=True,
)
STATUSES = ("pending", "approved", "corrected", "all")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


def _show_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


@review_app.command("list")
def list_cmd(
    status: str = typer.Option("pending", "--status", help="pending, approved, corrected or all"),
    topic: str | None = typer.Option(None, "--topic", help="Only this topic, e.g. onboarding_plan"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="Print the items as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """The review queue, oldest first."""
    from tools.review import queue
    from tools.review.models import ReviewStatus
    from tools.store.db import session_scope

    if status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    who = _who(as_user)
    try:
        with session_scope(store_url(migrate=False)) as s:
            items = queue.list_items(
                s, who, status=None if status == "all" else ReviewStatus(status), topic=topic, limit=limit
            )
    except queue.ReviewError as e:
        fail(str(e))
    if as_json:
        console.print_json(json.dumps([i.model_dump(mode="json", exclude={"prompt"}) for i in items]))
        return
    if not items:
        console.print(
            f"no {'' if status == 'all' else status + ' '}reviews" + (f" of {topic}" if topic else "")
        )
        return
    table = Table("review", "topic", "risk", "request", "status", "queued", "decided by")
    for i in items:
        table.add_row(
            i.label,
            i.topic,
            i.risk.value,
            i.request_id or "-",
            i.status.value,
            f"{i.created_at:%Y-%m-%d %H:%M}",
            i.decided_by or "-",
        )
    console.print(table)


@review_app.command("show")
def show(
    review_id: str = typer.Argument(..., help="Review id, e.g. RV-3"),
    as_json: bool = typer.Option(False, "--json", help="Print the item as JSON"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """One item: what the agent was asked, what it wrote, and the decision."""
    from tools.review import queue

    who = _who(as_user)
    item = _item(who, review_id)
    if as_json:
        console.print_json(item.model_dump_json())
        return
    console.print(
        f"[bold]{item.label}[/] {item.topic} ({item.risk.value} risk, rule: {item.rule}) by agent {item.agent}",
        highlight=False,
    )
    console.print(
        f"request {item.request_id or '-'}, requested by {item.requested_by or '-'}, "
        f"queued {item.created_at:%Y-%m-%d %H:%M} UTC, model endpoint {item.endpoint or 'unknown'}",
        highlight=False,
    )
    # Prompts and outputs are data: printed without rich markup (a "[b]" in them stays as typed).
    console.print("\n[bold]prompt[/]")
    console.print(item.prompt, markup=False, highlight=False)
    console.print("\n[bold]output[/]")
    console.print(_show_json(item.output), markup=False, highlight=False)
    if item.status.value == "pending":
        console.print(
            f"\npending: `hrops review approve {item.label}` or `hrops review correct {item.label} ...`"
        )
        if why := queue.conflict(who, item):
            console.print(f"[yellow]{why}[/]", highlight=False)
        return
    console.print(f"\n{item.status.value} by {item.decided_by} on {item.decided_at:%Y-%m-%d %H:%M} UTC")
    if item.reason:
        console.print("reason: " + item.reason, markup=False, highlight=False)
    if item.correction is not None:
        console.print("[bold]correction[/]")
        console.print(_show_json(item.correction), markup=False, highlight=False)


def _item(who: Any, review_id: str) -> Any:
    """One review item as `who` may see it, or a one-line refusal."""
    from tools.review import queue
    from tools.store.db import session_scope

    try:
        with session_scope(store_url(migrate=False)) as s:
            return queue.get(s, who, review_id)
    except queue.ReviewError as e:
        fail(str(e))


def _decide(review_id: str, as_user: str | None, decision_fields: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from tools.review import queue
    from tools.review.models import Decision
    from tools.store.db import session_scope

    who = _who(as_user)
    try:
        decision = Decision(**decision_fields)
    except ValidationError as e:
        fail(e.errors()[0]["msg"].removeprefix("Value error, "))
    try:
        with session_scope(store_url(migrate=False), write=True) as s:
            item = queue.decide(s, who, review_id, decision)
    except queue.ReviewError as e:
        fail(str(e))
    changed = f" ({', '.join(_changed(item))})" if item.correction is not None else ""
    console.print(f"{item.label} {item.status.value}{changed} by {item.decided_by}", highlight=False)


def _changed(item: Any) -> list[str]:
    if isinstance(item.output, str):
        return ["text"]
    return [k for k, v in item.correction.items() if item.output.get(k) != v]


@review_app.command("approve")
def approve(
    review_id: str = typer.Argument(..., help="Review id, e.g. RV-3"),
    note: str | None = typer.Option(None, "--note", help="Optional remark kept with the approval"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """The output is right as written."""
    _decide(review_id, as_user, {"verdict": "approve", "reason": note})


def _field_value(raw: str, before: Any) -> Any:
    """A --set value: text for a text field; JSON for lists, numbers, true/false and null fields."""
    if isinstance(before, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        if before is None:
            return raw
        fail(f'{raw!r} is not JSON; this field holds a {type(before).__name__}, e.g. \'["C-1", "C-2"]\'')


@review_app.command("correct")
def correct(
    review_id: str = typer.Argument(..., help="Review id, e.g. RV-3"),
    reason: str = typer.Option(..., "--reason", help="What was wrong"),
    sets: list[str] = typer.Option(
        [], "--set", help="field=value for a JSON output (repeat it); lists as JSON: courses='[\"C-1\"]'"
    ),
    json_file: Path | None = typer.Option(
        None, "--json", help="A file with the fields to change as a JSON object"
    ),
    text: str | None = typer.Option(None, "--text", help="The corrected text, for a text output"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """The output should have been different: give what it should have said, and why."""

    if sum(bool(x) for x in (sets, json_file, text)) != 1:
        fail("give the correction one way: --set field=value (repeatable), --json FILE, or --text TEXT")
    correction: Any
    if text is not None:
        correction = text
    elif json_file is not None:
        try:
            correction = json.loads(json_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            fail(f"--json {json_file}: cannot read a JSON object from it ({e.__class__.__name__}: {e})")
    else:
        item = _item(_who(as_user), review_id)
        if isinstance(item.output, str):
            fail(f"{item.label} is text: give the corrected text with --text")
        correction = {}
        for pair in sets:
            field, eq, raw = pair.partition("=")
            if not eq or not field.strip():
                fail(f"--set {pair!r} is not field=value")
            field = field.strip()
            if field not in item.output:
                fail(f"{item.label} has no field {field!r}; its fields: {', '.join(item.output)}")
            correction[field] = _field_value(raw, item.output[field])
    _decide(review_id, as_user, {"verdict": "correct", "reason": reason, "correction": correction})


@review_app.command("evals")
def evals(
    out: Path | None = typer.Option(
        None, "--out", help="Where the cases go (default <var_dir>/review/eval_cases.yaml)"
    ),
    run: bool = typer.Option(False, "--run", help="Re-run each case and say whether it now matches"),
    offline: bool = typer.Option(
        False, "--offline", help="Re-run with the offline model instead of HROPS_MODEL"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Write reviewers' corrections as evaluation cases; with --run, check the agents against them."""
    from tools.review import evals as ev
    from tools.review import queue
    from tools.review.models import CaseOutcome
    from tools.store.db import session_scope

    who = _who(as_user)
    path = out or ev.default_file(settings())
    try:
        with session_scope(store_url(migrate=False), write=True) as s:
            cases = ev.export_to_file(s, who, path)
    except queue.ReviewError as e:
        fail(str(e))
    console.print(f"{len(cases)} evaluation case(s) from corrections written to {path}", highlight=False)
    if not run or not cases:
        return
    from agents.models import OFFLINE, endpoint_of
    from agents.review_replay import replayer

    cfg = settings().model_copy(update={"model": OFFLINE}) if offline else settings()
    report = asyncio.run(ev.run_cases(cases, replayer(cfg), model=cfg.model, endpoint=endpoint_of(cfg)))
    table = Table("case", "agent", "outcome", "fields that differ / why")
    for r in report.results:
        table.add_row(r.id, r.agent, r.outcome.value, ", ".join(r.differences) or r.detail or "")
    console.print(table)
    console.print(
        f"model {report.model}: {report.count(CaseOutcome.MATCHED)} matched, "
        f"{report.count(CaseOutcome.DIFFERS)} differ, {report.count(CaseOutcome.SKIPPED)} skipped, "
        f"{report.count(CaseOutcome.ERROR)} failed",
        highlight=False,
    )
