"""Questions about the asker's own figures, answered from their own HR record with the policy the
figure rests on: their remaining annual leave, their social insurance contribution base, their
next pay date. Nothing else: every other question is left to the policy search (None).

Whose record is read is decided here, in code, from the signed-in principal only: a question that
names or points at someone else ("how much leave does Wang Fang have left?", "她的社保基数") is
refused without reading anyone's record, and a question never selects an employee id. Every read
leaves an audit entry (`kb.personal.read`) naming the figure, never its value.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.hr.leave import LeaveBalance, LeaveRuleError, leave_balance
from tools.hr.pay_dates import NextPayDate, PayDateError, next_pay_date
from tools.hr.social_insurance import ContributionBase, SocialInsuranceError, contribution_base
from tools.knowledge.models import Language
from tools.knowledge.places import mentions
from tools.market.config import load_config
from tools.store import audit, queries
from tools.store.identity import Principal
from tools.store.models import Employee, JobAssignment, KbDocument, User

Kind = Literal["leave_balance", "contribution_base", "next_pay_date"]
Status = Literal["answered", "refused", "no_record", "unavailable"]
AUDIT_ACTION = "kb.personal.read"

# What each kind of question looks like (matched on the lower-cased question). Deliberately narrow:
# a miss goes to the policy search, which quotes the rule; a false hit would answer the wrong thing.
_TOPICS: dict[Kind, tuple[re.Pattern[str], ...]] = {
    "leave_balance": tuple(
        re.compile(p)
        for p in (
            r"\b(annual leave|leave|holidays?|vacation|pto|days? off)\b.{0,40}\b(left|remaining|balance)\b",
            r"\bhow (many|much)\b.{0,40}\b(annual leave|leave|holidays?|vacation|pto|days? off)\b.{0,30}"
            r"\b(do|did|can|have) i (have|get|got|take|accrued|earned)\b",
            r"\b(annual leave|leave|holiday|vacation|pto)( days?)? (balance|entitlement|allowance)\b",
            r"\b(remaining|unused) (annual leave|leave|holidays?|vacation|pto|days off)\b",
            r"(还有|还剩|剩下|剩余|剩|几天|多少天|多少).{0,6}(年假|年休假|带薪年假)",
            r"(年假|年休假)(还有|还剩|剩下|剩余|剩|余额|额度|有几天|有多少|是几天|是多少|多少天|几天)",
            r"我的(年假|年休假)\s*[?？]?$",
        )
    ),
    "contribution_base": tuple(
        re.compile(p)
        for p in (
            r"\b(social insurance|social security|contribution|housing fund)( contribution)? base\b",
            r"(社保|社会保险|五险一金|公积金|住房公积金)(缴费|缴存)?基数",
        )
    ),
    "next_pay_date": tuple(
        re.compile(p)
        for p in (
            r"\bnext (pay ?day|pay date|pay ?check|pay ?cheque|salary|pay)\b",
            r"\bwhen (do|will|shall) i (get paid|be paid|receive my (salary|pay))\b",
            r"\bwhen is my (next )?(pay ?day|pay date|salary)\b",
            r"下(次|一次|个月|回)?.{0,4}发(工资|薪)",
            r"(什么时候|哪天|几号).{0,4}发(工资|薪)",
            r"发薪日",
        )
    ),
}
# Other kinds of leave have their own rules: the policy search answers those.
_OTHER_LEAVE = re.compile(
    r"\b(sick|marriage|maternity|paternity|parental|bereavement|unpaid|childcare|compassionate)\b"
    r"|病假|婚假|产假|陪产|丧假|事假|育儿假|调休"
)
_REMAINING = re.compile(r"\b(left|remaining|remain|balance|unused)\b|剩|余额|还有")
_FIRST_PERSON = re.compile(r"\b(i|me|my|mine|i'm|i've|im)\b|我(?!们)")
# Someone else: a third person, a colleague, "does X have"; names and ids are checked in the store.
_OTHER_PERSON = re.compile(
    r"\b(his|her|hers|he|she|him|their|theirs|colleague'?s?|coworker'?s?|co-worker'?s?)\b"
    r"|\b(does|has)\s+(?!i\b|you\b)[\w.]+(\s+[\w.]+)?\s+(have|got|get|gets|receive|earn|left)\b"
    r"|他|她|别人|其他人|同事|下属|老公|老婆|妻子|丈夫"
)
_POSSESSIVE = re.compile(r"\b([A-Z][a-z]+)'s\b")
_NOT_A_NAME = {"What", "That", "It", "There", "Who", "How", "Where", "When", "Here", "Let", "Acme", "Today"}
_EMPLOYEE_ID = re.compile(r"\bE\d{4,}\b", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LOWER_US = re.compile(r"\bus\b")  # "tell us" is not the United States


class PersonalAnswer(BaseModel):
    kind: Kind
    status: Status
    language: Language
    on: date
    text: str
    cites: list[str] = []  # doc_id#anchor of the policy sections the figure rests on
    figure: LeaveBalance | ContributionBase | NextPayDate | None = None  # the asker's own


def asks_for_a_figure(question: str) -> bool:
    """Whether a question is about one of the three figures at all (anyone's): only such a question
    needs the reader of personal data, and its write transaction for the audit entry."""
    return _topic(question) is not None


def personal_kind(question: str) -> Kind | None:
    """Which of the three figures a question asks for about the asker ("my", "I", 我), if any."""
    kind = _topic(question)
    return kind if kind is not None and _FIRST_PERSON.search(question.lower()) else None


def personal_answer(
    session: Session, who: Principal, question: str, language: Language, on: date
) -> PersonalAnswer | None:
    """The asker's own figure with the policy it rests on, a refusal when the question is about
    someone else, or None when it is not one of the three personal questions. The session must be
    writable: the read is audited."""
    kind = _topic(question)
    if kind is None:
        return None
    if _about_someone_else(session, who, question):
        audit.append(
            session,
            audit.AuditEvent(
                actor=who.username,
                action="kb.personal.refused",
                entity_type="kb_question",
                details={"figure": kind, "reason": "about another person"},
            ),
        )
        return _answer(kind, "refused", language, on, _REFUSED[language], [])
    if not _FIRST_PERSON.search(question.lower()):
        return None  # "how much leave is left": general, the policy search answers it
    if _elsewhere(session, who, question, on):
        return None  # "how much leave do I get in Singapore": a policy question about another place
    if who.employee_id is None:
        return _answer(
            kind, "no_record", language, on, _NO_RECORD[kind][language], _general_cites(kind, language)
        )
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action=AUDIT_ACTION,
            entity_type="employee",
            entity_id=who.employee_id,
            details={"figure": kind, "as_of": on.isoformat()},
        ),
    )
    try:
        if kind == "leave_balance":
            balance = leave_balance(session, who.employee_id, on)
            return _answer(
                kind,
                "answered",
                language,
                on,
                _leave_text(balance, language),
                _leave_cites(session, balance, language, question),
                balance,
            )
        if kind == "contribution_base":
            job = queries.current(session, JobAssignment, who.employee_id, on)
            if job is not None and load_config().country(job.location) != "CN":
                text = _NOT_IN_CHINA[language].format(place=_place(job.location, language))
                cites = _cites(session, [f"social-insurance.{language}#contribution-base"])
                return _answer(kind, "unavailable", language, on, text, cites)
            base = contribution_base(session, who.employee_id, on)
            return _answer(
                kind,
                "answered",
                language,
                on,
                _base_text(base, language),
                _cites(
                    session,
                    [
                        f"social-insurance.{language}#contribution-base",
                        f"{base.doc_id}.{language}#base-floor-cap",
                    ],
                ),
                base,
            )
        pay = next_pay_date(session, who.employee_id, on)
        anchors = ["pay-dates", "cut-off-dates"] if pay.from_rule else [pay.anchor]
        refs = [f"payroll-calendar.{language}#{a}" for a in anchors]
        return _answer(kind, "answered", language, on, _pay_text(pay, language), _cites(session, refs), pay)
    except (LeaveRuleError, SocialInsuranceError, PayDateError) as e:
        lead = "无法给出这个数字：" if language == "zh" else "I cannot give this figure: "
        return _answer(kind, "unavailable", language, on, lead + str(e), _general_cites(kind, language))


def _topic(question: str) -> Kind | None:
    """The figure asked for, whoever it is about (so a question about someone else can be refused)."""
    text = question.strip().lower()
    for kind, patterns in _TOPICS.items():
        if any(p.search(text) for p in patterns):
            if kind == "leave_balance" and _OTHER_LEAVE.search(text):
                return None
            return kind
    return None


def _about_someone_else(session: Session, who: Principal, question: str) -> bool:
    text = question.lower()
    if _OTHER_PERSON.search(text):
        return True
    if any(m.group(1) not in _NOT_A_NAME for m in _POSSESSIVE.finditer(question)):
        return True
    own = (who.employee_id or "").lower()
    if any(m.group().lower() != own for m in _EMPLOYEE_ID.finditer(question)):
        return True
    handles = set(re.findall(r"[a-z][a-z0-9]*(?:\.[a-z0-9]+)+", text))
    if handles and session.scalar(
        select(User.username).where(User.username.in_(handles), User.username != who.username).limit(1)
    ):
        return True
    # Whether a colleague's name appears (nothing about them is read): Latin names as two words in
    # either order or run together, Chinese names anywhere (no spaces to look for).
    tokens = re.findall(r"[a-z]+", text)
    pairs = {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)} | set(tokens)
    rows = session.execute(
        select(Employee.id, Employee.given_name, Employee.family_name, Employee.display_name)
    )
    for eid, given, family, display in rows:
        if eid == who.employee_id:
            continue
        if display and _CJK.search(display) and len(display) >= 2 and display in question:
            return True
        g, f = given.lower(), family.lower()
        if g and f and {f"{g} {f}", f"{f} {g}", f"{f}{g}"} & pairs:
            return True
    return False


def _elsewhere(session: Session, who: Principal, question: str, on: date) -> bool:
    """The question names a place other than the asker's own work location and country."""
    named = mentions(_LOWER_US.sub(" ", question))
    if not named or who.employee_id is None:
        return False
    job = queries.current(session, JobAssignment, who.employee_id, on)
    if job is None:
        return False
    country = load_config().country(job.location)
    return bool(named.locations - {job.location} or named.countries - {country})


def _answer(
    kind: Kind,
    status: Status,
    language: Language,
    on: date,
    text: str,
    cites: list[str],
    figure: LeaveBalance | ContributionBase | NextPayDate | None = None,
) -> PersonalAnswer:
    return PersonalAnswer(
        kind=kind, status=status, language=language, on=on, text=text, cites=cites, figure=figure
    )


def _cites(session: Session, refs: list[str]) -> list[str]:
    """Each ref in the asked language when the knowledge base holds that version, else in English
    (some documents, such as the US benefits, exist in English only)."""
    imported = set(session.scalars(select(KbDocument.doc_id).distinct()))
    out = []
    for ref in refs:
        doc, anchor = ref.split("#", 1)
        if doc not in imported and doc.endswith(".zh"):
            doc = doc[:-3] + ".en"
        out.append(f"{doc}#{anchor}")
    return out


def _general_cites(kind: Kind, language: Language) -> list[str]:
    return {
        "leave_balance": [f"leave.{language}#annual-leave-balance"],
        "contribution_base": [f"social-insurance.{language}#contribution-base"],
        "next_pay_date": [f"payroll-calendar.{language}#pay-dates"],
    }[kind]


def _leave_cites(session: Session, b: LeaveBalance, language: Language, question: str) -> list[str]:
    """The sections the figure rests on, the one the question is most about first: the balance
    rule for "how many are left", the entitlement rule for "how many do I get", PTO accrual in New York."""
    rule = f"leave.{language}#{'annual-leave' if b.country == 'CN' else 'annual-leave-international'}"
    balance = f"leave.{language}#annual-leave-balance"
    refs = [balance, rule] if _REMAINING.search(question.lower()) else [rule, balance]
    refs.append(f"leave.{language}#carry-over")
    if b.country == "US":
        pto = "us-benefits.en#pto"
        refs = [pto, *refs] if re.search(r"accru|pto", question.lower()) else [*refs, pto]
    return _cites(session, refs)


# -- wording ------------------------------------------------------------------------------------

_REFUSED: dict[Language, str] = {
    "en": "I can only look up your own leave balance, contribution base or pay date, never another "
    "person's. For someone else's figures, they can ask me themselves, or HR Operations can help "
    "through Acme People > Help > HR request.",
    "zh": "我只能查询您本人的年假余额、社保基数或发薪日，不能查询其他人的信息。如需了解他人的情况，"
    "请本人来问我，或通过 Acme People > 帮助 > HR申请 联系人事运营部。",
}

_NO_RECORD: dict[Kind, dict[Language, str]] = {
    "leave_balance": {
        "en": "Your account has no employee record, so there is no leave balance to look up. "
        "The rules for working out a balance are in the leave policy.",
        "zh": "您的账号没有关联员工档案，因此没有可查询的年假余额。年假余额的计算规则见《假期制度》。",
    },
    "contribution_base": {
        "en": "Your account has no employee record, so there is no contribution base to look up. "
        "How the base is set is in the social insurance policy.",
        "zh": "您的账号没有关联员工档案，因此没有可查询的社保基数。基数的确定规则见《社会保险与住房公积金（中国）》。",
    },
    "next_pay_date": {
        "en": "Your account has no employee record, so there is no pay date to look up. "
        "The pay dates for each country are in the payroll calendar.",
        "zh": "您的账号没有关联员工档案，因此没有可查询的发薪日。各地发薪日见《发薪日与薪资日历》。",
    },
}

_NOT_IN_CHINA: dict[Language, str] = {
    "en": "The social insurance contribution base (社保基数) applies to employees working in China; your work "
    "location is {place}, so you have none. Your pension and other contributions are on your payslip.",
    "zh": "社保缴费基数只适用于在中国工作的员工；您的工作地是{place}，没有社保基数。您的养老金等缴费见工资条。",
}

_WEEKDAY_ZH = "一二三四五六日"


def _n(x: Decimal) -> str:
    """8.5, 9 (not 9.0), -1.5."""
    text = f"{x.normalize():f}"
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _money(x: Decimal) -> str:
    return f"{x:,.2f}"


def _limit(x: Decimal) -> str:
    """A city limit as the handbook writes it: 7,620."""
    return f"{x:,.0f}" if x == x.to_integral_value() else _money(x)


def _place(location: str, language: Language) -> str:
    """上海 for Shanghai in a Chinese answer (the place's Chinese alias in market.yaml)."""
    place = load_config().places.get(location)
    if language == "zh" and place is not None:
        return next((a for a in place.aliases if _CJK.search(a)), location)
    return location


def _day(d: date, language: Language) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if language == "zh" else f"{d.day} {d:%B %Y}"


def _days(x: Decimal) -> str:
    return f"{_n(x)} day" + ("" if x == 1 else "s")


def _leave_text(b: LeaveBalance, language: Language) -> str:
    joined = b.service_start.year == b.year
    if language == "zh":
        head = f"截至{_day(b.on, 'zh')}，您（{_place(b.location, 'zh')}）{b.year}年的年假"
        lines = [
            f"{head}还剩 {_n(b.balance)} 天。"
            if b.balance >= 0
            else f"{head}已休及已预约的天数超出额度 {_n(-b.balance)} 天（经理批准后最多可预支3天）。"
        ]
        part = f"（法定{b.statutory_days}天 + 公司福利{b.company_days}天）" if b.country == "CN" else ""
        lines.append(
            f"- {b.year}年额度：{_n(b.entitlement)} 天"
            + (
                f"（{_day(b.service_start, 'zh')}入职，按比例折算）"
                if joined
                else f"，目前每年 {_n(b.rate)} 天{part}"
            )
            + f"；截至今天已累积 {_n(b.accrued)} 天。"
        )
        lines.append(_carry_zh(b))
        lines.append(f"- 今年已休 {_n(b.taken)} 天；已批准尚未休 {_n(b.booked)} 天。")
        if b.bank_holidays:
            lines.append(f"- 另有英格兰 {b.bank_holidays} 天银行假日，不计入上述余额。")
        if b.country == "CN":
            lines.append(
                f"法定年假按您自{_day(b.service_start, 'zh')}起在公司的工作年限计算；如您此前在其他单位工作过，"
                "请通过 Acme People > 帮助 > HR申请 提交社保缴费记录，人事运营部会更新您的累计工作年限。"
            )
        return "\n".join(lines)
    what = "PTO" if b.country == "US" else "annual leave"
    if b.balance >= 0:
        lines = [f"On {_day(b.on, 'en')} you ({b.location}) have {_days(b.balance)} of {b.year} {what} left."]
    else:
        lines = [
            f"On {_day(b.on, 'en')} you ({b.location}) have taken or booked {_days(-b.balance)} more {b.year} "
            f"{what} than your entitlement (borrowed ahead: up to 3 days with your manager's approval)."
        ]
    part = f": statutory {b.statutory_days} + company {b.company_days}" if b.country == "CN" else ""
    lines.append(
        f"- {b.year} entitlement: {_days(b.entitlement)}"
        + (
            f", pro rata from your start on {_day(b.service_start, 'en')}"
            if joined
            else f" (now {_n(b.rate)} a year{part})"
        )
        + f"; {_days(b.accrued)} accrued so far."
    )
    lines.append(_carry_en(b))
    lines.append(
        f"- Taken this year: {_days(b.taken)}; booked and approved, not yet taken: {_days(b.booked)}."
    )
    if b.bank_holidays:
        lines.append(f"- On top of this you get the {b.bank_holidays} UK bank holidays.")
    if b.country == "CN":
        lines.append(
            f"The statutory days are based on your service at Acme since {_day(b.service_start, 'en')}; tell HR "
            "if you worked elsewhere before (Acme People > Help > HR request, with your social insurance record)."
        )
    return "\n".join(lines)


def _carry_en(b: LeaveBalance) -> str:
    last = b.year - 1
    if not b.carry_known:
        return f"- Carried over from {last}: none counted, as no {last} leave is on record (HR can correct this)."
    if b.carried_over == 0:
        return f"- Carried over from {last}: none."
    if b.on <= b.carry_expires_on:
        return f"- Carried over from {last}: {_days(b.carried_over)}, used first, expiring on {_day(b.carry_expires_on, 'en')}."
    return (
        f"- Carried over from {last}: {_days(b.carried_over)}, expired on {_day(b.carry_expires_on, 'en')}; "
        f"{_days(b.carry_counted)} of it used before then."
    )


def _carry_zh(b: LeaveBalance) -> str:
    last = b.year - 1
    if not b.carry_known:
        return f"- {last}年结转：系统中没有您{last}年的休假记录，未计入结转天数（如有出入，HR可更正）。"
    if b.carried_over == 0:
        return f"- {last}年结转：无。"
    if b.on <= b.carry_expires_on:
        return f"- {last}年结转：{_n(b.carried_over)} 天，优先使用，{_day(b.carry_expires_on, 'zh')}过期。"
    return (
        f"- {last}年结转：{_n(b.carried_over)} 天，已于{_day(b.carry_expires_on, 'zh')}过期，"
        f"过期前已使用 {_n(b.carry_counted)} 天。"
    )


def _base_text(c: ContributionBase, language: Language) -> str:
    period = (_day(c.period_from, language), _day(c.period_to, language))
    if language == "zh":
        source = (
            f"即您{c.pay_year}年的月平均工资 {_money(c.average)} 元（按 {_n(c.months)} 个月计算）"
            if c.method == "average"
            else f"即您入职后首个完整月的工资 {_money(c.average)} 元"
        )
        limit = {"floor": "，低于下限，按下限确定", "cap": "，高于上限，按上限确定", None: ""}[c.clamped]
        return "\n".join(
            [
                f"您（{_place(c.city, 'zh')}）{period[0]}至{period[1]}的社保缴费基数为每月 {_money(c.base)} 元。",
                f"{source}；{_place(c.city, 'zh')}社保基数下限 {_limit(c.floor)} 元、上限 {_limit(c.cap)} 元{limit}。",
                f"住房公积金缴存基数：{_money(c.housing_base)} 元（下限 {_limit(c.housing_floor)} 元，上限 {_limit(c.housing_cap)} 元）。",
                "此处仅按系统中的基本工资计算；津贴、加班费和当年发放的奖金也计入基数，"
                "实际申报数以 Acme People > 薪酬 > 社保 为准。",
            ]
        )
    source = (
        f"It is your average monthly salary in {c.pay_year}, CNY {_money(c.average)} over {_n(c.months)} months"
        if c.method == "average"
        else f"It is your first full month's salary, CNY {_money(c.average)}"
    )
    limit = {"floor": ", raised to the floor", "cap": ", lowered to the cap", None: ""}[c.clamped]
    return "\n".join(
        [
            f"Your social insurance contribution base ({c.city}) from {period[0]} to {period[1]} is "
            f"CNY {_money(c.base)} a month.",
            f"{source}; {c.city}'s limits are CNY {_limit(c.floor)} to {_limit(c.cap)}{limit}.",
            f"Housing fund base: CNY {_money(c.housing_base)} (limits {_limit(c.housing_floor)} to {_limit(c.housing_cap)}).",
            "Only base salary is on record here; allowances, overtime and bonus paid in that year count too, so "
            "the declared figure in Acme People > Pay > Social insurance is the one that applies.",
        ]
    )


def _pay_text(p: NextPayDate, language: Language) -> str:
    nxt = p.next
    if language == "zh":
        lines = [
            f"您（{_place(p.location, 'zh')}）的下一个发薪日是{_day(nxt.pay_date, 'zh')}（周{_WEEKDAY_ZH[nxt.pay_date.weekday()]}）。"
        ]
        if nxt.covers:
            lines.append(f"发放的是{_covers_zh(nxt.covers)}的工资。")
        if p.from_rule:
            starts = f"手册的日历表从{_day(p.calendar_starts, 'zh')}开始，" if p.calendar_starts else ""
            lines.append(f"（{starts}此日期按发薪规则推算，遇公众假期会提前。）")
        if nxt.cut_off:
            lines.append(
                f"本期变动截止日为{_day(nxt.cut_off, 'zh')}，已过，之后批准的变动计入下一个发薪日。"
                if nxt.cut_off < p.on
                else f"变动须在{_day(nxt.cut_off, 'zh')}当地时间17:00前完成审批，才能计入本期。"
            )
        return "".join(lines)
    lines = [f"Your next pay date ({p.location}) is {nxt.pay_date:%A} {_day(nxt.pay_date, 'en')}"]
    if nxt.covers:
        lines[0] += f", for {'the pay period ' if p.country == 'US' else ''}{nxt.covers}"
    lines[0] += "."
    if p.from_rule:
        starts = (
            f"The dated calendar starts on {_day(p.calendar_starts, 'en')}, so t"
            if p.calendar_starts
            else "T"
        )
        lines.append(f"({starts}his date follows the pay-date rule; a public holiday would move it earlier.)")
    if nxt.cut_off:
        lines.append(
            f"Its cut-off for changes ({_day(nxt.cut_off, 'en')}) has passed: changes approved now reach the pay date after."
            if nxt.cut_off < p.on
            else f"Changes must be approved by 17:00 local time on {_day(nxt.cut_off, 'en')} to be included."
        )
    return " ".join(lines)


_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
}


def _covers_zh(covers: str) -> str:
    """ "November 2026" -> 2026年11月; "2026-11-15 to 2026-11-28" -> 2026年11月15日至2026年11月28日."""
    if (m := re.fullmatch(r"(\w+) (\d{4})", covers.strip())) and m.group(1) in _MONTHS:
        return f"{m.group(2)}年{_MONTHS[m.group(1)]}月"
    days = re.findall(r"\d{4}-\d{2}-\d{2}", covers)
    if len(days) == 2:
        return "至".join(_day(date.fromisoformat(d), "zh") for d in days)
    return covers
