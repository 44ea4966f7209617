"""Personal policy questions ("my remaining leave", "我的社保基数", "my next payday"): answered from
the asker's own record with the policy sections the figure rests on, checked against figures worked
out by hand from the handbook; never another person's data; audited without the values."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event, select, update

from tests.conftest import TODAY
from tools.demo_company.handbook import HANDBOOK, seed_handbook
from tools.hr.leave import leave_balance, yearly_rate
from tools.hr.pay_dates import rule_pay_date
from tools.hr.social_insurance import LIMITS, contribution_base
from tools.knowledge.personal import personal_answer, personal_kind
from tools.store.db import engine_for, session_scope
from tools.store.identity import resolve_principal
from tools.store.models import (
    AuditEntry,
    Compensation,
    Employee,
    JobAssignment,
    LeaveRecord,
    User,
)

WANG, LI = "E1003", "E1002"


def _leave(
    employee_id: str, start: str, end: str, days: float, kind: str = "annual", status: str = "approved"
):  # noqa: ANN202
    return LeaveRecord(
        employee_id=employee_id,
        leave_type=kind,
        start_on=date.fromisoformat(start),
        end_on=date.fromisoformat(end),
        days=Decimal(str(days)),
        status=status,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def store(company: str) -> str:
    """The tiny company (everyone hired 1 March 2020 in Shanghai on CNY 300,000 a year), the handbook,
    and leave on record. Li Wei's figures differ from Wang Fang's, so a leak would show."""
    with session_scope(company, write=True) as s:
        seed_handbook(s)
        s.add_all(
            [
                _leave(WANG, "2025-08-04", "2025-08-08", 5),
                _leave(WANG, "2026-02-02", "2026-02-04", 3),
                _leave(WANG, "2026-12-21", "2026-12-22", 2),  # booked, not yet taken
                _leave(WANG, "2026-06-01", "2026-06-05", 5, status="cancelled"),  # does not count
                _leave(WANG, "2026-05-11", "2026-05-12", 2, kind="sick"),  # not annual leave
                _leave(LI, "2025-03-02", "2025-03-13", 10),
                _leave(LI, "2026-07-06", "2026-07-16", 9),
            ]
        )
        # Li Wei got a raise on 1 January 2025: his 2025 average is CNY 31,000 a month.
        s.execute(
            update(Compensation).where(Compensation.employee_id == LI).values(valid_to=date(2025, 1, 1))
        )
        s.add(
            Compensation(
                employee_id=LI,
                base_amount=372000,
                currency="CNY",
                frequency="annual",
                valid_from=date(2025, 1, 1),
                change_reason="merit",
            )
        )
    return company


def _hire(
    url: str, eid: str, hired: date, location: str, *, fte: str = "1", annual: int | None = None
) -> None:
    """Someone joining the tiny company (in the Platform team)."""
    with session_scope(url, write=True) as s:
        s.add(
            Employee(
                id=eid,
                given_name="Ann",
                family_name=eid,
                display_name=f"Ann {eid}",
                hire_date=hired,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        s.flush()
        s.add(
            JobAssignment(
                employee_id=eid,
                title="Analyst",
                job_family="Engineering",
                level="L3",
                org_unit_id=2,
                location=location,
                fte=Decimal(fte),
                valid_from=hired,
                change_reason="hire",
            )
        )
        if annual:
            s.add(
                Compensation(
                    employee_id=eid,
                    base_amount=annual,
                    currency="CNY",
                    frequency="annual",
                    valid_from=hired,
                    change_reason="hire",
                )
            )


def _ask(url: str, user: str, question: str, on: date = TODAY, language: str | None = None):  # noqa: ANN202
    lang = language or ("zh" if re.search(r"[\u4e00-\u9fff]", question) else "en")
    with session_scope(url, write=True) as s:
        who = resolve_principal(s, user, on)
        return personal_answer(s, who, question, lang, on)  # type: ignore[arg-type]


# -- the handbook's rules, by hand -----------------------------------------------------------------


def test_entitlement_rules_are_the_handbooks() -> None:
    # China: statutory by total working years + 1 company day per Acme year (max 5), 5 to 20 days.
    assert (
        yearly_rate("CN", date(2014, 1, 1), date(2023, 1, 1), date(2026, 6, 1))[0] == 13
    )  # the handbook's example
    assert yearly_rate("CN", date(2001, 1, 1), date(2016, 1, 1), date(2026, 6, 1)) == (
        20,
        15,
        5,
    )  # capped at 20
    assert yearly_rate("CN", date(2026, 5, 1), date(2026, 5, 1), date(2026, 6, 1)) == (
        5,
        0,
        0,
    )  # graduates get 5
    # Statutory days rise from the month after 10 working years; company days on the anniversary.
    assert yearly_rate("CN", date(2016, 3, 15), date(2025, 1, 1), date(2026, 3, 20))[1] == 5
    assert yearly_rate("CN", date(2016, 3, 15), date(2025, 1, 1), date(2026, 4, 1))[1] == 10
    assert [yearly_rate("SG", d, d, date(2026, 6, 1))[0] for d in (date(2024, 6, 1), date(2010, 1, 1))] == [
        16,
        18,
    ]
    london = [
        yearly_rate("GB", date(y, 6, 1), date(y, 6, 1), date(2026, 6, 1))[0] for y in (2024, 2023, 2021)
    ]
    assert london == [25, 26, 27]  # +1 after 3 years, +1 after 5
    assert [yearly_rate("US", date(y, 6, 1), date(y, 6, 1), date(2026, 6, 1))[0] for y in (2022, 2021)] == [
        20,
        25,
    ]


def test_leave_balance_with_carry_over_by_hand(store: str) -> None:
    with session_scope(store) as s:
        after = leave_balance(s, WANG, TODAY)
        before = leave_balance(s, WANG, date(2026, 3, 15))
    # 2026: 6 years at Acme: statutory 5 + company 5 = 10 days, 10 months accrued by 23 November.
    assert (after.entitlement, after.statutory_days, after.company_days, after.accrued) == (
        10,
        5,
        5,
        Decimal("8"),
    )
    # 2025: 9 days in January and February, 10 from the fifth anniversary on 1 March:
    # (2 x 9 + 10 x 10) / 12 = 9.83, 9.5 in half days; 5 taken, so 4.5 carried into 2026.
    assert after.carried_over == Decimal("4.5") and after.carry_known
    # Carried days are used first and expire on 31 March: 3 of them were used in February.
    assert after.carry_counted == 3 and after.taken == 3 and after.booked == 2
    assert after.balance == 10 + 3 - 3 - 2
    # Before the expiry all 4.5 carried days still count; the sick and cancelled leave never do.
    assert before.carry_counted == Decimal("4.5") and before.balance == Decimal("9.5")


def test_a_part_time_joiner_gets_the_handbooks_pro_rata(store: str) -> None:
    """The handbook's example: a 10-day entitlement from 1 October is 10 x 3 / 12 = 2.5 days (here
    half of New York's 20 days)."""
    _hire(store, "E1006", date(2026, 10, 1), "New York", fte="0.5")
    with session_scope(store) as s:
        b = leave_balance(s, "E1006", date(2026, 12, 31))
    assert (b.entitlement, b.carried_over, b.carry_known, b.balance) == (
        Decimal("2.5"),
        0,
        True,
        Decimal("2.5"),
    )
    # PTO accrues 0.77 days per bi-weekly period (half for half time): 6 periods from 4 October.
    assert b.accrued == Decimal("0.77") * 6 / 2


