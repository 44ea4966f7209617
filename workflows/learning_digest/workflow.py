"""LearningDigestWorkflow: build and queue one subscriber's learning digest for one month.

A subscription is a Temporal Schedule (`hrops/digest_service.py`) whose action starts this
workflow each month. The month digested is the calendar month before the scheduled time (the start
time when started by hand) unless the input names one; the workflow decides it, so the activity gets
a fixed month and a replay does the same. The activity builds the digest through the analytics
engine (the subscriber's scope applied there, each read audited) and queues it in the outbox under
a key per subscriber and month: a second run in the same month, or a retried attempt, queues nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from tools.analytics.digest import previous_month
    from workflows.learning_digest.activities import send_learning_digest
    from workflows.learning_digest.messages import DigestJob, DigestSent, LearningDigestRequest

# Set by the schedule on each workflow it starts: the nominal time of that action.
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=10
)


@workflow.defn
class LearningDigestWorkflow:
    @workflow.run
    async def run(self, req: LearningDigestRequest) -> DigestSent:
        info = workflow.info()
        started: datetime = info.typed_search_attributes.get(SCHEDULED_AT) or info.workflow_start_time
        month = req.month or previous_month(started.astimezone(UTC).date())
        return await workflow.execute_activity(
            send_learning_digest,
            DigestJob(username=req.username, language=req.language, month=month),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
