"""Queue messages to people from workflow code (the outbox write is the activity)."""

from __future__ import annotations

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from hrops.settings import get_settings
    from tools.notify.outbox import Message, Queued, queue
    from tools.store.db import session_scope


@activity.defn(name="notify.queue")
def queue_message(message: Message) -> Queued:
    with session_scope(get_settings().db_url, write=True) as session:
        return queue(session, message)