def test_leave_answer_in_english_and_chinese(store: str) -> None:
    en = _ask(store, "wang.fang", "How many days of annual leave do I have left?")
    zh = _ask(store, "wang.fang", "我还有几天年假？")
    assert en.status == zh.status == "answered" and en.kind == zh.kind == "leave_balance"
    assert "8 days of 2026 annual leave left" in en.text and "还剩 8 天" in zh.text
    assert "service at Acme since 1 March 2020; tell HR if you worked elsewhere" in en.text
    assert "2020年3月1日" in zh.text and "其他单位" in zh.text
    assert en.cites == ["leave.en#annual-leave-balance", "leave.en#annual-leave", "leave.en#carry-over"]
    assert zh.cites == ["leave.zh#annual-leave-balance", "leave.zh#annual-leave", "leave.zh#carry-over"]
    # Asked for the entitlement rather than what is left: the entitlement rule comes first.
    assert (
        _ask(store, "wang.fang", "how many days of annual leave do I get?").cites[0]
        == "leave.en#annual-leave"
    )


# -- social insurance base ---------------------------------------------------------------------------


def _pay(url: str, employee_id: str, annual: int) -> None:
    with session_scope(url, write=True) as s:
        s.execute(
            update(Compensation).where(Compensation.employee_id == employee_id).values(base_amount=annual)
        )


