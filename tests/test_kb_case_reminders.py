"""Open policy cases are reminded of by the product's own hourly schedule: a main worker creates it
at start (once, however many workers), and each run reminds HR ops of an overdue case once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import select, update
from temporalio.service import RPCError

from tools.store.db import session_scope


async def test_the_hourly_schedule_reminds_hr_ops_of_an_overdue_case_once(
    temporal_env, main_worker, company: str
) -> None:
    from hrops import knowledge_service
    from hrops.clock import now
    from hrops.request_service import principal
    from tools.store.models import KbCase, Notification
    from workflows.kb_cases.messages import SCHEDULE_ID
    from workflows.kb_cases.schedule import ensure_schedule

    client = temporal_env.client
    case = knowledge_service.ask(principal("wang.fang"), "转人工").case_id
    with session_scope(company, write=True) as s:
        s.execute(update(KbCase).values(created_at=now() - timedelta(hours=30)))

    handle = client.get_schedule_handle(SCHEDULE_ID)
    with contextlib.suppress(RPCError):  # a main worker started by another test may have made it
        await handle.delete()
    created = [await ensure_schedule(client), await ensure_schedule(client)]
    try:
        assert created == [True, False]  # the second call finds it
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == timedelta(hours=1)

        def reminders() -> list[str]:
            with session_scope(company) as s:
                return list(
                    s.scalars(select(Notification.recipient).where(Notification.kind == "kb_case_reminder"))
                )

        for _ in range(2):  # two runs: the second finds the reminder already sent
            before = (await handle.describe()).info.num_actions
            await handle.trigger()
            for _ in range(100):
                info = (await handle.describe()).info
                if info.num_actions > before and not info.running_actions:
                    break
                await asyncio.sleep(0.1)
        assert reminders() == ["amy.hughes"]
        with session_scope(company) as s:
            assert s.scalar(select(KbCase.status).where(KbCase.id == int(case.split("-")[1]))) == "open"
    finally:
        await handle.delete()
