"""OnboardingWorkflow: from an offer to a ready first day.

check -> HR ops approve the offer data (approve with edits keeps a correction) -> employee, job
and pay records effective on the start date -> in parallel: directory account, equipment request,
legacy entry (child workflows) -> the onboarding agent writes the plan (30-60-90 goals, courses,
buddy, welcome) -> the manager approves or edits it -> enrolments -> welcome message queued ->
wait for day 1 -> the readiness report (also any time by Query).

An offer withdrawn at any stage (`hrops cancel`) is compensated in reverse: enrolments withdrawn,
equipment request cancelled, account disabled, a running legacy push cancelled (an entered legacy
record is flagged to HR ops for correction), the record marked withdrawn; each step audited.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from agents.onboarding_plan import keep_known, onboarding_agent, plan_prompt
    from tools.approvals.rules import ChangeType
    from tools.hr.approvers import ApprovalPlan, PlanQuery
    from tools.notify.outbox import Message, Queued
    from tools.onboarding.schemas import (
        Account,
        AccountArgs,
        EnrolArgs,
        Enrolled,
        Equipment,
        EquipmentArgs,
        HireCreated,
        OnboardingCheck,
        PlanInputs,
        Step,
        UndoArgs,
        Undone,
        offer_plan_query,
    )
    from tools.registry import ApprovalGrant, ToolContext
    from workflows.approvals import ApprovalChain, Outcome
    from workflows.onboarding.messages import (
        KIND,
        OFFER_EDITABLE,
        PLAN_EDITABLE,
        ItemStatus,
        OnboardingRequest,
        OnboardingState,
        Readiness,
        ReadinessItem,
        Stage,
        offer_with_edits,
        plan_with_edits,
    )
    from workflows.request_workflow import SHORT, RequestWorkflow
    from workflows.tool_activities import call_tool, refusal_of

# When each readiness item is due, in days before the start date.
DUE_BEFORE = {
    "offer": 5,
    "records": 5,
    "account": 3,
    "equipment": 1,
    "legacy": 3,
    "plan": 3,
    "enrolments": 1,
    "welcome": 1,
}


class Withdrawn(Exception):
    """The offer was withdrawn while a step waited."""


@workflow.defn
class OnboardingWorkflow(RequestWorkflow):
    __pydantic_ai_agents__ = [onboarding_agent]

    def __init__(self) -> None:
        self._state: OnboardingState | None = None
        self._cancel = None
        self._ctx: ToolContext | None = None

    @workflow.run
    async def run(self, req: OnboardingRequest) -> OnboardingState:
        self._state = OnboardingState(
            request_id=req.request_id,
            stage=Stage.CHECKING,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
            hire=req.hire,
        )
        ctx = self._ctx = ToolContext(
            actor=req.requested_by,
            roles=req.requester_roles,
            request_id=req.request_id,
            workflow_id=workflow.info().workflow_id,
        )
        self._note(
            f"offer for {req.hire.display_name} starting {req.hire.start_date}, requested by {req.requested_by}"
        )
        await self._audit("request.submitted", req.requested_by, {"kind": KIND})
        self._publish()
        try:
            return await self._onboard(ctx)
        except Withdrawn:
            return await self._withdraw()
        except ActivityError as e:
            return await self._finish(Stage.FAILED, [refusal_of(e)])

    async def _onboard(self, ctx: ToolContext) -> OnboardingState:
        st = self._state
        assert st is not None
        # 1. The offer, checked and approved by HR ops.
        try:
            st.check = await call_tool("onboarding.check", ctx, st.hire, OnboardingCheck)
        except ActivityError as e:
            return await self._finish(Stage.INVALID, [refusal_of(e)])
        if not st.check.ok:
            return await self._finish(Stage.INVALID, st.check.problems)
        plan = await call_tool(
            "approvals.plan", ctx, offer_plan_query(st.hire, st.check, st.requested_by), ApprovalPlan
        )
        outcome = await self._approval(ctx, plan, OFFER_EDITABLE, Stage.AWAITING_APPROVAL, "offer")
        if outcome is Outcome.CANCELLED:
            raise Withdrawn
        if outcome is not Outcome.APPROVED:
            return await self._finish(Stage(outcome.value))  # rejected, expired, cancelled: the same words
        offer_chain = st.approvals[-1]
        if edits := offer_chain.edits:
            st.corrected = offer_with_edits(st.hire, edits)
            self._note(f"HR ops corrected {', '.join(sorted(edits))}")
            st.check = await call_tool("onboarding.check", ctx, st.corrected, OnboardingCheck)
            if not st.check.ok:
                return await self._finish(Stage.INVALID, [f"the correction: {p}" for p in st.check.problems])
        grant_ctx = self._granted(ctx, offer_chain)

        # 2. The records, effective on the start date.
        self._stage(Stage.CREATING)
        created = await call_tool("onboarding.create_records", grant_ctx(st.offer), st.offer, HireCreated)
        st.employee_id = created.employee_id
        st.done_steps.append(Step.RECORDS)
        self._note(f"created {st.employee_id} (employee, job, pay) effective {st.offer.start_date}")
        self._check_withdrawn()

        # 3. Account, equipment and legacy entry side by side.
        self._stage(Stage.PROVISIONING)
        tasks = [
            asyncio.create_task(self._account(grant_ctx)),
            asyncio.create_task(self._equipment(grant_ctx)),
            asyncio.create_task(self._push_legacy(ctx, ChangeType.ONBOARDING, st.employee_id)),
        ]
        await workflow.wait_condition(lambda: all(t.done() for t in tasks) or self._cancel is not None)
        if self._cancel is not None:
            # Account and equipment are quick writes: let them land so they are undone too.
            await workflow.wait_condition(lambda: tasks[0].done() and tasks[1].done())
        for t in tasks[:2]:
            if (e := t.exception()) is not None:
                raise e
        self._check_withdrawn()

        # 4. The plan: written by the agent from what the tools allow, approved by the manager.
        self._stage(Stage.PLANNING)
        args = AccountArgs(employee_id=st.employee_id)
        st.plan_inputs = await call_tool("onboarding.plan_inputs", ctx, args, PlanInputs)
        written = (await onboarding_agent.run(plan_prompt(st.plan_inputs))).output
        st.plan, dropped = keep_known(written, st.plan_inputs)
        for note in dropped:
            self._note(f"plan: {note}")
        plan = await call_tool(
            "approvals.plan",
            ctx,
            PlanQuery(
                change=ChangeType.ONBOARDING_PLAN, employee_id=st.employee_id, requested_by=st.requested_by
            ),
            ApprovalPlan,
        )
        outcome = await self._approval(ctx, plan, PLAN_EDITABLE, Stage.AWAITING_PLAN_APPROVAL, "plan")
        if outcome is Outcome.CANCELLED:
            raise Withdrawn
        if outcome is not Outcome.APPROVED:
            # The hire still starts: HR ops follow up on the plan by hand.
            st.problems.append(f"the onboarding plan was {outcome.value}; HR ops follow up with the manager")
        elif edits := st.approvals[-1].edits:
            st.plan, dropped = keep_known(plan_with_edits(st.plan, edits), st.plan_inputs)
            self._note(f"the manager edited {', '.join(sorted(edits))}" + "".join(f"; {d}" for d in dropped))

        # 5. Enrolments and the welcome message.
        self._stage(Stage.ENROLLING)
        if outcome is Outcome.APPROVED:
            enrol = EnrolArgs(
                employee_id=st.employee_id, courses=st.plan.courses, start_date=st.offer.start_date
            )
            done = await call_tool("onboarding.enrol", grant_ctx(enrol), enrol, Enrolled)
            st.enrolled = [*done.already, *done.enrolled]
            st.done_steps.append(Step.ENROLMENTS)
            self._note(f"enrolled in {', '.join(st.enrolled) or 'no courses'}")
        await self._welcome()
        self._check_withdrawn()

        # 6. Wait for day 1, then report readiness.
        self._stage(Stage.READY)
        days = (st.offer.start_date - st.check.as_of).days if st.check and st.check.as_of else 0
        if days > 0:
            wake = datetime.combine(workflow.now().date() + timedelta(days=days), time(0), UTC)
            self._note(f"ready; day 1 is {st.offer.start_date} (timer until {wake:%Y-%m-%d %H:%M} UTC)")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._cancel is not None, timeout=wake - workflow.now())
        self._check_withdrawn()
        st.readiness = self._readiness()
        managers = (
            st.approvals[1].steps[0].usernames if len(st.approvals) > 1 and st.approvals[1].steps else []
        )
        await self._tell(
            list(dict.fromkeys([st.requested_by, *managers])),
            "day1_readiness",
            f"{st.request_id}: day 1 for {st.employee_id}: {st.readiness.summary()}",
            f"Details: `hrops requests show {st.request_id}`.",
            "day1",
        )
        return await self._finish(Stage.COMPLETED)

    # -- steps -------------------------------------------------------------------------------

    async def _approval(
        self, ctx: ToolContext, plan: ApprovalPlan, editable: tuple[str, ...], stage: Stage, what: str
    ) -> Outcome:
        st = self._state
        assert st is not None
        st.approvals.append(
            ApprovalChain.from_plan(plan, st.request_id, st.requested_by, editable=list(editable))
        )
        self._stage(stage)
        self._note(f"{what}: approval rule {plan.rule}: {plan.why}")
        who = st.employee_id or st.hire.display_name
        return await self._decide_chain(st.approvals[-1], ctx, f"{st.request_id} onboarding {what} for {who}")

    def _granted(self, ctx: ToolContext, chain: ApprovalChain):  # noqa: ANN202 - args -> ToolContext
        """Tool contexts carrying the offer's approval for exactly the given arguments."""
        return lambda args: ctx.model_copy(update={"approval": chain.grant(args)})

    async def _account(self, grant_ctx) -> None:  # noqa: ANN001
        st = self._state
        assert st is not None and st.employee_id
        args = AccountArgs(employee_id=st.employee_id)
        st.account = await call_tool("onboarding.create_account", grant_ctx(args), args, Account)
        st.done_steps.append(Step.ACCOUNT)
        self._note(
            f"account {st.account.username} <{st.account.email}>"
            + (" (the first choice was taken)" if st.account.collision else "")
        )

    async def _equipment(self, grant_ctx) -> None:  # noqa: ANN001
        st = self._state
        assert st is not None and st.employee_id
        args = EquipmentArgs(employee_id=st.employee_id, request_id=st.request_id)
        st.equipment = await call_tool("onboarding.request_equipment", grant_ctx(args), args, Equipment)
        st.done_steps.append(Step.EQUIPMENT)
        self._note(f"equipment request #{st.equipment.request_number}: {', '.join(st.equipment.items)}")

    async def _welcome(self) -> None:
        st = self._state
        assert st is not None and st.plan is not None
        people = [st.account.username] if st.account else []
        await self._tell(
            people,
            "welcome",
            f"Welcome! / 欢迎! ({st.request_id})",
            f"{st.plan.welcome_en}\n{st.plan.welcome_zh}",
            "welcome",
        )
        st.welcome_queued = bool(people)

    async def _tell(self, people: list[str], kind: str, subject: str, body: str, key: str) -> None:
        st = self._state
        assert st is not None
        if not people:
            return
        await workflow.execute_activity(
            "notify.queue",
            Message(
                recipients=people,
                kind=kind,
                request_id=st.request_id,
                subject=subject,
                body=body,
                key=f"{workflow.info().workflow_id}/{st.request_id}/{key}",
            ),
            result_type=Queued,
            start_to_close_timeout=SHORT,
        )

    async def _withdraw(self) -> OnboardingState:
        """Undo what was done, newest first; each tool call is audited."""
        st = self._state
        assert st is not None and self._ctx is not None and self._cancel is not None
        self._stage(Stage.CANCELLING)
        for push in st.legacy:
            if push.stage is None:  # still running: stop it before it enters anything more
                await workflow.get_external_workflow_handle(push.workflow_id).cancel()
                push.stage = "cancelled"
                st.undone.append(f"legacy push {push.workflow_id} cancelled")
            elif push.stage == "completed":
                st.problems.append(
                    f"{push.system}: the record entered for {st.employee_id} must be corrected there by hand "
                    "(the system has no withdraw form)"
                )
        if st.legacy and any(p.stage == "completed" for p in st.legacy):
            await self._tell(
                [st.requested_by],
                "legacy_correction",
                f"{st.request_id}: offer withdrawn, correct the legacy entry of {st.employee_id}",
                "The offer was withdrawn after the legacy record was entered. See `hrops legacy show`.",
                "legacy-correction",
            )
        cancel_ctx = self._ctx.model_copy(update={"actor": self._cancel.by})
        for step in [s for s in Step if s in st.done_steps]:  # Step's order is the undo order
            args = UndoArgs(employee_id=st.employee_id or "", step=step)
            grant = ApprovalGrant.for_args(
                args,
                request_id=st.request_id,
                approver=self._cancel.by,
                decided_at=workflow.now().isoformat(),
            )
            undone = await call_tool(
                "onboarding.undo_step", cancel_ctx.model_copy(update={"approval": grant}), args, Undone
            )
            st.undone.append(f"{step.value}: {undone.changed} undone")
            self._note(f"withdrawn: {step.value} ({undone.changed} changed)")
        st.cancel_reason = self._cancel.reason
        return await self._finish(Stage.CANCELLED)

    def _check_withdrawn(self) -> None:
        if self._cancel is not None:
            raise Withdrawn

    def _stage(self, stage: Stage) -> None:
        assert self._state is not None
        self._state.stage = stage
        self._publish()

    def _readiness(self) -> Readiness:
        st = self._state
        assert st is not None
        now, start = workflow.now(), st.offer.start_date

        def item(
            key: str, name: str, owner: str, done: bool, detail: str = "", skipped: bool = False
        ) -> ReadinessItem:
            due = start - timedelta(days=DUE_BEFORE[key])
            status = (
                ItemStatus.SKIPPED
                if skipped
                else ItemStatus.DONE
                if done
                else ItemStatus.LATE
                if now.date() > due
                else ItemStatus.PENDING
            )
            return ReadinessItem(item=name, owner=owner, due=due, status=status, detail=detail)

        offer = st.approvals[0] if st.approvals else None
        plan = st.approvals[1] if len(st.approvals) > 1 else None
        pushes = ", ".join(f"{p.system}: {p.stage or 'running'}" for p in st.legacy)
        items = [
            item("offer", "offer approved", "HR ops", bool(offer and offer.outcome is Outcome.APPROVED)),
            item("records", "employee records", "HR ops", st.employee_id is not None, st.employee_id or ""),
            item(
                "account",
                "directory account",
                "IT",
                st.account is not None,
                st.account.username if st.account else "",
            ),
            item(
                "equipment",
                "equipment request",
                "IT",
                st.equipment is not None,
                ", ".join(st.equipment.items) if st.equipment else "",
            ),
            item(
                "legacy",
                "legacy HR entry",
                "HR ops",
                bool(st.legacy) and all(p.stage == "completed" for p in st.legacy),
                pushes or "no legacy system follows onboardings",
                skipped=not st.legacy,
            ),
            item(
                "plan", "onboarding plan approved", "manager", bool(plan and plan.outcome is Outcome.APPROVED)
            ),
            item("enrolments", "course enrolments", "L&D", bool(st.enrolled), ", ".join(st.enrolled)),
            item("welcome", "welcome message", "HR ops", st.welcome_queued),
        ]
        if st.stage is Stage.CANCELLED or self._cancel is not None:
            items = [i.model_copy(update={"status": ItemStatus.UNDONE}) for i in items]
        return Readiness(
            request_id=st.request_id, employee_id=st.employee_id, start_date=start, as_of=now, items=items
        )

    # -- messages and what the shared request handling needs ---------------------------------

    @workflow.query
    def state(self) -> OnboardingState:
        assert self._state is not None
        return self._state

    @workflow.query
    def readiness(self) -> Readiness:
        """The day-1 readiness report as of now (what is done, late, and who owns it)."""
        assert self._state is not None
        return self._state.readiness or self._readiness()

    def _kind(self) -> str:
        return KIND

    def _subject(self) -> str | None:
        return self._state.employee_id if self._state else None

    def _chain(self) -> ApprovalChain | None:
        st = self._state
        waiting = st and st.stage in (Stage.AWAITING_APPROVAL, Stage.AWAITING_PLAN_APPROVAL)
        return st.approvals[-1] if waiting and st.approvals else None

    def _cancellable(self) -> bool:
        return not self._state.stage.closed and self._state.stage is not Stage.CANCELLING

    def _check_edits(self, edits: dict[str, str]) -> str | None:
        st = self._state
        try:
            if st.stage is Stage.AWAITING_APPROVAL:
                offer_with_edits(st.hire, edits)
            else:
                plan_with_edits(st.plan, edits)
        except ValueError as e:
            return str(e).replace("\n", " ")
        return None