def test_contribution_base_is_last_years_average_within_the_city_limits(store: str) -> None:
    with session_scope(store) as s:
        li = contribution_base(s, LI, TODAY)
    assert (li.average, li.base, li.clamped, li.pay_year) == (
        Decimal("31000.00"),
        Decimal("31000.00"),
        None,
        2025,
    )
    _pay(store, WANG, 60_000)  # CNY 5,000 a month: below Shanghai's floor
    low = _ask(store, "wang.fang", "What is my social insurance base?")
    assert low.figure.base == Decimal("7620") and low.figure.clamped == "floor"
    assert "CNY 7,620.00 a month" in low.text and "raised to the floor" in low.text
    _pay(store, WANG, 600_000)  # CNY 50,000 a month: above the cap
    high = _ask(store, "wang.fang", "我的社保基数是多少")
    assert high.figure.base == Decimal("38100") and high.figure.clamped == "cap"
    assert "每月 38,100.00 元" in high.text and "按上限确定" in high.text
    assert high.cites == [
        "social-insurance.zh#contribution-base",
        "social-insurance-shanghai.zh#base-floor-cap",
    ]


def test_a_raise_during_the_year_is_averaged_and_a_new_joiner_uses_the_first_month(store: str) -> None:
    with session_scope(store, write=True) as s:
        s.execute(
            update(Compensation).where(Compensation.employee_id == WANG).values(valid_to=date(2025, 4, 1))
        )
        s.add(
            Compensation(
                employee_id=WANG,
                base_amount=360000,
                currency="CNY",
                frequency="annual",
                valid_from=date(2025, 4, 1),
                change_reason="merit",
            )
        )
    with session_scope(store) as s:
        base = contribution_base(s, WANG, TODAY)
        # From 1 July 2027 on the 2026 average applies; the handbook has no limits for it yet.
        with pytest.raises(ValueError, match="no contribution base limits for Shanghai"):
            contribution_base(s, WANG, date(2027, 7, 1))
    assert base.average == Decimal("28750.00")  # (3 x 25,000 + 9 x 30,000) / 12
    # Joined on 1 July 2025: the 2025 average is over the 6 months worked, not 12.
    _hire(store, "E1007", date(2025, 7, 1), "Beijing", annual=240_000)
    # Joined on 15 February 2026: the first full month (March) is the base.
    _hire(store, "E1008", date(2026, 2, 15), "Shenzhen", annual=120_000)
    with session_scope(store) as s:
        mid_year, new = contribution_base(s, "E1007", TODAY), contribution_base(s, "E1008", TODAY)
    assert (mid_year.method, mid_year.months, mid_year.average) == ("average", 6, Decimal("20000.00"))
    assert (new.method, new.average, new.base, new.doc_id) == (
        "first_month",
        Decimal("10000.00"),
        Decimal("10000.00"),
        "social-insurance-shenzhen",
    )


def test_the_city_limits_are_the_handbooks() -> None:
    """social_insurance.yaml against each city document's #base-floor-cap table, in both languages."""
    for limit in yaml.safe_load(LIMITS.read_text(encoding="utf-8"))["limits"]:
        for language, period, si_row, hf_row in (
            ("en", "from 1 July 2026 to 30 June 2027", "Social insurance base", "Housing fund base"),
            ("zh", "2026年7月1日至2027年6月30日", "社保缴费基数", "住房公积金缴存基数"),
        ):
            text = (HANDBOOK / f"{limit['doc_id']}.{language}.md").read_text(encoding="utf-8")
            section = re.sub(r"\s+", " ", text.split("{#base-floor-cap}")[1].split("\n## ")[0])
            assert period in section and limit["valid_from"] == date(2026, 7, 1)
            assert limit["valid_to"] == date(2027, 6, 30)
            for row, kind in ((si_row, "social_insurance"), (hf_row, "housing_fund")):
                numbers = re.search(rf"\| {re.escape(row)}[^|]*\| ([\d,]+) \| ([\d,]+) \|", section)
                assert numbers, f"{limit['doc_id']}.{language}: no {row} row"
                floor, cap = (int(n.replace(",", "")) for n in numbers.groups())
                assert (floor, cap) == (limit[kind]["floor"], limit[kind]["cap"]), (
                    limit["city"],
                    language,
                    kind,
                )


# -- pay dates ---------------------------------------------------------------------------------------


