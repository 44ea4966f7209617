"""The demo's policy questions: employees ask the HR policy assistant in English and Chinese and get
quoted, cited answers from the handbook that applies to them; a question no policy answers goes to
HR ops as a case, HR answers and saves it as a correction, and the next asker gets HR's answer; a
sensitive matter told in other words goes to HR ops in confidence, the case saying why."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from hrops.cli.common import console
from hrops.cli.demo_cmd import _step

# (asker's location, question): answered from the handbook (the first from the asker's own leave
# record with the policy it follows); NO_POLICY has no policy behind it and goes to HR ops.
QUESTIONS = (
    ("Shanghai", "how many days of annual leave do I get?"),
    ("Shanghai", "产假一共有多少天?"),
    ("London", "how do I claim relocation expenses?"),
    ("Beijing", "公积金缴费比例是多少?"),  # Beijing's rate, not Shanghai's
)
NO_POLICY = "Can I bring my dog to the office?"
# No pattern of triage.yaml matches it; with the default embedding model its meaning does.
UNNAMED = "my lead stands right behind my chair every day and comments on my perfume, I dread coming in"
HR_ANSWER = (
    "Dogs are welcome in the London and Singapore offices on Fridays if your team agrees; "
    "the China and New York offices do not allow pets. Register your dog with facilities first."
)


def _staff_at(url: str, location: str, day: date, skip: set[str]) -> str | None:
    """A user account of an employee working at `location` who manages nobody."""
    from tools.knowledge.asker import employee_group
    from tools.store.db import session_scope
    from tools.store.models import JobAssignment, User

    with session_scope(url) as s:
        rows = s.execute(
            select(User.username, User.employee_id)
            .join(JobAssignment, JobAssignment.employee_id == User.employee_id)
            .where(
                User.active,
                JobAssignment.location == location,
                JobAssignment.valid_from <= day,
                JobAssignment.valid_to.is_(None),
            )
            .order_by(User.username)
            .limit(40)
        ).all()
        for username, employee_id in rows:
            if username not in skip and employee_group(s, employee_id, day) == "staff":
                return username
    return None


def ask_policy_questions(cfg, ops_user: str, n: int) -> int:  # noqa: ANN001 - Settings
    """Returns the next step number."""
    from hrops import knowledge_service
    from hrops.cli import case_cmds, kb_cmds
    from hrops.clock import today
    from hrops.request_service import principal

    day = today()
    askers: dict[str, str] = {}
    for location in {loc for loc, _ in QUESTIONS}:
        if user := _staff_at(cfg.db_url, location, day, set(askers.values())):
            askers[location] = user
    if len(askers) < 3:
        console.print("skipped the policy questions: no staff accounts in Shanghai, Beijing and London")
        return n
    for location, question in QUESTIONS:
        user = askers[location]
        _step(f"{n}. {user} ({location}) asks the policy assistant", f'hrops kb ask "{question}" --as {user}')
        kb_cmds.ask_cmd(question, None, False, user)
        n += 1

    first, second = askers["Shanghai"], askers["Beijing"]
    _step(
        f"{n}. {first} asks something no policy answers: it goes to HR ops",
        f'hrops kb ask "{NO_POLICY}" --as {first}',
    )
    answer = knowledge_service.ask(principal(first), NO_POLICY)
    console.print(answer.text, markup=False, highlight=False)
    if answer.case_id is None:  # a second demo run: HR's saved answer is given straight away
        console.print("(answered from HR's correction saved by an earlier demo run)")
        return n + 1
    console.print(f"case {answer.case_id}", highlight=False)
    n += 1
    _step(
        f"{n}. {ops_user} answers {answer.case_id} and saves the answer for everyone",
        f'hrops cases answer {answer.case_id} "{HR_ANSWER[:40]}..." --save everyone --as {ops_user}',
    )
    case_cmds.answer(answer.case_id, HR_ANSWER, "everyone", None, ops_user)
    n += 1
    _step(
        f"{n}. {second} asks the same: HR's answer comes back at once",
        f'hrops kb ask "{NO_POLICY}" --as {second}',
    )
    again = knowledge_service.ask(principal(second), NO_POLICY)
    console.print(again.text, markup=False, highlight=False)
    return _unnamed(ops_user, first, n + 1)


def _unnamed(ops_user: str, user: str, n: int) -> int:
    """A sensitive matter told without the words any pattern knows: triage by meaning hands it on,
    and the case says why."""
    from hrops import knowledge_service
    from hrops.cli import case_cmds
    from hrops.request_service import principal

    _step(
        f"{n}. {user} tells of something sensitive without naming it: it goes to HR ops in confidence",
        f'hrops kb ask "{UNNAMED}" --as {user}',
    )
    told = knowledge_service.ask(principal(user), UNNAMED)
    console.print(told.text, markup=False, highlight=False)
    if told.handoff != "sensitive" or told.case_id is None:
        # Without an embedding model the patterns alone decide, and no pattern knows these words.
        console.print("(no embedding model is set: triage by meaning did not run)", highlight=False)
        return n + 1
    console.print(f"case {told.case_id}", highlight=False)
    n += 1
    _step(f"{n}. {ops_user} sees why it was handed on", f"hrops cases show {told.case_id} --as {ops_user}")
    case_cmds.show(told.case_id, False, ops_user)
    return n + 1
