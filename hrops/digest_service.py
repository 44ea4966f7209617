"""Monthly learning digests: a subscription IS a Temporal Schedule (`learning-digest-<username>`),
no table of our own. Its action starts `LearningDigestWorkflow` for the subscriber each month (day
and hour in UTC, by default from the settings); a run that would overlap a running one is skipped.
The CLI and the API go through here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
)
from temporalio.service import RPCError, RPCStatusCode

from hrops.clock import today
from hrops.request_service import RequestError
from hrops.settings import Settings, get_settings
from tools.analytics.digest import Language
from tools.analytics.engine import Refused, scope_for
from tools.store import audit
from tools.store.db import session_scope
from tools.store.identity import Principal
from workflows import task_queues
from workflows.learning_digest.messages import (
    SCHEDULE_PREFIX,
    DigestSent,
    LearningDigestRequest,
    schedule_id_for,
)
from workflows.learning_digest.workflow import LearningDigestWorkflow

# How long `run_now` waits for the schedule to start the triggered workflow.
TRIGGER_WAIT = 10.0
SAME_SECOND = 1.2  # seconds, with a margin for clocks


class Subscription(BaseModel):
    username: str
    language: Language
    day: int  # of the month
    hour: int  # UTC
    schedule_id: str
    paused: bool = False
    next_run: datetime | None = None
    last_run: datetime | None = None


class Subscribed(BaseModel):
    subscription: Subscription
    created: bool  # False: the subscription existed and was updated
    scope: str  # what the digest will cover, in the subscription's language


class Triggered(BaseModel):
    workflow_id: str
    started: bool  # False: a digest run of this subscription was still running (overlap: skip)


def _not_subscribed(username: str) -> RequestError:
    return RequestError(
        f"{username} has no learning digest subscription; `hrops digest subscribe --as {username}` makes one"
    )


def _schedule(username: str, language: Language, day: int, hour: int) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            LearningDigestWorkflow.run,
            LearningDigestRequest(username=username, language=language),
            id=schedule_id_for(username),  # the server adds each action's time to it
            task_queue=task_queues.MAIN,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_month=[ScheduleRange(day)],
                    hour=[ScheduleRange(hour)],
                    comment=f"day {day} of each month, {hour:02d}:00 UTC",
                )
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=f"monthly learning digest for {username}"),
    )


def _audit(settings: Settings, who: Principal, action: str, details: dict) -> None:
    with session_scope(settings.db_url, write=True) as session:
        audit.append(
            session,
            audit.AuditEvent(
                actor=who.username,
                action=action,
                entity_type="schedule",
                entity_id=schedule_id_for(who.username),
                details=details,
            ),
        )


def reported_scope(who: Principal, language: Language = "en", settings: Settings | None = None) -> str:
    """What `who`'s digest would cover, in `language`; refused (with the engine's reason) when they
    have nothing to report on. Checked before anything is scheduled."""
    with session_scope((settings or get_settings()).db_url) as session:
        try:
            scope = scope_for(session, who, today())
        except Refused as e:
            raise RequestError(e.say(language)) from None
    return scope.label_zh if language == "zh" else scope.label


async def subscribe(
    client: Client,
    who: Principal,
    language: Language = "en",
    *,
    day: int | None = None,
    hour: int | None = None,
    settings: Settings | None = None,
) -> Subscribed:
    """Subscribe `who` to their monthly digest, once they have something to report on (a manager
    heading a unit, an HRBP, HR). Subscribing again updates the schedule (language, day, hour)."""
    settings = settings or get_settings()
    day = settings.digest_day if day is None else day
    hour = settings.digest_hour if hour is None else hour
    if not (1 <= day <= 28 and 0 <= hour <= 23):
        raise RequestError(
            f"day {day}, hour {hour}: the day is 1 to 28 (every month has it), the hour 0 to 23 (UTC)"
        )
    scope = reported_scope(who, language, settings)
    schedule = _schedule(who.username, language, day, hour)
    sid = schedule_id_for(who.username)
    try:
        await client.create_schedule(sid, schedule)
        created = True
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(sid).update(lambda _: ScheduleUpdate(schedule=schedule))
        created = False
    _audit(
        settings,
        who,
        "digest.subscribed",
        {"language": language, "day": day, "hour": hour, "created": created},
    )
    found = await subscription(client, who.username)
    if found is None:  # unsubscribed in the meantime
        raise _not_subscribed(who.username)
    return Subscribed(subscription=found, created=created, scope=scope)


async def unsubscribe(client: Client, who: Principal, settings: Settings | None = None) -> bool:
    """Delete the subscription's schedule (a digest already running finishes); False: there was none."""
    try:
        await client.get_schedule_handle(schedule_id_for(who.username)).delete()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    _audit(settings or get_settings(), who, "digest.unsubscribed", {})
    return True