def test_next_pay_date_from_the_calendar_table(store: str) -> None:
    en = _ask(store, "wang.fang", "When is my next payday?")
    zh = _ask(store, "wang.fang", "我下次发工资是哪天？")
    assert "Thursday 10 December 2026, for November 2026" in en.text and "27 November 2026" in en.text
    assert "2026年12月10日（周四）" in zh.text and "2026年11月的工资" in zh.text
    assert en.cites == ["payroll-calendar.en#calendar-cn"] and zh.cites == ["payroll-calendar.zh#calendar-cn"]
    # On 28 November the cut-off (27 November) has passed.
    later = _ask(store, "wang.fang", "when is my next pay date?", on=date(2026, 11, 28))
    assert "has passed" in later.text


def test_before_the_dated_calendar_the_pay_date_follows_the_rule(store: str) -> None:
    with session_scope(store, write=True) as s:
        s.execute(update(JobAssignment).where(JobAssignment.employee_id == WANG).values(location="London"))
    answer = _ask(store, "wang.fang", "When is my next payday?")
    # London: the 25th; the table starts with 24 December 2026, so 25 November comes from the rule.
    assert answer.figure.from_rule and answer.figure.next.pay_date == date(2026, 11, 25)
    assert "Wednesday 25 November 2026" in answer.text and "public holiday" in answer.text
    assert answer.cites == ["payroll-calendar.en#pay-dates", "payroll-calendar.en#cut-off-dates"]
    # The rule agrees with the handbook's table where the table has a date that is not moved.
    assert rule_pay_date("CN", date(2027, 6, 29)).pay_date == date(2027, 7, 9)
    assert rule_pay_date("US", date(2027, 1, 16)).pay_date == date(2027, 1, 29)


# -- which questions, and whose data -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many days of annual leave do I have left?", "leave_balance"),
        ("what's my remaining leave?", "leave_balance"),
        ("my holiday balance please", "leave_balance"),
        ("我还有几天年假", "leave_balance"),
        ("我的年假", "leave_balance"),
        ("我今年年假还剩多少天？", "leave_balance"),
        ("What is my social insurance base?", "contribution_base"),
        ("我的社保基数是多少", "contribution_base"),
        ("When is my next payday?", "next_pay_date"),
        ("when do I get paid?", "next_pay_date"),
        ("我下次发工资是什么时候", "next_pay_date"),
        # Policy questions: the search answers them.
        ("How many days of annual leave do employees get?", None),
        ("How is the social insurance base calculated?", None),
        ("我的年假可以结转吗", None),
        ("我们公司年假有几天", None),
        ("How much sick leave do I have left?", None),
        ("我还有几天病假", None),
        ("When is payday?", None),
        ("Can I carry over my leave?", None),
    ],
)
def test_which_questions_are_personal(question: str, kind: str | None) -> None:
    assert personal_kind(question) == kind


EVAL = Path(__file__).parent / "eval" / "policy_questions.yaml"


@pytest.mark.parametrize(
    "case",
    [c for c in yaml.safe_load(EVAL.read_text(encoding="utf-8")) if personal_kind(c["q"])],
    ids=lambda c: c["q"],
)
def test_the_evaluation_sets_personal_questions_cite_the_expected_section_first(
    store: str, case: dict
) -> None:
    """The eval set's questions that are personal: answered from the asker's record, and the first
    section cited is the one the eval expects (so the hook does not lower its score)."""
    with session_scope(store, write=True) as s:
        s.execute(
            update(JobAssignment).where(JobAssignment.employee_id == WANG).values(location=case["location"])
        )
    answer = _ask(store, "wang.fang", case["q"], on=date(2026, 12, 1), language=case["lang"])
    assert answer.status == "answered" and answer.cites[0] == case["expect"]


def test_a_policy_question_or_another_place_is_left_to_the_search(store: str) -> None:
    assert _ask(store, "wang.fang", "How many days of annual leave do employees in China get?") is None
    assert _ask(store, "wang.fang", "How many days of annual leave do I get in Singapore?") is None
    assert _ask(store, "wang.fang", "How much leave do I have left in Shanghai?").status == "answered"


