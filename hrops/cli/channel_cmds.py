"""`hrops channels link | unlink | list | outbox | deliver`: chat accounts and outbox delivery."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.table import Table

from hrops.cli.common import acting_user, console, fail, settings, store_url

channels_app = typer.Typer(
    help="Chat channels (Slack, Feishu, webhooks): who is who, and delivering notifications.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")


def _state() -> list[str]:
    """What is switched on here: in (messages taken) and out (notifications sent)."""
    cfg = settings()
    lines = [
        f"slack: in {'on' if cfg.slack_signing_secret else 'off'}, out {'on' if cfg.slack_bot_token else 'off'}",
        f"feishu: in {'on' if cfg.feishu_verification_token else 'off'}, "
        f"out {'on' if cfg.feishu_app_id and cfg.feishu_app_secret else 'off'}",
    ]
    for name in sorted(set(cfg.webhook_secrets) | set(cfg.webhook_urls)):
        has_secret = name in cfg.webhook_secrets
        out = "on" if has_secret and name in cfg.webhook_urls else "off"
        lines.append(f"webhook:{name}: in {'on' if has_secret else 'off'}, out {out}")
    return lines


@channels_app.command("link")
def link(
    channel: str = typer.Argument(..., help="slack, feishu or webhook:<name>"),
    platform_id: str = typer.Argument(
        ..., help="The account id on that platform: Slack user id (U...), Feishu open_id (ou_...)"
    ),
    username: str = typer.Argument(..., help="HR Ops username or employee id"),
) -> None:
    """Link a chat account to a user: their messages act as that user, their notifications go there."""
    from hrops import request_service as svc
    from tools.notify import links
    from tools.store import audit
    from tools.store.db import session_scope

    url = store_url()
    by = acting_user("link chat accounts", "hr_ops", "admin")
    try:
        who = svc.principal(username)
    except svc.RequestError as e:
        fail(str(e))
    try:
        with session_scope(url, write=True) as s:
            done = links.link(s, channel, platform_id, who.username, by)
            audit.append(
                s,
                audit.AuditEvent(
                    actor=by,
                    action="channel.linked",
                    entity_type="user",
                    entity_id=who.username,
                    details={"channel": done.link.channel, "platform_id": done.link.platform_id},
                ),
            )
    except links.LinkError as e:
        fail(str(e))
    moved = f" (was {done.replaced})" if done.replaced else ""
    console.print(
        f"linked {done.link.channel} {done.link.platform_id} -> {who.username}{moved}; "
        f"{who.username}'s notifications now go to {done.link.channel}",
        highlight=False,
    )


@channels_app.command("unlink")
def unlink(
    channel: str = typer.Argument(..., help="slack, feishu or webhook:<name>"),
    platform_id: str = typer.Argument(..., help="The account id on that platform"),
) -> None:
    """Remove a link: that account is a stranger again."""
    from tools.notify import links
    from tools.store import audit
    from tools.store.db import session_scope

    by = acting_user("link chat accounts", "hr_ops", "admin")
    try:
        with session_scope(store_url(), write=True) as s:
            was = links.unlink(s, channel, platform_id)
            if was:
                audit.append(
                    s,
                    audit.AuditEvent(
                        actor=by,
                        action="channel.unlinked",
                        entity_type="user",
                        entity_id=was,
                        details={"channel": links.check_channel(channel), "platform_id": platform_id.strip()},
                    ),
                )
    except links.LinkError as e:
        fail(str(e))
    if was is None:
        fail(f"no link for {channel} {platform_id}; `hrops channels list` shows them")
    console.print(f"unlinked {channel} {platform_id} (was {was})", highlight=False)


@channels_app.command("list")
def list_links(
    channel: str | None = typer.Option(None, "--channel", help="Only this channel"),
    user: str | None = typer.Option(None, "--user", help="Only this username"),
) -> None:
    """Linked chat accounts, and which channels are switched on here."""
    from tools.notify import links
    from tools.store.db import session_scope

    try:
        with session_scope(store_url()) as s:
            rows = links.all_links(s, channel, user)
    except links.LinkError as e:
        fail(str(e))
    for line in _state():
        console.print(line, highlight=False)
    if not rows:
        console.print("no linked accounts: `hrops channels link CHANNEL PLATFORM_ID USERNAME` adds one")
        return
    table = Table("channel", "platform id", "username", "linked", "by")
    for r in rows:
        table.add_row(r.channel, r.platform_id, r.username, f"{r.linked_at:%Y-%m-%d %H:%M}", r.linked_by)
    console.print(table)


@channels_app.command("outbox")
def outbox_state(limit: int = typer.Option(50, help="How many, oldest first")) -> None:
    """Notifications not delivered yet: waiting for a link, retrying, or given up (with the error)."""
    from tools.notify import outbox
    from tools.notify.links import address_of
    from tools.store.db import session_scope

    max_attempts = settings().delivery_max_attempts
    with session_scope(store_url()) as s:
        rows = [(n, address_of(s, n.recipient)) for n in outbox.undelivered(s, limit)]
    if not rows:
        console.print("the outbox is empty: every notification was delivered")
        return
    table = Table("id", "to", "kind", "request", "channel", "tries", "state")
    for n, address in rows:
        if address is None:
            state = "waiting: recipient has no linked chat account"
        elif n.attempts >= max_attempts:
            state = f"gave up: {n.last_error}"
        elif n.last_error:
            state = f"retry after {n.next_attempt_at:%Y-%m-%d %H:%M}: {n.last_error}"
        else:
            state = "due"
        table.add_row(
            str(n.id),
            n.recipient,
            n.kind,
            n.request_id or "",
            n.channel or (address.channel if address else ""),
            str(n.attempts),
            state,
        )
    console.print(table)


@channels_app.command("deliver")
def deliver(
    once: bool = typer.Option(False, "--once", help="One round over what is due, then exit"),
) -> None:
    """Send the outbox to each recipient's chat channel, retrying failures (`hrops worker` does it too)."""
    from hrops.channels.delivery import Deliverer, Round, configured, senders_for
    from hrops.channels.hub import chat_http_client

    cfg = settings()
    store_url()
    if not configured(cfg):
        fail(
            "no channel can send: set HROPS_SLACK_BOT_TOKEN, HROPS_FEISHU_APP_ID and _APP_SECRET, "
            "or HROPS_WEBHOOK_URLS (docs/channels.md)"
        )

    async def main() -> Round | None:
        async with chat_http_client() as http:
            deliverer = Deliverer(cfg, senders_for(cfg, http))
            if once:
                return await deliverer.round()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            console.print(f"delivering every {cfg.delivery_interval:g} s; Ctrl-C stops", highlight=False)
            await deliverer.run(stop)
            return None

    done = asyncio.run(main())
    if done is not None:
        console.print(
            f"sent {done.sent}, retrying {done.retrying}, gave up {done.gave_up}, "
            f"waiting {done.waiting} (their channel is not configured here), taken by another deliverer {done.taken}",
            highlight=False,
        )