async def _describe(handle: ScheduleHandle) -> ScheduleDescription | None:
    try:
        return await handle.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def subscription(client: Client, username: str) -> Subscription | None:
    desc = await _describe(client.get_schedule_handle(schedule_id_for(username)))
    if desc is None:
        return None
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    [req] = await client.data_converter.decode(list(action.args), [LearningDigestRequest])
    [calendar] = desc.schedule.spec.calendars
    return Subscription(
        username=req.username,
        language=req.language,
        day=calendar.day_of_month[0].start,
        hour=calendar.hour[0].start,
        schedule_id=desc.id,
        paused=desc.schedule.state.paused,
        next_run=desc.info.next_action_times[0] if desc.info.next_action_times else None,
        last_run=desc.info.recent_actions[-1].started_at if desc.info.recent_actions else None,
    )


async def subscriptions(client: Client) -> list[Subscription]:
    """Every digest subscription (the list comes from visibility: one made a moment ago may be missing)."""
    out = []
    async for listed in await client.list_schedules():
        if listed.id.startswith(SCHEDULE_PREFIX):
            found = await subscription(client, listed.id.removeprefix(SCHEDULE_PREFIX))
            if found is not None:  # deleted since it was listed
                out.append(found)
    return sorted(out, key=lambda s: s.username)


def _action_ids(desc: ScheduleDescription) -> list[str]:
    return [a.action.workflow_id for a in desc.info.recent_actions] + [
        r.workflow_id for r in desc.info.running_actions
    ]


async def run_now(client: Client, who: Principal) -> Triggered:
    """Start the subscription's digest now (the month before today, as on its schedule). A digest of
    a month already sent is not sent again."""
    handle = client.get_schedule_handle(schedule_id_for(who.username))
    before = await _describe(handle)
    if before is None:
        raise _not_subscribed(who.username)
    seen, skipped = set(_action_ids(before)), before.info.num_actions_skipped_overlap
    if before.info.recent_actions:
        # A run's id is the schedule id and the second of its action: a second trigger within the
        # same second would start nothing, its workflow id being taken.
        since = (datetime.now(UTC) - before.info.recent_actions[-1].scheduled_at).total_seconds()
        await asyncio.sleep(max(0.0, SAME_SECOND - since))
    await handle.trigger()
    for _ in range(int(TRIGGER_WAIT * 10)):
        desc = await _describe(handle)
        if desc is None:
            raise _not_subscribed(who.username)
        if new := [i for i in _action_ids(desc) if i not in seen]:
            return Triggered(workflow_id=new[-1], started=True)
        if desc.info.num_actions_skipped_overlap > skipped and desc.info.running_actions:
            return Triggered(workflow_id=desc.info.running_actions[-1].workflow_id, started=False)
        await asyncio.sleep(0.1)
    raise RequestError(f"the schedule {handle.id} did not start the digest within {TRIGGER_WAIT:.0f} s")


async def result(client: Client, workflow_id: str, timeout: float) -> DigestSent | None:
    """What the run sent, or None when it has not finished within `timeout` seconds (no worker?)."""
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(workflow_id, result_type=DigestSent).result(), timeout
        )
    except TimeoutError:
        return None
