"""The hourly schedule that starts CaseRemindersWorkflow. Main workers make sure it exists when they
start (so the embedded stack, compose and Kubernetes all get it without a setup step); creating it
twice, or from two workers at once, leaves one."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows import task_queues
from workflows.kb_cases.messages import SCHEDULE_ID
from workflows.kb_cases.workflow import CaseRemindersWorkflow

EVERY = timedelta(hours=1)


async def ensure_schedule(client: Client) -> bool:
    """Create the schedule unless it exists; True when this call created it."""
    try:
        await client.create_schedule(
            SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    CaseRemindersWorkflow.run, id=SCHEDULE_ID, task_queue=task_queues.MAIN
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True
