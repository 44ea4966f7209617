"""The digest activity: build one subscriber's digest (every read audited) and queue it, once."""

from __future__ import annotations

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from hrops.clock import today
    from hrops.settings import get_settings
    from tools.analytics import digest
    from tools.notify.outbox import queue, was_queued
    from tools.store.db import session_scope
    from tools.store.identity import UnknownUser, resolve_principal
    from workflows.learning_digest.messages import DigestJob, DigestSent


@activity.defn(name="digest.learning")
def send_learning_digest(job: DigestJob) -> DigestSent:
    """One transaction: the audit entries of the reads and the outbox row commit together, so a
    retried attempt neither queues twice nor leaves reads unaudited. A digest queued before (a
    second trigger in the same month) is not built again: no data is read for nothing."""
    sent = DigestSent(username=job.username, month=job.month)
    with session_scope(get_settings().db_url, write=True) as session:
        if was_queued(session, digest.key_for(job.username, job.month), job.username):
            return sent
        try:
            who = resolve_principal(session, job.username, today())
        except UnknownUser as e:  # a leaver or a removed account: nobody to write to
            return sent.model_copy(update={"skipped": str(e)})
        d = digest.build(
            session, who, job.month, job.language, today(), workflow_id=activity.info().workflow_id
        )
        queued = queue(session, d.message())
    return sent.model_copy(
        update={"subject": d.subject, "queued": queued.queued, "refused": d.refused is not None}
    )
