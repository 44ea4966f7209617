"""The orchestration floor for benchmarks: a workflow that runs N no-op activities in turn.
Its own module so the worker's sandbox can import it, as it imports the product's workflows."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "bench-floor"


@activity.defn(name="bench.noop")
def noop(i: int) -> int:
    return i


@workflow.defn(name="BenchFloor")
class BenchFloor:
    @workflow.run
    async def run(self, activities: int) -> int:
        for i in range(activities):
            await workflow.execute_activity("bench.noop", i, start_to_close_timeout=timedelta(seconds=30))
        return activities