@pytest.mark.parametrize(
    "question",
    [
        "How much leave does Li Wei have left?",
        "How much annual leave does my manager have left?",
        "What is Wei's social insurance base?",
        "What is li.wei's contribution base?",
        "李伟还有几天年假",
        "E1002 的社保基数是多少",
        "她的社保基数是多少",
        "my colleague's next payday?",
    ],
)
def test_another_persons_data_never_appears(store: str, question: str) -> None:
    """Asked as Wang Fang: refused, and no statement of the answer even names Li Wei's id."""
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(f"{statement} {parameters!r}")

    engine = engine_for(store)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        answer = _ask(store, "wang.fang", question)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert answer is not None and answer.status == "refused" and answer.figure is None
    assert "only" in answer.text or "只能" in answer.text
    assert statements and not [s for s in statements if LI in s and "INSERT INTO audit_log" not in s]
    for figure in ("31,000", "31000", "Li Wei", "李伟", LI):
        assert figure not in answer.text


def test_own_answers_carry_no_one_elses_figures(store: str) -> None:
    """Li Wei's figures differ from Wang Fang's (1 day left, CNY 31,000): hers must be the ones shown."""
    with session_scope(store) as s:
        assert (leave_balance(s, LI, TODAY).balance, contribution_base(s, LI, TODAY).base) == (1, 31000)
    leave = _ask(store, "wang.fang", "How much annual leave do I have left?")
    base = _ask(store, "wang.fang", "What is my social insurance base?")
    pay = _ask(store, "wang.fang", "When is my next payday?")
    assert "have 8 days of 2026 annual leave left" in leave.text and "1 day " not in leave.text
    assert "CNY 25,000.00 a month" in base.text
    for answer in (leave, base, pay):
        assert answer.figure.employee_id == WANG
        for leak in ("31,000", "372,000", LI, "Li Wei", "李伟"):
            assert leak not in answer.text


def test_the_contribution_base_outside_china(store: str) -> None:
    with session_scope(store, write=True) as s:
        s.execute(update(JobAssignment).where(JobAssignment.employee_id == WANG).values(location="Singapore"))
    zh = _ask(store, "wang.fang", "我的社保基数是多少")
    assert zh.status == "unavailable" and "您的工作地是新加坡" in zh.text and zh.figure is None


def test_without_an_employee_record(store: str) -> None:
    answer = _ask(store, "admin", "How many days of annual leave do I have left?")
    assert answer.status == "no_record" and "no employee record" in answer.text and answer.figure is None
    assert _ask(store, "admin", "我的社保基数是多少").text.startswith("您的账号没有关联员工档案")


def test_reads_are_audited_without_the_values(store: str) -> None:
    for question in (
        "How much annual leave do I have left?",
        "我的社保基数是多少",
        "When is my next payday?",
    ):
        _ask(store, "wang.fang", question)
    _ask(store, "wang.fang", "How much leave does Li Wei have left?")
    _ask(store, "admin", "How much annual leave do I have left?")
    with session_scope(store) as s:
        reads = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "kb.personal.read").order_by(AuditEntry.id)
        ).all()
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "kb.personal.refused")).all()
    assert [(e.actor, e.entity_id, e.details["figure"]) for e in reads] == [
        ("wang.fang", WANG, "leave_balance"),
        ("wang.fang", WANG, "contribution_base"),
        ("wang.fang", WANG, "next_pay_date"),
    ]
    assert [(e.actor, e.entity_id) for e in refused] == [("wang.fang", None)]
    assert all(set(e.details) == {"figure", "as_of"} for e in reads)  # which figure and day, no value
    logged = json.dumps([e.details for e in [*reads, *refused]])
    for value in ("25000", "25,000", "2026-12-10", "Li Wei"):
        assert value not in logged


def test_the_demo_company_has_plausible_balances(tmp_path: Path) -> None:
    from tools.demo_company import SeedOptions, seed_store

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    report = seed_store(url, SeedOptions(employees=80, seed=3, as_of=TODAY, learning_per_employee=0))
    with session_scope(url) as s:
        active = s.scalars(select(Employee.id).where(Employee.status == "active")).all()
        balances = [leave_balance(s, e, TODAY) for e in active]
        usernames = s.scalars(select(User.username).where(User.employee_id.in_(active[:3]))).all()
    assert report.leave_records > len(active)  # several requests a person
    assert all(0 <= b.balance <= b.entitlement + 5 for b in balances)
    assert sum(b.taken > 0 for b in balances) > 0.8 * len(balances)
    assert sum(b.carried_over > 0 for b in balances) > 0.3 * len(balances)
    for user in usernames:  # answers for seeded people work end to end
        assert _ask(url, user, "How much annual leave do I have left?").status == "answered"
