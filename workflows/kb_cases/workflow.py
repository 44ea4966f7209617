"""CaseRemindersWorkflow: started every hour by the `kb-case-reminders` schedule, it brings open
policy cases up again (to HR ops, then the admins). The activity's outbox keys make each reminder
once, so an overlapping or repeated run sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.kb_cases.activities import remind_overdue_cases
    from workflows.kb_cases.messages import Reminded


@workflow.defn
class CaseRemindersWorkflow:
    @workflow.run
    async def run(self) -> Reminded:
        return await workflow.execute_activity(
            remind_overdue_cases,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10),
        )
