"""`hrops digest subscribe|unsubscribe|list|run`: the monthly learning digest, a Temporal Schedule
per subscriber whose runs land in the notifications outbox (`hrops notifications`)."""

from __future__ import annotations

from typing import Literal

import typer
from rich.table import Table

from hrops.cli.common import console, fail
from hrops.cli.request_cmds import AS_HELP, _run, _who

digest_app = typer.Typer(
    help="Monthly learning digest of your organisation, in the notifications outbox.", no_args_is_help=True
)
# How long `hrops digest run` waits for the digest to be queued.
RUN_WAIT = 60.0


def register(app: typer.Typer) -> None:
    app.add_typer(digest_app, name="digest")


@digest_app.command("subscribe")
def subscribe(
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    lang: Literal["en", "zh"] = typer.Option("en", "--lang", help="Language of the digest: en or zh"),
    day: int | None = typer.Option(
        None, "--day", min=1, max=28, help="Day of the month, 1-28 (default HROPS_DIGEST_DAY)"
    ),
    hour: int | None = typer.Option(
        None, "--hour", min=0, max=23, help="Hour in UTC, 0-23 (default HROPS_DIGEST_HOUR)"
    ),
) -> None:
    """Subscribe to the monthly learning digest of the organisation you manage (again: update it)."""
    from hrops import digest_service as svc
    from hrops.request_service import RequestError

    who = _who(as_user)
    try:
        svc.reported_scope(who, lang)  # refused before Temporal is asked anything
    except RequestError as e:
        fail(str(e))
    done = _run(lambda client: svc.subscribe(client, who, lang, day=day, hour=hour))
    s = done.subscription
    console.print(
        f"{s.username} {'subscribed to' if done.created else 'updated'} the learning digest of {done.scope} "
        f"({s.language}, day {s.day} of each month at {s.hour:02d}:00 UTC; schedule {s.schedule_id})",
        highlight=False,
    )
    if s.next_run:
        console.print(f"next digest: {s.next_run:%Y-%m-%d %H:%M} UTC", highlight=False)


@digest_app.command("unsubscribe")
def unsubscribe(as_user: str | None = typer.Option(None, "--as", help=AS_HELP)) -> None:
    """Stop the monthly learning digest."""
    from hrops import digest_service as svc

    who = _who(as_user)
    removed = _run(lambda client: svc.unsubscribe(client, who))
    console.print(
        f"{who.username} unsubscribed from the learning digest"
        if removed
        else f"{who.username} had no learning digest subscription",
        highlight=False,
    )


@digest_app.command("list")
def list_subscriptions() -> None:
    """Everyone subscribed to the learning digest, with the next run."""
    from hrops import digest_service as svc

    rows = _run(svc.subscriptions)
    if not rows:
        console.print("no learning digest subscriptions")
        return
    table = Table("user", "language", "when (UTC)", "next run", "last run", "schedule")
    for s in rows:
        table.add_row(
            s.username,
            s.language,
            f"day {s.day}, {s.hour:02d}:00" + (" (paused)" if s.paused else ""),
            f"{s.next_run:%Y-%m-%d %H:%M}" if s.next_run else "",
            f"{s.last_run:%Y-%m-%d %H:%M}" if s.last_run else "",
            s.schedule_id,
        )
    console.print(table)


@digest_app.command("run")
def run_now(as_user: str | None = typer.Option(None, "--as", help=AS_HELP)) -> None:
    """Send the digest now (of last month; a month already sent is not sent again)."""
    from hrops import digest_service as svc

    who = _who(as_user)

    async def trigger_and_wait(client):  # noqa: ANN001, ANN202
        triggered = await svc.run_now(client, who)
        return triggered, await svc.result(client, triggered.workflow_id, RUN_WAIT)

    triggered, sent = _run(trigger_and_wait)
    if not triggered.started:
        console.print(f"a digest run is still going: {triggered.workflow_id}", highlight=False)
    if sent is None:
        console.print(
            f"started {triggered.workflow_id}; it has not finished yet (is a worker running? `hrops up`)",
            highlight=False,
        )
    elif sent.skipped:
        console.print(f"nothing sent: {sent.skipped}", highlight=False)
    elif sent.queued:
        console.print(
            f"queued for {sent.username}: {sent.subject} (`hrops notifications --as {sent.username}`)",
            highlight=False,
        )
    else:
        console.print(f"the digest of {sent.month:%Y-%m} was sent to {sent.username} before", highlight=False)
