"""The chat intake: one chat message, in English or Simplified Chinese, read into a typed `Intake`:
what the person wants (a request, a data question, a policy question, a decision, a status look-up,
help), the fields they gave, what is still missing, what is wrong. Offline and deterministic: this
is the default model of the assistant, and the cross-check beside an LLM when one is configured.

Like the analytics parser it never guesses. Every part of a message must be placed: a word it
cannot place lowers the confidence, and below the threshold the intent is `unknown`, with the
nearest messages it does understand. Impossible or vague dates are problems, not guesses; relative
dates ("next Monday", 下周一, "Dec 1") are resolved against the given `today`.

It reads, it does not decide: employee references stay as typed ("Wang Fang", 王芳, E1003); the
assistant resolves them with the HR store and checks the user's roles. One thing it does decide: a
message that tries to instruct the assistant ("ignore your rules", "you are now admin", 忽略之前的指令,
"drop table") or asks for a change for everyone is refused before anything else is read, so
injected text never becomes a request.

Field names are those of the request models (RecordChange details, NewHire, MarketQuestion), with
`employee` (as typed), `manager` (as typed), `new_title` and `reason_code`; values are strings as
read (dates ISO, amounts plain decimals, currencies ISO 4217).
"""

from __future__ import annotations

import contextlib
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.analytics.parser import parse as parse_question
from tools.approvals.rules import ChangeType
from tools.hr.changes import CURRENCIES, TerminationReason
from tools.hr.countries import ISO_ALPHA2, POSTCODES
from tools.hr.dated import MAX_BACKDATE, MAX_POSTDATE
from tools.knowledge.triage import triage
from tools.store.models import Employee, JobAssignment, OrgUnit, PayFrequency

THRESHOLD = 0.75


class Intent(StrEnum):
    REQUEST = "request"
    DATA_QUESTION = "data_question"
    POLICY_QUESTION = "policy_question"
    DECISION = "decision"
    STATUS = "status"
    HELP = "help"
    REFUSE = "refuse"
    UNKNOWN = "unknown"


# What a chat message can ask for: the approval rules' change types, but the onboarding plan (the
# onboarding workflow drafts that one itself).
RequestKind = StrEnum(
    "RequestKind",
    {c.name: c.value for c in ChangeType if c is not ChangeType.ONBOARDING_PLAN},
    module=__name__,
)


# Per kind: the fields a request needs, in the order the assistant asks for them, then the optional ones.
REQUIRED: dict[RequestKind, tuple[str, ...]] = {
    RequestKind.ADDRESS_CHANGE: ("employee", "line1", "city", "country", "effective_on"),
    RequestKind.JOB_TITLE: ("employee", "new_title", "effective_on"),
    RequestKind.TRANSFER: ("employee", "org_unit", "effective_on"),
    RequestKind.MANAGER_CHANGE: ("employee", "manager", "effective_on"),
    RequestKind.SALARY_CHANGE: ("employee", "amount", "currency", "effective_on"),
    RequestKind.TERMINATION: ("employee", "effective_on", "reason_code"),
    RequestKind.ONBOARDING: (
        "given_name",
        "family_name",
        "title",
        "org_unit",
        "manager",
        "location",
        "start_date",
        "amount",
        "currency",
    ),
    RequestKind.COMP_RESEARCH: ("title",),
}
OPTIONAL: dict[RequestKind, tuple[str, ...]] = {
    RequestKind.ADDRESS_CHANGE: ("line2", "region", "postcode"),
    RequestKind.JOB_TITLE: (),
    RequestKind.TRANSFER: ("manager", "location"),
    RequestKind.MANAGER_CHANGE: (),
    RequestKind.SALARY_CHANGE: ("frequency", "increase_percent"),
    RequestKind.TERMINATION: ("reason_text",),
    RequestKind.ONBOARDING: ("local_name", "level", "frequency"),
    RequestKind.COMP_RESEARCH: ("level", "location", "currency"),
}


class DecisionRead(BaseModel):
    request_id: str | None = Field(None, pattern=r"^REQ-\d+$", description="e.g. REQ-12")
    verdict: Literal["approve", "reject"] | None = None
    reason: str | None = Field(None, description="As typed; a rejection needs one")


class StatusRead(BaseModel):
    request_id: str | None = Field(None, pattern=r"^REQ-\d+$")
    employee: str | None = Field(None, description="As typed: a name or an employee id")
    kind: RequestKind | None = None
    mine: bool = Field(False, description="The asker's own requests or approvals ('my approvals')")


class Intake(BaseModel):
    """One chat message, read. Nothing here has been checked against the HR store or roles."""

    language: Literal["en", "zh"]
    intent: Intent
    kind: RequestKind | None = Field(None, description="For requests: which one")
    fields: dict[str, str] = Field(
        {},
        description="Field -> value as read: employee/manager as typed, dates ISO (YYYY-MM-DD), amounts as "
        "plain decimals, currencies ISO 4217, reason_code one of the termination reasons",
    )
    missing: list[str] = Field([], description="Required fields not given, in the order to ask for them")
    problems: list[str] = Field([], description="What is wrong with what was given (impossible dates, ...)")
    decision: DecisionRead | None = None
    status: StatusRead | None = None
    question: str | None = Field(
        None,
        description="A data question (for the analytics parser) or a policy question (for the policy "
        "assistant), as typed",
    )
    refusal: str | None = Field(None, description="Why the message is refused")
    clarify: str | None = Field(None, description="What to ask back when the message is ambiguous")
    confidence: float = Field(0.0, ge=0, le=1)
    understood: list[str] = []
    not_understood: list[str] = []
    nearest: list[str] = Field([], description="Messages this reader understands that read most alike")


class KnownWords(BaseModel):
    """Words the HR data knows, so the parser can place them: people's names (as written), org units
    (alias -> code: the code itself, its English and Chinese names) and work locations."""

    people: list[str] = []
    org_units: dict[str, str] = {}
    locations: list[str] = []


def known_words(session: Session) -> KnownWords:
    """What the HR store knows: names, org units and locations. Names are only recognised, never
    resolved here (the assistant does that)."""
    people: set[str] = set()
    for given, family, display in session.execute(
        select(Employee.given_name, Employee.family_name, Employee.display_name)
    ):
        people |= {display, f"{given} {family}", f"{family} {given}"}
    units: dict[str, str] = {}
    for code, name, name_zh in session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.name_zh)):
        units |= {code: code, name: code} | ({name_zh: code} if name_zh else {})
    locations = {loc for loc in session.scalars(select(JobAssignment.location).distinct()) if loc}
    return KnownWords(people=sorted(people), org_units=units, locations=sorted(locations))


# -- vocabulary -----------------------------------------------------------------------------------

GAP = "\ue000"  # stands for text already read; never a word, a space or part of a slot
EDGE = "A-Za-z0-9_"


def _en(pattern: str) -> str:
    """Latin words stand alone (ASCII edges, so `REQ-12批准` still finds REQ-12)."""
    return rf"(?<![{EDGE}])(?:{pattern})(?![{EDGE}])"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _words(text: str) -> list[str]:
    return text.split()


HANZI = "\u4e00-\u9fff"
CITIES = {  # English name -> ISO country
    "Shanghai": "CN",
    "Beijing": "CN",
    "Shenzhen": "CN",
    "Guangzhou": "CN",
    "Hangzhou": "CN",
    "Chengdu": "CN",
    "Nanjing": "CN",
    "Suzhou": "CN",
    "Wuhan": "CN",
    "Xi'an": "CN",
    "Tianjin": "CN",
    "Chongqing": "CN",
    "Hong Kong": "HK",
    "Singapore": "SG",
    "London": "GB",
    "Manchester": "GB",
    "New York": "US",
    "San Francisco": "US",
    "Seattle": "US",
    "Tokyo": "JP",
    "Sydney": "AU",
    "Berlin": "DE",
    "Paris": "FR",
    "Toronto": "CA",
    "Bangalore": "IN",
}
ZH_CITIES = {
    "上海": "Shanghai",
    "北京": "Beijing",
    "深圳": "Shenzhen",
    "广州": "Guangzhou",
    "杭州": "Hangzhou",
    "成都": "Chengdu",
    "南京": "Nanjing",
    "苏州": "Suzhou",
    "武汉": "Wuhan",
    "西安": "Xi'an",
    "天津": "Tianjin",
    "重庆": "Chongqing",
    "香港": "Hong Kong",
    "新加坡": "Singapore",
    "伦敦": "London",
    "纽约": "New York",
    "旧金山": "San Francisco",
    "东京": "Tokyo",
    "悉尼": "Sydney",
    "柏林": "Berlin",
    "巴黎": "Paris",
    "多伦多": "Toronto",
}
COUNTRIES = {
    "china": "CN",
    "prc": "CN",
    "mainland china": "CN",
    "中国": "CN",
    "singapore": "SG",
    "united kingdom": "GB",
    "uk": "GB",
    "england": "GB",
    "great britain": "GB",
    "英国": "GB",
    "united states": "US",
    "usa": "US",
    "u.s.": "US",
    "美国": "US",
    "hong kong": "HK",
    "japan": "JP",
    "日本": "JP",
    "germany": "DE",
    "france": "FR",
    "india": "IN",
    "canada": "CA",
    "australia": "AU",
}
ZH_CURRENCIES = {
    "人民币": "CNY",
    "元": "CNY",
    "块钱": "CNY",
    "块": "CNY",
    "美元": "USD",
    "美金": "USD",
    "新加坡元": "SGD",
    "新加坡币": "SGD",
    "新币": "SGD",
    "新元": "SGD",
    "港币": "HKD",
    "港元": "HKD",
    "欧元": "EUR",
    "英镑": "GBP",
    "日元": "JPY",
    "澳元": "AUD",
    "yuan": "CNY",
    "rmb": "CNY",
    "us$": "USD",
    "s$": "SGD",
    "sg$": "SGD",
    "hk$": "HKD",
    "¥": "CNY",
    "€": "EUR",
    "£": "GBP",
}
# Said, but not a currency anyone is paid in here (or not one currency: "$" is many).
NOT_CURRENCIES = ["bitcoins", "bitcoin", "比特币", "btc", "eth", "dogecoin", "积分"]
AMBIGUOUS_CURRENCIES = ["dollars", "dollar", "bucks", "$"]

SURNAMES_ZH = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施文"
    "牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛"
    "曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席"
    "卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES_ZH = _words("欧阳 司马 上官 诸葛 东方 皇甫 慕容 令狐 公孙 夏侯 尉迟 长孙 宇文 司徒 端木")
# Characters that end a name in running text (the next word starts): "王芳调到..." is 王芳.
NAME_BREAK = set(
    "的从自于在向把被将和与及并也都已要会起调转升晋离入加涨降改搬住汇下本这今后去到为是因由办请给让"
)
PINYIN_SURNAMES = set(
    _words(
        """wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
        song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng su wei lu ding
        ren shen yao cui zhong tan fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu yin xue yan duan
        lei hou long tao gu mao hao gong shao wan qian dai mo kong xiang kang ouyang situ zhuge"""
    )
)
MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
MONTH_RX = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ZH_WEEKDAY = {c: i for i, cs in enumerate(["一1", "二2", "三3", "四4", "五5", "六6", "日天7"]) for c in cs}
NOT_NAMES = {
    w.lower()
    for w in WEEKDAYS
    + list(MONTHS)
    + list(CITIES)
    + [c.title() for c in COUNTRIES]
    + _words(
        """I Please Pls Hi Hello Hey Thanks The A An And Can Could Would Should Will This That From To For With
        On In At Of Effective Starting Start Today Tomorrow Next Reason Because Manager Title Address Salary Pay
        Approve Reject Ok Okay Yes No Also Team Department New Senior Junior Lead Principal Staff Chief Head
        Engineer Analyst Data Scientist Product Sales Marketing Finance Operations Legal HR Ops Road Street
        Avenue Lane China CN SG GB US UK USA REQ Level Onboard Promote Transfer Move Give Set Change Update
        Hire Terminate Market Benchmark Help Status Where What How Who Which Is Are Has Have My Our Their His
        Her It Now Last Day Dear Kindly Just Then Mr Mrs Ms Dr"""
    )
}
JOB_NOUNS_EN = (
    "engineer|analyst|manager|designer|scientist|specialist|consultant|developer|director|lead|architect|"
    "associate|representative|officer|coordinator|administrator|accountant|intern|recruiter|partner|advisor|"
    "adviser|executive|assistant|programmer|tester|researcher|writer|editor|marketer|strategist|planner|"
    "technician|operator|supervisor|head|president|vp|counsel|lawyer|paralegal|auditor|controller|trainer|"
    "owner|generalist|nurse|teacher|agent|clerk|receptionist"
)
JOB_NOUNS_ZH = (
    "工程师|分析师|设计师|架构师|科学家|研究员|经理|专员|主管|总监|顾问|助理|代表|专家|主任|总裁|实习生|会计|"
    "出纳|律师|秘书|负责人|总经理|产品经理|运营|销售|编辑|讲师|培训师|测试|开发|前台|行政"
)
ORG_SUFFIX_ZH = "事业部|部门|中心|团队|小组|部|组|科|处|室"
ORG_SUFFIX_EN = "team|department|dept|division|group|unit|function|org"

STOP_EN = set(
    _words(
        """please pls plz kindly can could you would will shall should the a an of for to from on in at is are
        was were be been being has have had and with his her their its new now also just so then that this it
        as by hi hey hello thanks thank ok okay dear need needs want wants like do does did get make set change
        changes changed update updated updating record records let us our we i me my employee staff colleague
        member someone somebody person hers him she he they them asap effective date starting start starts
        today s yes sure right away accordingly system hr ops note fyi there here going request requests
        requesting per got gets getting show list see view check tell look paid"""
    )
)
STOP_ZH = sorted(
    _words(
        """请 帮我 帮忙 麻烦 麻烦你 把 将 给 的 了 吧 呢 啊 吗 一下 需要 要 想 我想 我要 谢谢 好的 和 也 都 已经 已 将会 会
        被 并 同时 然后 新 员工 同事 办理 一个 位 名 一位 他 她 他的 她的 其 是 为 由 在 从 于 到 正式 即将 现在 目前
        请问 你好 您好 大家好 帮 处理 录入 多少 是多少 查一下 查下 查看 看看 看一下 查 提出 变更 审批 系统 里 中 一下子 可以 能 能否 哦 嗯 呀 起 日期
        信息 情况 这个 那个 人 该 此"""
    ),
    key=len,
    reverse=True,
)
NAME_EDGE_ZH = sorted(
    _words(
        """请 帮我 帮忙 麻烦 把 将 给 的 了 吧 呢 啊 吗 需要 要 想 我想 我要 员工 同事 为 让 替 由 被 帮 同学 先生 女士
        已经 已 也 都 会 现在 正式 即将 他 她"""
    ),
    key=len,
    reverse=True,
)
SELF_EN = _rx(_en(r"i|i'm|i've|i'll|my|me|myself"))
SELF_ZH = re.compile(r"我(?!们)")


# -- the reading state ----------------------------------------------------------------------------


@dataclass
class _State:
    text: str
    understood: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def consume(
        self, start: int, end: int, meaning: str | None = None, keep: list[tuple[int, int]] = ()
    ) -> None:
        # Only the span is rebuilt: a pasted page is consumed a few hundred times.
        chars = list(self.text[start:end])
        shown = []
        for i in range(start, end):
            if any(a <= i < b for a, b in keep):
                continue
            if chars[i - start] != GAP:
                shown.append(chars[i - start])
            chars[i - start] = GAP
        self.text = self.text[:start] + "".join(chars) + self.text[end:]
        if meaning:
            said = " ".join("".join(shown).split()).strip(" ,:")
            self.understood.append(f"{said} = {meaning}" if said else meaning)

    def take(
        self,
        pattern: re.Pattern[str],
        meaning: str | Callable[[re.Match[str]], str] | None,
        keep: tuple[str, ...] = (),
    ) -> re.Match[str] | None:
        """Consume the first match (but not its `keep` groups, left for later reading)."""
        m = pattern.search(self.text)
        if m:
            spans = [m.span(g) for g in keep if m.group(g)]
            self.consume(m.start(), m.end(), meaning(m) if callable(meaning) else meaning, spans)
        return m

    def put(self, name: str, value: str) -> None:
        if value and name not in self.fields:
            self.fields[name] = value


def _normalise(message: str) -> str:
    text = unicodedata.normalize("NFKC", message)
    text = re.sub(r"[。、;；]", ",", text)
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    return " ".join(text.split())


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _words_left(text: str) -> list[str]:
    """What nobody read: Latin words and numbers not stop words; Chinese runs without stop words."""
    out = []
    for w in re.findall(rf"[A-Za-z][A-Za-z0-9'-]*|\d[\d,.]*|[{HANZI}]+", text):
        if _is_zh(w):
            rest = w
            for stop in STOP_ZH:
                rest = rest.replace(stop, "")
            if rest:
                out.append(rest)
        elif w.lower().strip("'") not in STOP_EN and w.lower().removesuffix("'s") not in STOP_EN:
            out.append(w)
    return out


def _clean(value: str) -> str:
    value = value.replace(GAP, " ")
    return " ".join(value.split()).strip(" ,.:;->=→")


# -- dates ----------------------------------------------------------------------------------------


@dataclass
class _Date:
    start: int
    end: int
    said: str
    value: date | None
    problem: str | None = None
    last_day: bool = False


DATE_PREFIX = re.compile(
    r"(?:(?:with effect )?from|effective(?: from| on| as of| date)?|starting(?: on| from)?|"
    r"start(?:s|ing)?(?: date)?(?: on| is| will be| from)?|as of|as from|on|beginning|commencing|"
    r"until|"
    r"(?:(?:his|her|their|the) )?last (?:working )?day(?: is| will be| on| at work)?)\s*[:,]?\s*$",
    re.IGNORECASE,
)
DATE_PREFIX_ZH = re.compile(
    r"(?:(?:最后(?:一个)?工作日|最后一天上班|最后上班日|最后一天|离职日期|入职日期|生效日期|开始日期|到岗日期|日期)(?:是|为)?|从|自|于|在)\s*[:,]?\s*$"
)
PREFIX_REACH = 60  # characters around a date where its prefix or suffix may stand (the longest is under 40)
DATE_SUFFIX_ZH = re.compile(r"^\s*(?:起生效|开始生效|起算|起|开始|生效|到岗|之后|以后)")
LAST_DAY = re.compile(r"last (?:working )?day|最后(?:一个)?工作日|最后一天|最后上班日", re.IGNORECASE)


def _closest(month: int, day: int, today: date) -> date | None:
    """A day named without a year: the occurrence closest to today (ahead when equally far)."""
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        with contextlib.suppress(ValueError):
            options.append(date(year, month, day))
    return min(options, key=lambda d: (abs((d - today).days), d < today)) if options else None


def _make(year: int | None, month: int, day: int, today: date, said: str) -> tuple[date | None, str | None]:
    if year is None:
        found = _closest(month, day, today)
        return (found, None) if found else (None, f"{said} is not a real date")
    try:
        return date(year, month, day), None
    except ValueError:
        return None, f"{said} is not a real date"


def _next_week_day(today: date, weekday: int, weeks: int) -> date:
    """`weeks` = 0: this week's day; 1: the day of next week (Monday-based weeks)."""
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * weeks + weekday)


def _coming(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _month_start(today: date, months: int) -> date:
    y, m = divmod(today.month - 1 + months, 12)
    return date(today.year + y, m + 1, 1)


def _month_end(today: date, months: int) -> date:
    return _month_start(today, months + 1) - timedelta(days=1)


def _date_rules(today: date) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple]]]:
    """(pattern, match -> (date | None, problem | None)), most specific first."""

    def iso(m):
        return _make(int(m[1]), int(m[2]), int(m[3]), today, m[0].strip())

    def day_month(m):
        return _make(int(m[3]) if m[3] else None, MONTHS[m[2].lower()], int(m[1]), today, m[0].strip())

    def month_day(m):
        return _make(int(m[3]) if m[3] else None, MONTHS[m[1].lower()], int(m[2]), today, m[0].strip())

    def zh_month_day(m):
        year = {"明年": today.year + 1, "今年": today.year, "去年": today.year - 1}.get(m[1] or "")
        return _make(year, int(m[2]), int(m[3]), today, m[0].strip())

    def month_start(m):
        year, month = m["year"], m["month"]
        number = int(month) if month.isdigit() else MONTHS[month.lower()]
        if year:
            year = {"明年": today.year + 1, "今年": today.year}.get(year) or int(year)
        return _make(year, number, 1, today, m[0].strip())

    def zh_rel_month_day(m):
        offset = 2 if m[1].startswith("下下") else 1 if m[1].startswith("下") else 0
        first = _month_start(today, offset)
        return _make(first.year, first.month, int(m[2]), today, m[0].strip())

    def zh_month_edge(m):
        offset = 1 if (m[1] or "").startswith("下") else 0
        return (_month_start(today, offset) if m[2] == "初" else _month_end(today, offset)), None

    def en_month_edge(m):
        offset = 1 if m[2] and m[2].lower() == "next" else 0
        return (_month_start(today, offset) if m[1] else _month_end(today, offset)), None

    def first_next_month(m):
        return _month_start(today, 1), None

    def relative_day(m):
        word = m[0].strip().lower()
        days = {"today": 0, "tomorrow": 1, "day after tomorrow": 2, "the day after tomorrow": 2}
        days |= {"yesterday": -1, "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
        days |= {
            "昨天": -1,
            "昨日": -1,
            "前天": -2,
            "immediately": 0,
            "effective immediately": 0,
            "as of now": 0,
        }
        days |= {"即日起": 0, "即日": 0, "立即": 0, "从现在开始": 0, "从现在起": 0, "从今天起": 0}
        return today + timedelta(days=days[word]), None

    def in_n(m):
        n = int(m[1]) if m[1].isdigit() else {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}[m[1].lower()]
        unit = m[2].lower()
        if unit.startswith("month"):
            return None, f"'{m[0].strip()}' is not one day: give the date"
        return today + timedelta(days=n * (7 if unit.startswith("week") else 1)), None

    def en_weekday(m):
        which = (m[1] or "").lower()
        day = WEEKDAYS.index(m[2].lower())
        if which in ("next", "following"):
            return _next_week_day(today, day, 1), None
        if which == "this":
            return _next_week_day(today, day, 0), None
        return _coming(today, day), None

    def zh_weekday(m):
        which = m[1] or ""
        day = ZH_WEEKDAY[m[2]]
        if which.startswith("下下"):
            return _next_week_day(today, day, 2), None
        if which.startswith("下"):
            return _next_week_day(today, day, 1), None
        if which.startswith("上"):
            return _next_week_day(today, day, -1), None
        if which in ("本", "这", "这个"):
            return _next_week_day(today, day, 0), None
        return _coming(today, day), None

    def slash(m):
        a, b = int(m[1]), int(m[2])
        year = (int(m[3]) + (2000 if len(m[3]) == 2 else 0)) if m[3] else None
        readings = set()
        for month, day in ((a, b), (b, a)):
            found, _ = _make(year, month, day, today, m[0])
            if found:
                readings.add(found)
        if len(readings) == 1:
            return readings.pop(), None
        if not readings:
            return None, f"{m[0].strip()} is not a real date"
        return None, f"{m[0].strip()} could be day/month or month/day: give the month by name (e.g. 1 Dec)"

    def vague(m):
        return None, f"'{m[0].strip()}' is not one day: give the date (e.g. next Monday, 12月1日, 2026-12-01)"

    wd = "|".join(WEEKDAYS)
    return [
        (re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)"), iso),
        (
            _rx(_en(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_RX})\.?(?:,?\s+(\d{{4}}))?")),
            day_month,
        ),
        (
            _rx(_en(rf"({MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?")),
            month_day,
        ),
        (re.compile(r"(下下个?月|下个?月|本月|这个?月|当月)\s*(\d{1,2})\s*[日号]"), zh_rel_month_day),
        (re.compile(r"(?<![\d年])(明年|今年|去年)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?!\d)"), zh_month_day),
        (re.compile(r"(下个?月|本月|这个?月|当月)?月?(初|底|末)"), zh_month_edge),
        (
            re.compile(
                r"(?<![\d年])(?P<year>明年|今年)?(?P<month>\d{1,2})\s*月份?(?=\s*(?:起|开始|生效|初|1号|一号))(?:初)?"
            ),
            month_start,
        ),
        (
            _rx(
                _en(
                    rf"(?:from|starting(?: in)?|as of|effective(?: from)?|beginning(?: of)?|start of)\s+"
                    rf"(?P<month>{MONTH_RX})(?:\s+(?P<year>\d{{4}}))?"
                )
            ),
            month_start,
        ),
        (
            _rx(_en(r"(?:the\s+)?(?:(start|beginning)|end)\s+of\s+(?:the\s+)?(next|this)?\s*month")),
            en_month_edge,
        ),
        (_rx(_en(r"(?:the\s+)?(?:1st|first)\s+(?:day\s+)?of\s+next\s+month")), first_next_month),
        (_rx(_en(r"(?:the\s+)?day after tomorrow|tomorrow|today|yesterday")), relative_day),
        (
            re.compile(
                r"大后天|后天|今天|今日|明天|明日|昨天|昨日|前天|即日起|即日|立即|从现在开始|从现在起"
            ),
            relative_day,
        ),
        (_rx(_en(r"effective immediately|immediately|as of now")), relative_day),
        (_rx(_en(r"in\s+(\d+|a|one|two|three|four)\s+(days?|weeks?|months?)")), in_n),
        (_rx(_en(rf"(?:(next|this|coming|this coming|following)\s+)?({wd})")), en_weekday),
        (
            re.compile(r"(下下个?|下个?|本|这个?|上个?)?\s*(?:周|星期|礼拜)([一二三四五六日天1-7])"),
            zh_weekday,
        ),
        (re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?(?![\d/])"), slash),
        (
            _rx(
                _en(r"next week|next month|this week|this month|soon|asap|as soon as possible|some ?time")
                + r"|下周|下个?星期|下个?月|尽快|近期|过几天|月内"
            ),
            vague,
        ),
    ]


def _take_dates(st: _State, today: date) -> list[_Date]:
    found: list[_Date] = []
    for pattern, resolve in _date_rules(today):
        # Each search starts where the last date read ended: what lies before it holds no more of
        # this pattern, and searching from the start again made a long paste quadratic (40 KB: 9 s).
        pos = 0
        while m := pattern.search(st.text, pos):
            value, problem = resolve(m)
            start, end = m.start(), m.end()
            before = st.text[max(0, start - PREFIX_REACH) : start]
            prefix = DATE_PREFIX.search(before) or DATE_PREFIX_ZH.search(before)
            if prefix and prefix.group(0).strip():
                start -= len(before) - prefix.start()
            if suffix := DATE_SUFFIX_ZH.search(st.text[end : end + PREFIX_REACH]):
                end += suffix.end()
            said = _clean(st.text[start:end])
            last_day = bool(LAST_DAY.search(st.text[start : m.start()]))
            meaning = value.isoformat() if value else "not a usable date"
            st.consume(start, end, meaning)
            found.append(_Date(start, end, said, value, problem, last_day))
            pos = end
    return sorted(found, key=lambda d: d.start)


def _one_date(st: _State, dates: list[_Date], name: str, shift_last_day: bool = False) -> None:
    """The request's date field from the dates read; two different dates are a problem."""
    for d in dates:
        if d.problem:
            st.problems.append(d.problem)
    values = []
    for d in dates:
        if d.value:
            value = d.value + timedelta(days=1) if shift_last_day and d.last_day else d.value
            if shift_last_day and d.last_day:
                st.understood.append(f"last day {d.value} = no longer employed from {value}")
            values.append(value)
    if len(set(values)) > 1:
        shown = ", ".join(sorted({v.isoformat() for v in values}))
        st.problems.append(f"two dates are given ({shown}): say which one the change takes effect on")
    elif values and not any(d.problem for d in dates):
        st.put(name, values[0].isoformat())


# -- people, org units, places ---------------------------------------------------------------------

EMPLOYEE_ID = re.compile(rf"(?<![{EDGE}-])[Ee]-?\d{{3,8}}(?![{EDGE}])")
EN_NAME = re.compile(r"(?<![A-Za-z0-9_'-])[A-Z][A-Za-z'-]*(?:\s+[A-Z][A-Za-z'-]*){0,2}(?![A-Za-z0-9_-])")


def _zh_name_len(s: str, known: KnownWords) -> int:
    """Length of a Chinese name at the start of `s` (0: none). Known names first; otherwise a surname
    and one or two given characters, ending where the next word starts."""
    for name in sorted((p for p in known.people if _is_zh(p)), key=len, reverse=True):
        if s.startswith(name):
            return len(name)
    run = re.match(rf"[{HANZI}]+", s)
    if not run:
        return 0
    run_text = run.group(0)
    surname = next((c for c in COMPOUND_SURNAMES_ZH if run_text.startswith(c)), None) or (
        run_text[0] if run_text[0] in SURNAMES_ZH else None
    )
    if not surname or len(run_text) <= len(surname):
        return 0
    rest = run_text[len(surname) :]
    if rest[0] in NAME_BREAK:
        return 0
    if len(rest) >= 2 and rest[1] not in NAME_BREAK and (len(rest) == 2 or rest[2] in NAME_BREAK):
        return len(surname) + 2
    if len(rest) == 1 or rest[1] in NAME_BREAK:
        return len(surname) + 1
    return 0  # too long to be only a name: left for the confidence to count


def _en_name(s: str) -> str | None:
    m = EN_NAME.match(s)
    if not m:
        return None
    words = []
    for w in m.group(0).split():
        if w.lower().removesuffix("'s") in NOT_NAMES:
            break
        words.append(w)
        if w.endswith("'s"):
            break
    return " ".join(words) or None


def _person_at(text: str, i: int, known: KnownWords) -> tuple[int, str] | None:
    """A person named at text[i:] (an employee id, a known name, a capitalised name, a Chinese
    name): (end, as typed)."""
    lead = re.match(r"[\s:：=]*", text[i:])
    i += lead.end() if lead else 0
    s = text[i:]
    if m := EMPLOYEE_ID.match(s):
        return i + m.end(), m.group(0).upper().replace("-", "")
    for name in sorted(known.people, key=len, reverse=True):
        if s.lower().startswith(name.lower()) and not re.match(rf"[{EDGE}]", s[len(name) : len(name) + 1]):
            return i + len(name), s[: len(name)]
    if name := _en_name(s):
        return i + len(name), name.removesuffix("'s")
    if n := _zh_name_len(s, known):
        return i + n, s[:n]
    return None


def _take_person_after(
    st: _State, pattern: re.Pattern[str], name: str, meaning: str, known: KnownWords
) -> bool:
    """A slot for a person after a trigger ("reports to X", 汇报给X): both consumed."""
    for m in pattern.finditer(st.text):
        if "p" in pattern.groupindex and m.group("p"):
            found = _person_at(st.text, m.start("p"), known)
            if found:
                st.consume(m.start(), m.end(), f"{meaning} {found[1]}")
                st.put(name, found[1])
                return True
            continue
        found = _person_at(st.text, m.end(), known)
        if found:
            st.consume(m.start(), found[0], f"{meaning} {found[1]}")
            st.put(name, found[1])
            return True
    return False


def _people_left(st: _State, known: KnownWords) -> list[tuple[int, int, str]]:
    """People named in what is left: (start, end, as typed), in order."""
    out: list[tuple[int, int, str]] = []
    taken = [False] * len(st.text)

    def add(a: int, b: int, value: str) -> None:
        if not any(taken[a:b]):
            out.append((a, b, value))
            for k in range(a, b):
                taken[k] = True

    for m in EMPLOYEE_ID.finditer(st.text):
        add(m.start(), m.end(), m.group(0).upper().replace("-", ""))
    for name in sorted(known.people, key=len, reverse=True):
        for m in re.finditer(_en(re.escape(name)) if not _is_zh(name) else re.escape(name), st.text, re.I):
            add(m.start(), m.end(), m.group(0))
    for m in EN_NAME.finditer(st.text):
        name = _en_name(m.group(0))
        if name:
            add(m.start(), m.start() + len(name), name.removesuffix("'s"))
    for m in re.finditer(rf"[{HANZI}]+", st.text):
        run, at = m.group(0), m.start()
        for edge in NAME_EDGE_ZH:  # strip words around the name: 请把王芳的 -> 王芳
            while run.startswith(edge) and len(run) > len(edge):
                run, at = run[len(edge) :], at + len(edge)
        n = _zh_name_len(run, known)
        if n:
            tail = run[n:]
            for edge in NAME_EDGE_ZH:
                tail = tail.removeprefix(edge)
            if not tail:
                add(at, at + n, run[:n])
    return sorted(out)


def _take_employee(st: _State, known: KnownWords, name: str = "employee") -> None:
    people = _people_left(st, known)
    if len({p[2].lower() for p in people}) > 1:
        shown = ", ".join(p[2] for p in people)
        st.problems.append(f"more than one person is named ({shown}): one request per person")
        for a, b, _ in people[1:]:
            st.consume(a, b, "another person")
    if people:
        a, b, value = people[0]
        st.consume(a, b, "employee")
        st.put(name, value)
        return
    if name == "employee" and (m := (SELF_ZH.search(st.text) or SELF_EN.search(st.text))):
        st.consume(m.start(), m.end(), "yourself")
        st.put(name, "me")


ORG_CODE = re.compile(rf"(?<![{EDGE}-])(?!REQ-)[A-Z]{{2,6}}(?:-[A-Z0-9]{{1,8}})+(?![{EDGE}-])")


def _org_of(text: str, known: KnownWords) -> tuple[int, int, str] | None:
    """An org unit in `text`: a code (ENG-DATA), a known name (Platform, 数据组): (start, end, value)."""
    if m := ORG_CODE.search(text):
        return m.start(), m.end(), m.group(0)
    for alias, code in sorted(known.org_units.items(), key=lambda kv: -len(kv[0])):
        pattern = re.escape(alias) if _is_zh(alias) else _en(re.escape(alias))
        if m := re.search(pattern, text, flags=0 if alias.isupper() else re.I):
            return m.start(), m.end(), code
    return None


def _org_value(dest: str, known: KnownWords) -> str | None:
    """The org unit a destination names: a code or known name; else the name as typed when it says
    it is a unit (the Data team, 数据组)."""
    if found := _org_of(dest, known):
        return found[2]
    dest = _clean(re.sub(r"^(?:the|our)\s+", "", dest, flags=re.I))
    if re.fullmatch(rf"(?:[A-Z][\w&-]*\s+){{1,4}}(?:{ORG_SUFFIX_EN})", dest, flags=re.I) or re.fullmatch(
        rf"[{HANZI}A-Za-z]{{1,12}}(?:{ORG_SUFFIX_ZH})", dest
    ):
        return dest
    return None


def _cities(known: KnownWords) -> list[tuple[str, str]]:
    """(as written, English name), longest first: English, Chinese and the data's own locations."""
    pairs = [(c, c) for c in CITIES] + list(ZH_CITIES.items()) + [(loc, loc) for loc in known.locations]
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def _city_pattern(written: str) -> str:
    return re.escape(written) if _is_zh(written) else _en(re.escape(written))


def _take_city(st: _State, known: KnownWords, name: str, prefix: str = "") -> bool:
    for written, city in _cities(known):
        pattern = re.compile(prefix + f"(?:{_city_pattern(written)})", re.I)
        if st.take(pattern, f"{name.replace('_', ' ')} {city}"):
            st.put(name, city)
            return True
    return False


# -- amounts --------------------------------------------------------------------------------------

AMOUNT = re.compile(
    r"(?:(?P<conn>调整为|调整到|调整至|提高到|提高至|提升到|提升至|涨到|涨至|加到|加至|降到|降至|降为|调到|调至|"
    r"到|至|为|成)[\s\ue000]*)?"
    r"(?:(?P<sym>US\$|SG?\$|HK\$|[¥€£$]|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z]))\s*)?"
    r"(?<![A-Za-z0-9.])(?P<num>[-−]?\s?\d(?:[\d,]*\d)?(?:\.\d+)?)(?![\d.]*%)"
    r"\s*(?P<mult>万|千|[kK](?![A-Za-z])|[mM](?![A-Za-z])|million(?![A-Za-z])|thousand(?![A-Za-z]))?"
    r"(?:\s*(?P<cur>人民币|元|块钱|块|美元|美金|新加坡元|新加坡币|新币|新元|港币|港元|欧元|英镑|日元|澳元|比特币|积分|"
    r"[A-Za-z]{3,8})(?![A-Za-z]))?"
)
MULTIPLIERS = {"万": 10_000, "千": 1_000, "k": 1_000, "m": 1_000_000, "million": 1_000_000, "thousand": 1_000}
FREQUENCY = [
    (
        re.compile(r"月薪|每月|每个月|/月|/\s*month|" + _en(r"per month|a month|monthly|pcm|/mo|p\.m\.")),
        "monthly",
    ),
    (
        re.compile(
            r"年薪|每年|/年|/\s*year|" + _en(r"per year|a year|per annum|annually|annual|yearly|p\.a\.|pa")
        ),
        "annual",
    ),
    (re.compile(r"时薪|每小时|/小时|/\s*hour|" + _en(r"per hour|an hour|hourly|/hr")), "hourly"),
]


CURRENCY_APART = re.compile(
    r"人民币|美元|美金|新加坡元|新币|港币|港元|欧元|英镑|日元|澳元|"
    + _en(r"RMB|" + "|".join(sorted(CURRENCIES)))
)


def _currency_word(word: str) -> tuple[str | None, str | None]:
    """(ISO code, problem) for a currency as written; (None, None) when it is not a currency word."""
    low = word.lower()
    if low in ZH_CURRENCIES:
        return ZH_CURRENCIES[low], None
    if word.upper() in CURRENCIES and (word.isupper() or low in ("cny", "usd", "sgd", "rmb")):
        return word.upper(), None
    if low in NOT_CURRENCIES or (len(word) == 3 and word.isupper()):
        return None, f"{word} is not a currency we pay in (ISO 4217, e.g. CNY, SGD, USD)"
    return None, None


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _take_amount(st: _State) -> bool:
    """The pay amount, its currency (a problem when it is not one we pay in) and frequency."""
    for word in sorted(AMBIGUOUS_CURRENCIES, key=len, reverse=True):
        pattern = re.compile(r"(?<![A-Za-z$])\$(?=\s*\d)" if word == "$" else _en(word), re.I)
        if st.take(pattern, "a dollar currency: which one? (USD, SGD, HKD ...)"):
            break
    for pattern, frequency in FREQUENCY:
        if st.take(pattern, f"paid {frequency}"):
            st.put("frequency", frequency)
            break
    amounts = list(AMOUNT.finditer(st.text))
    if not amounts:
        return False
    m = amounts[-1]  # "from 300k to 360k": the new pay is the last amount
    end = m.end()
    currency, problem = None, None
    if m.group("cur"):
        currency, problem = _currency_word(m.group("cur"))
        if not currency and not problem:
            end = m.end("num") if not m.group("mult") else m.end("mult")
    sym_code, sym_problem = (None, None)
    start = m.start()
    if sym := m.group("sym"):  # a bare "$" was read above as a dollar currency (which one?)
        sym_code, sym_problem = (
            _currency_word(sym) if len(sym) == 3 else (ZH_CURRENCIES.get(sym.lower()), None)
        )
        if not (sym_code or sym_problem):
            start = m.start("num")
    try:
        number = Decimal(re.sub(r"[\s,]", "", m.group("num")).replace("−", "-"))
    except InvalidOperation:
        return False
    mult = (m.group("mult") or "").lower()
    number *= MULTIPLIERS.get(mult, 1)
    said = " ".join(st.text[start:end].replace(GAP, " ").split())
    st.consume(start, end, f"pay {_plain(number)}")
    if number <= 0:
        st.problems.append(f"{said}: pay must be more than zero")
    else:
        st.put("amount", _plain(number))
    for code, trouble in ((currency, problem), (sym_code, sym_problem)):
        if trouble:
            st.problems.append(trouble)
        elif code:
            st.put("currency", code)
    said_apart = not (currency or sym_code or problem or sym_problem)  # "涨薪到32万,12月1日生效,人民币"
    if said_apart and (m := st.take(CURRENCY_APART, "currency")):
        st.put("currency", ZH_CURRENCIES.get(m.group(0).lower(), m.group(0).upper()))
    return True


# -- refusal, help -------------------------------------------------------------------------------

INJECTION = [
    _rx(
        _en(r"ignore|disregard|forget|override|bypass|overrule|circumvent")
        + r"[^.!?]{0,40}?"
        + _en(
            r"rules?|instructions?|prompts?|polic(?:y|ies)|guardrails?|restrictions?|safeguards?|"
            r"approvals?|approval process|checks?|limits?|system|programming|guidelines?|constraints?"
        )
    ),
    _rx(
        _en(r"ignore|disregard|forget|never mind")
        + r"\s+(?:all\s+|everything\s+|anything\s+)?(?:of\s+)?(?:the\s+|what\s+|that\s+)?"
        + _en(r"above|previous|prior|earlier|before|everything|all that|what (?:i|you) (?:said|were told)")
    ),
    _rx(
        _en(r"you are now|you're now|from now on|you are no longer|you will now|new instructions?|new rules?")
        + "|"
        + _en(
            r"respond only|reply only|output only|admin mode|god mode|maintenance mode|as an ai|unrestricted"
        )
    ),
    _rx(_en(r"pretend(?:ing)?\s+(?:to be|you are|you're|that you)|role-?play|roleplay")),
    _rx(
        _en(
            r"(?:act|behave)\s+(?:as|like)\s+(?:if you were\s+|if you are\s+|an?\s+|the\s+)?"
            r"(?:admin|administrator|root|superuser|system|developer|unrestricted|different|ai|assistant|god)"
        )
    ),
    _rx(_en(r"you are (?:an? |the )?(?:admin|administrator|root|superuser|system|developer|god)")),
    _rx(_en(r"system prompt|developer mode|jailbreak|prompt injection|do anything now|dan mode")),
    _rx(
        _en(r"note to (?:the )?(?:ai|assistant|model|bot|llm|system)")
        + "|"
        + _en(r"(?:the )?user is (?:an? |the )?(?:admin|administrator|superuser|root|approver)")
        + "|"
        + _en(r"i(?:'m| am) (?:an? |the )?(?:admin|administrator|superuser|root|system)")
        + "|"
        + _en(r"(?:system|assistant|developer)(?: prompt| message| note| override)?")
        + r"\s*:"
        + "|"
        + _en(r"translate")
        + r"[^.]{0,40}?"
        + _en(r"(?:and|then)\s+(?:do|execute|run|follow|apply|obey)")
        + "|"
        + _en(r"(?:execute|obey|follow) (?:the following|these|this) (?:instructions?|commands?|orders?)")
    ),
    _rx(
        _en(r"reveal|print|show|repeat|output|leak|dump")
        + r"[^.!?]{0,30}?"
        + _en(r"(?:system |your |initial )(?:prompt|instructions|message|rules)")
    ),
    _rx(
        _en(
            r"grant (?:me|myself|us)|make me (?:an? )?(?:admin|administrator|superuser|approver|hr)|"
            r"give me (?:the )?(?:admin|root|superuser|hr_ops|all) (?:role|rights|access|permissions)|"
            r"sudo|escalate (?:my )?privileges?|(?:approve|do|run|execute|log(?:ged)? in)\b[^.]{0,20}?\bas (?:an? |the )?"
            r"(?:admin|administrator|root|superuser)"
        )
    ),
    _rx(
        _en(r"drop\s+(?:table|database|schema)|truncate\s+table|delete\s+from|union\s+select|insert\s+into")
        + r"|;\s*--|'\s*or\s+'?1'?\s*=\s*'?1|<\s*/?\s*script|"
        + _en(r"rm\s+-rf|exec\s*\(|eval\s*\(")
        + r"|\{\{.*\}\}|<\|?(?:system|im_start|im_end)\|?>|\[/?INST\]|^\s*(?:system|assistant)\s*:"
    ),
    _rx(
        _en(
            r"without (?:any )?approvals?|skip(?:ping)? (?:the )?approvals?|no approvals? (?:needed|required)|"
            r"auto-?approve|approve (?:it |this |them )?(?:yourself|automatically)|don't ask (?:anyone|for approval)"
        )
    ),
    re.compile(
        r"(?:忽略|无视|忘记|忘掉|不要理会|别管|绕过|跳过|覆盖|推翻)(?:掉)?(?:你的|之前|以上|上面|前面|所有|全部|一切|系统|刚才)?"
        r"(?:的)?(?:所有|全部)?(?:指令|指示|规则|提示|设定|限制|要求|规定|审批|流程|安全|约束)"
    ),
    re.compile(r"你(?:现在)?(?:就)?是(?:一个|一名)?(?:管理员|超级管理员|系统|admin|root|开发者|上帝)"),
    re.compile(
        r"扮演|假装你|假设你是|角色扮演|从现在开始你|从现在起你|不要遵守|无需遵守|不用遵守|不用管规则"
    ),
    re.compile(
        r"(?:忽略|无视|忘记|忘掉|不要理会)(?:掉)?(?:上面|以上|之前|前面|刚才|上述|所有|一切)(?:的)?(?:内容|话|说的|所有|一切)?"
    ),
    re.compile(r"系统提示|提示词|系统指令|开发者模式|越狱"),
    re.compile(r"(?:给|授予|赋予|开通)(?:我|自己)(?:的)?(?:管理员|admin|最高|超级|所有)?(?:权限|角色)"),
    re.compile(
        r"(?:开通|开|授予|赋予|分配|提升)(?:我|自己)?(?:的)?(?:为)?(?:管理员|admin|最高|超级|所有)(?:的)?(?:权限|角色)?"
    ),
    re.compile(
        r"(?:删除|清空|删掉|清除)(?:整个|所有|全部)?(?:数据库|数据表|表|所有数据|全部数据|所有记录)|删库"
    ),
    re.compile(
        r"(?:不需要|无需|不用|不要|别|跳过|绕过|免|不)(?:管|走|经过|等)?(?:任何)?(?:审批|批准流程|审核)|自动(?:批准|审批|通过)"
    ),
    re.compile(
        r"(?:我是|我就是)(?:管理员|超级管理员|admin|root|系统)|(?:用户|我)(?:有|拥有)(?:管理员|最高)权限|给(?:AI|ai|助手|模型)的(?:提示|说明)"
    ),
]
EVERYONE = re.compile(
    _en(
        r"everyone|everybody|all (?:the )?(?:employees|staff|people|workers|members|engineers|managers)|"
        r"every (?:employee|person|one|single (?:employee|person))|"
        r"the (?:whole|entire)\s+(?:[\w&-]+\s+){0,2}(?:company|team|department|org|organi[sz]ation|division|unit|office)|"
        r"all (?:the |of the )?(?:[\w&-]+\s+){0,2}(?:employees|staff|people|workers|members|engineers|managers|analysts)|"
        r"all of (?:them|us|my team)|each employee|across the board"
    )
    + r"|所有人|所有员工|全体员工|全体|全员|每个人|每位员工|每个员工|大家(?!好)|全公司|整个部门|整个团队|全部员工|全部人|每人|人人|全组|全部门|"
    r"整个[\u4e00-\u9fffA-Za-z-]{0,8}?(?:组|部门|部|团队|公司|中心)",
    re.IGNORECASE,
)
CHANGE_WORDS = re.compile(
    _en(
        r"raise|rise|increase|bump|bonus|promot\w*|transfer|terminat\w*|fire|lay off|give|double|triple|"
        r"set|change|move|cut|pay|salary|update|modify|delete|remove|address|title|manager"
    )
    + r"|加薪|涨薪|涨工资|调薪|加工资|加钱|奖金|晋升|升职|调岗|调到|辞退|解雇|开除|裁|发钱|翻倍|提高|增加|改为|改成|"
    r"调整|变更|更新|修改|离职|转岗|删除",
    re.IGNORECASE,
)
BULK_DECISION = re.compile(
    _en(r"(?:approve|reject|decline)\s+(?:them\s+)?(?:all|every(?:thing|one)?|everything)")
    + r"|(?:全部|所有|一律|统统|全都)(?:都)?(?:的)?(?:申请)?(?:批准|通过|同意|驳回|拒绝)|(?:批准|通过|驳回|同意)(?:全部|所有)",
    re.IGNORECASE,
)


def _refusal(text: str) -> tuple[str, str] | None:
    """(what was read, why refused) for instructions to the assistant and changes for everyone."""
    for pattern in INJECTION:
        if m := pattern.search(text):
            return (
                m.group(0).strip(),
                "this message tries to instruct the assistant; I only take HR requests, decisions, "
                "status look-ups and data questions, and I follow the product's rules and approvals",
            )
    if m := BULK_DECISION.search(text):
        return m.group(0).strip(), "decisions are made one request at a time (approve REQ-12)"
    if (m := EVERYONE.search(text)) and CHANGE_WORDS.search(text) and not DATA_CUE.search(text):
        return (
            m.group(0).strip(),
            "a change for everyone is not taken from chat: a bulk change goes through "
            "`hrops request bulk` with a spreadsheet, every row checked and approved",
        )
    return None


HELP = re.compile(
    r"^(?:help|help me|\?|h|menu|commands|usage|what can you do|what do you do|how do i use (?:this|you)|"
    r"how does this work|hi|hello|hey|good (?:morning|afternoon|evening)|帮助|帮忙|怎么用|如何使用|使用说明|你能做什么|你可以做什么|能做什么|菜单|你好|您好|"
    r"有什么功能|功能|帮助一下|早上好|下午好|晚上好)[\s?!.,]*$",
    re.IGNORECASE,
)

# -- decisions and status -------------------------------------------------------------------------

REQUEST_ID = re.compile(
    r"(?<![A-Za-z0-9])(?:REQ|request|req)\s*[-#]?\s*(\d{1,7})(?!\d)|申请\s*#?\s*(\d{1,7})(?!\d)", re.I
)
REJECT = re.compile(
    _en(
        r"reject(?:ed|s)?|declin(?:e|ed|es)|den(?:y|ied|ies)|refuse[ds]?|turn(?:ed)? down|send (?:it )?back|"
        r"sent back"
    )
    + r"|驳回|拒绝|不同意|不批准|不予批准|否决|退回|打回|不通过|不批",
    re.I,
)
APPROVE = re.compile(
    _en(
        r"approve[ds]?|approving|accept(?:ed)?|lgtm|sign(?:ed)? off(?: on)?|ok|okay|go ahead(?: with)?|greenlight"
    )
    + r"|审批通过|批准|同意|通过|准了|核准|准予",
    re.I,
)
REASON_LEAD = re.compile(
    r"^(?:[\s,:;.\-–—]*)(?:because(?: of)?|since|as|due to|reason(?: is| being)?|the reason is|with (?:the )?reason|"
    r"note|comment|with comment|原因是|原因为|原因|理由是|理由为|理由|因为|由于|备注)?\s*[:]?\s*",
    re.I,
)
POLITE = re.compile(
    r"^(?:please|pls|thanks|thank you|thx|ok|okay|cheers|请|谢谢|好的|吧|了|,|\.|!|\s)*$", re.I
)
STATUS_CUE = re.compile(
    _en(
        r"where(?:'s| is| are)|status|progress|what(?:'s| is) happening|how(?:'s| is)\b.{0,40}\bgoing|"
        r"any (?:news|updates?)|update on|stuck|waiting (?:for|on)|track|who is approving|"
        r"(?:is|has|was|did)\b.{0,40}\b(?:approved|done|finished|complete|completed|rejected|pending|applied|"
        r"gone through|been decided)"
    )
    + r"|(?:审批|办)?到哪(?:一步|里|儿)?了?|进度|状态|怎么样了|批了吗|批了没|通过了吗|通过了没|通过没|办好了吗|办完了吗|完成了吗|卡在|在谁那|谁在审|"
    r"审批到|进展|办到哪|处理得怎么样|情况如何|情况怎么样",
    re.I,
)
MINE = re.compile(
    _en(
        r"my (?:approvals|inbox|pending(?: approvals)?|requests|tasks|queue)|what(?:'s| is) waiting for me|"
        r"waiting (?:for|on) me|(?:things|requests) (?:for me )?to approve|anything for me"
    )
    + r"|我的审批|待我审批|待审批|我的待办|待办|我的申请|我提交的|需要我审批|等我审批|我要审批",
    re.I,
)
KIND_NOUNS: list[tuple[RequestKind, str]] = [
    (RequestKind.ONBOARDING, _en(r"onboarding|new hire|hiring") + r"|入职"),
    (RequestKind.ADDRESS_CHANGE, _en(r"(?:home )?address(?: change)?") + r"|地址|住址"),
    (RequestKind.TRANSFER, _en(r"transfer|move") + r"|调动|调岗|转岗"),
    (
        RequestKind.SALARY_CHANGE,
        _en(r"raise|pay rise|salary(?: change)?|pay change|pay") + r"|加薪|调薪|薪资|涨薪",
    ),
    (RequestKind.JOB_TITLE, _en(r"promotion|title change|title") + r"|晋升|升职|职位"),
    (RequestKind.TERMINATION, _en(r"termination|leaving|offboarding|exit|resignation") + r"|离职|辞职"),
    (RequestKind.MANAGER_CHANGE, _en(r"manager change|reporting line") + r"|汇报|上级"),
    (RequestKind.COMP_RESEARCH, _en(r"market research|benchmark|comp research") + r"|市场薪酬|薪酬调研"),
]


def _request_id(m: re.Match[str]) -> str:
    return f"REQ-{int(m.group(1) or m.group(2))}"


def _reason(st: _State) -> str | None:
    pieces = [p for p in st.text.split(GAP) if p.strip()]
    for piece in pieces:
        text = REASON_LEAD.sub("", piece, count=1).strip(" ,.;:!?")
        if text and not POLITE.match(text):
            return text
    return None


def _decision(st: _State, lang: str) -> Intake | None:
    ids = list(REQUEST_ID.finditer(st.text))
    verdict_match = REJECT.search(st.text)
    verdict = "reject" if verdict_match else None
    if not verdict_match:
        verdict_match = APPROVE.search(st.text)
        verdict = "approve" if verdict_match else None
    if not verdict_match:
        return None
    at_start = not st.text[: verdict_match.start()].strip(" ,:" + GAP) or re.fullmatch(
        r"\s*(?:please|pls|请|i|我)\s*", st.text[: verdict_match.start()], re.I
    )
    if not ids and not at_start:
        return None
    if len({_request_id(m) for m in ids}) > 1:
        return Intake(
            language=lang,
            intent=Intent.REFUSE,
            refusal="decisions are made one request at a time (approve REQ-12)",
            confidence=1.0,
            understood=[f"{', '.join(m.group(0) for m in ids)} = several requests"],
        )
    request_id = _request_id(ids[0]) if ids else None
    if ids:
        st.consume(ids[0].start(), ids[0].end(), f"request {request_id}")
    m = REJECT.search(st.text) if verdict == "reject" else APPROVE.search(st.text)
    st.consume(m.start(), m.end(), verdict)
    reason = _reason(st)
    if reason:
        st.understood.append(f"{reason} = reason")
    missing = [] if request_id else ["request_id"]
    if verdict == "reject" and not reason:
        missing.append("reason")
    return Intake(
        language=lang,
        intent=Intent.DECISION,
        decision=DecisionRead(request_id=request_id, verdict=verdict, reason=reason),
        missing=missing,
        confidence=1.0 if request_id else 0.8,
        understood=st.understood,
    )


def _status(st: _State, lang: str, known: KnownWords) -> Intake | None:
    cue = STATUS_CUE.search(st.text)
    mine = MINE.search(st.text)
    ids = list(REQUEST_ID.finditer(st.text))
    if not cue and not mine:
        return None
    kind = None
    for k, pattern in KIND_NOUNS:
        if re.search(pattern, st.text, re.I):
            kind = k
            break
    if mine and not ids:
        st.take(MINE, "your own requests and approvals")
        if cue:
            st.take(STATUS_CUE, "where it stands")
        return _status_intake(st, lang, StatusRead(mine=True, kind=kind))
    if not cue:
        return None
    probe = _State(st.text)
    for m in REQUEST_ID.finditer(probe.text):
        probe.consume(m.start(), m.end())
    has_person = bool(_people_left(probe, known))
    if not ids and not (kind and has_person):
        return None
    st.consume(cue.start(), cue.end(), "where it stands")
    if ids:
        st.consume(ids[0].start(), ids[0].end(), f"request {_request_id(ids[0])}")
        return _status_intake(st, lang, StatusRead(request_id=_request_id(ids[0])))
    assert kind is not None
    st.take(re.compile(dict(KIND_NOUNS)[kind], re.I), kind.value.replace("_", " "))
    _take_employee(st, known)
    return _status_intake(st, lang, StatusRead(employee=st.fields.get("employee"), kind=kind))


def _status_intake(st: _State, lang: str, target: StatusRead) -> Intake:
    left = _words_left(st.text)
    confidence = len(st.understood) / (len(st.understood) + len(left)) if st.understood else 0.0
    return Intake(
        language=lang,
        intent=Intent.STATUS,
        status=target,
        confidence=round(confidence, 2),
        understood=st.understood,
        not_understood=left,
    )


# -- data questions ------------------------------------------------------------------------------

DATA_CUE = re.compile(
    _en(
        r"how many|how much|what percentage|what share|what proportion|headcount|attrition|turnover|tenure|"
        r"average|median|trend|breakdown|distribution|compa-?ratio|training hours|learning data|completion rate|"
        r"per head|year over year|month over month"
    )
    + r"|多少|几个|几人|几位|几名|比例|占比|趋势|分布|离职率|流失率|人数|学习数据|学习情况|培训情况|平均|中位数|统计|完成率|学时|司龄",
    re.I,
)
QUESTION_FORM = re.compile(
    r"^\s*(?:what|which|who|show|list|give me|tell me|请问|查询|查看|看看|统计)"
    + r"|[?]\s*$|(?:如何|怎么样|吗)\s*[?]?\s*$",
    re.I,
)


def _is_data_question(text: str) -> bool:
    if DATA_CUE.search(text):
        return True
    parsed = parse_question(text)
    return parsed.query is not None


# -- policy questions ------------------------------------------------------------------------------

# What the handbook is about, by its chapters: leave; pay, tax and social insurance; benefits;
# expenses and travel; working time; performance; joining and leaving; conduct and speaking up.
POLICY_TOPIC = re.compile(
    _en(
        r"(?:annual|marriage|wedding|bereavement|compassionate|unpaid|study|carer'?s?|family|adoption|special|"
        r"parental|on|take|taking|of|for|request|requesting|apply for|much|more|extra|paid|my) leave|"
        r"leave (?:policy|policies|balance|entitlement|allowance|days?)|sick|maternity|paternity|childcare|pto|"
        r"paid time off|time off|days? off|vacation|holidays?|carried over|doctor'?s note|sabbatical|"
        r"pay ?day|pay date|get paid|payslips?|pay slips?|paychecks?|payroll|overpaid|underpaid|bonus(?:es)?|"
        r"income tax|tax (?:deductions?|returns?|rates?)|social (?:insurance|security)|contribution base|"
        r"(?:housing )?provident fund|housing fund|pensions?|401\(?k\)?|cpf|stock options?|vest(?:s|ing)?|"
        r"insurance|benefits?|allowances?|per diem|stipend|health check|check-?up|eap|counsell?ing|"
        r"company car|season ticket|shuttle|commut(?:e|ing)|meals?|lunch|training budget|tuition|"
        r"reimburs(?:e|ed|ement)|expenses?(?: claims?)?|receipts?|relocation|business trips?|business travel|"
        r"business class|hotel|travel (?:policy|expenses?|booking|class)|client dinner|gifts?|"
        r"overtime|working hours|office hours|core hours|flexi(?:ble)? ?(?:time|hours|working)|"
        r"remote work(?:ing)?|work(?:ing)? (?:from|at) home|wfh|hybrid work(?:ing)?|time in lieu|toil|"
        r"clock(?:ing)? in|attendance|timesheets?|performance (?:review|cycle|rating)s?|ratings?|pip|"
        r"calibration|check-in|one-to-one|1:1|probation(?:ary)?|notice|reference letter|handover|"
        r"exit interview|(?:my|the) (?:laptop|badge)|dress code|code of conduct|handbook|polic(?:y|ies)"
    )
    + r"|年假|年休假|带薪假|产假|陪产假|护理假|育儿假|婚假|丧假|病假|事假|家庭假|调休|补休|休假|请假|假期|节假日|法定假|"
    r"结婚|工资|发薪|奖金|年终奖|个税|个人所得税|专项附加扣除|社保|社会保险|五险|一金|公积金|缴费基数|社保基数|医保|"
    r"保险|生育津贴|股票|期权|福利|补贴|津贴|餐补|饭补|体检|心理咨询|班车|内购|年会|团建|聚餐|培训预算|学费|"
    r"报销|差旅|出差|搬迁|搬家费|安家费|预算|送礼|加班|工作时间|上班时间|几点到|弹性工作|远程办公|居家办公|在家办公|"
    r"考勤|打卡|迟到|绩效|自评|校准|一对一|升职|晋升|试用期|转正|通知期|提前.{0,4}通知|入职材料|带哪些材料|"
    r"离职证明|交接|门禁卡|电脑|竞业|着装|行为准则|员工手册|制度|政策|匿名|举报",
    re.I,
)
# Asked, not told: a question word first, a question mark, or asking what the rules allow.
POLICY_ASK = re.compile(
    r"^\s*(?:how|when|what|what's|whats|which|where|who|why|can|could|may|do|does|am|is|are|will|would|"
    r"should|shall|tell me|explain)(?![A-Za-z])"
    + r"|[?]|"
    + _en(r"entitled|eligible|allowed|i'd like to know|i want to know")
    + r"|吗|么|呢|多少|几|怎么|怎样|如何|什么|哪|是否|能否|可否|可以|能不能|可不可以|有没有|多久|多长|请问|规定",
    re.I,
)
# Figures about the organisation, not rules about the asker: those stay data questions.
ORG_FIGURES = re.compile(
    _en(
        r"how many (?:people|employees|staff|heads|colleagues|men|women)|headcount|attrition|turnover|average|"
        r"median|trend|breakdown|distribution|per head|(?:by|per|in each|for each) (?:department|team|location|"
        r"level|unit|org|organi[sz]ation|division|month|quarter|year|gender|site|country|city|manager)"
    )
    + r"|多少人|几个人|几人|几位|几名|人数|员工数|离职率|流失率|平均|中位数|趋势|分布|统计|各部门|各团队|各地|各个|按\S{1,6}(?:统计|分)",
    re.I,
)
# A group over a past period ("leave my team took last month"): a figure, even without a figure word.
GROUP = re.compile(
    _en(r"(?:my|our|the) (?:team|org|organi[sz]ation|department|unit|division|reports|company)")
    + r"|我们(?:部门|团队|单位|组|公司)|我的(?:团队|下属)|全公司",
    re.I,
)
PAST = re.compile(
    _en(r"(?:last|previous|past) (?:week|month|quarter|year)|year to date|ytd")
    + r"|上个?月|上季度|去年|上半年|今年以来",
    re.I,
)


def _policy(
    text: str, lang: Literal["en", "zh"], message: str, request: Callable[[], Intake | None]
) -> Intake | None:
    """A question for the policy assistant, or None. Sensitive matters and asking for a person go there
    (a person in HR takes them) unless the message is a confident request about someone else ("dismiss
    Tom Baker for harassment"); a policy topic goes there when asked as a question and it is not about
    the organisation's figures (the analytics reader's) nor a confident request."""
    routed = triage(text).route
    if routed == "policy":
        if not (POLICY_TOPIC.search(text) and POLICY_ASK.search(text)) or ORG_FIGURES.search(text):
            return None
        if GROUP.search(text) and PAST.search(text):
            return None
    if parse_question(text).query is not None:
        return None
    reading = request()
    if (
        reading is not None
        and reading.confidence >= THRESHOLD
        and (routed == "policy" or reading.fields.get("employee") not in (None, "me"))
    ):
        return None
    meaning = {
        "policy": "a policy question (for the policy assistant)",
        "sensitive": "a sensitive matter (for a person in HR)",
        "person": "asks for a person in HR",
    }[routed]
    return Intake(
        language=lang,
        intent=Intent.POLICY_QUESTION,
        question=message.strip(),
        confidence=1.0,
        understood=[f"{text} = {meaning}"],
    )


# -- requests: which kind -------------------------------------------------------------------------

ONBOARD_TRIGGER = re.compile(
    _en(
        r"onboard(?:ing)?|new (?:hire|joiner|starter|employee)|hire[sd]?|hiring|join(?:s|ing)? (?:us|the company)"
    )
    + r"|办理入职|入职|新员工|新同事|新人|招聘了|录用",
    re.I,
)
COMP_TRIGGER = re.compile(
    _en(
        r"(?:what(?:'s| is| are) (?:the )?)?market (?:rate|rates|pay|salary|salaries|data|range|value|price|benchmark|"
        r"comp|compensation)?\s*(?:for|of)|benchmark(?:ing)?(?: (?:pay|salary|salaries|comp))?(?: (?:for|of))?|"
        r"what (?:does|do|would) the market pay(?: for)?|(?:salary|pay|comp) (?:range|band|benchmark)s? for|"
        r"comp(?:ensation)? research(?: (?:for|on))?|what should we pay(?: for)?|how much should we pay|market research(?: for)?"
    )
    + r"|市场薪酬|市场薪资|市场工资|市场行情|市场价格?|薪酬调研|薪资调研|市场水平|市场薪水|市场上的?薪[资酬水]",
    re.I,
)
TERMINATION_TRIGGER = re.compile(
    _en(
        r"terminat(?:e|ed|es|ing|ion)|resign(?:ed|s|ing|ation)?|quit(?:s|ting)?|leav(?:es|ing)(?: the company| us)?|"
        r"let go|lay(?:ing)? off|laid off|dismiss(?:ed|al)?|fire[ds]?|retir(?:e|es|ed|ing|ement)|offboard(?:ing)?|"
        r"exit(?:ing|s)?|separation|end of employment|last (?:working )?day"
    )
    + r"|离职|辞职|解雇|辞退|开除|解除劳动合同|解除合同|终止劳动合同|退休|被裁|裁掉|离开公司|最后工作日|最后一天上班|合同到期|合同期满",
    re.I,
)
TRANSFER_TRIGGER = re.compile(
    _en(r"transfer(?:red|ring|s)?|reassign(?:ed|s)?|second(?:ed|ment)")
    + r"|(?:调到|调往|调入|调至|调去|转到|转入|转至|转岗|调动|调岗|划到|划入|划归)(?![\s\ue000]*[-−]?\d)",
    re.I,
)
MOVE_TRIGGER = re.compile(
    _en(
        r"(?:has |have |is |will |just )?(?:moved|moves|moving|move|relocated|relocates|relocating|relocate)"
        r"(?: house| home)?"
    )
    + r"(?P<mid>[^,\ue000]{0,40}?)\s+(?:to|into)\s+(?P<dest>[^\ue000]+)",
    re.I,
)
MANAGER_TRIGGER = re.compile(
    _en(
        r"(?:new|line|direct|reporting) manager|manager\s+(?:of\s+\S+(?:\s+\S+)?\s+)?(?:is|to|will be|should be|"
        r"becomes|changes to|changed to|now)|manager\s*[:=]|reports? (?:in)?to|reporting (?:in)?to|reporting line|"
        r"put \S+(?: \S+)? under"
    )
    + r"|(?:上级|经理|主管|领导)\s*(?:改为|改成|换成|换为|变更为|调整为|更换为|更改为|为|是|:)|汇报|由\S{1,4}(?:来)?(?:管理|带)",
    re.I,
)
SALARY_TRIGGER = re.compile(
    _en(
        r"(?:pay |salary )?(?:raise|rise|increase|bump|cut)|salary|base pay|base salary|pay|wages?|compensation|"
        r"remuneration|merit increase"
    )
    + r"|加薪|涨薪|调薪|降薪|减薪|涨工资|加工资|薪资|薪酬|薪水|工资|底薪|年薪|月薪",
    re.I,
)
SALARY_STRONG = re.compile(
    _en(r"raise|pay rise|pay increase|pay cut|salary increase|merit increase|bump")
    + r"|加薪|涨薪|调薪|降薪|减薪|涨工资|加工资",
    re.I,
)
TITLE_TRIGGER = re.compile(
    _en(r"promot(?:e|ed|es|ing|ion)|(?:job )?title|retitle|rename")
    + r"|晋升|升职|升为|升任|提拔|担任|出任|任命为|职位|职务|岗位名称|头衔|职称",
    re.I,
)
ADDRESS_TRIGGER = re.compile(
    _en(r"address(?:es)?|lives at|living at|now lives")
    + r"|地址|住址|搬到|搬去|搬家|搬至|搬进|迁至|迁到|住到|住在|现住",
    re.I,
)
ROAD_EN = (
    r"road|rd|street|st|avenue|ave|lane|ln|boulevard|blvd|drive|dr|way|place|pl|court|ct|crescent|close|"
    r"square|sq|terrace|highway|hwy|parkway|alley|walk|row|gardens?|mansions?|tower|building|estate|apartment|"
    r"apt|flat|unit|floor|block|blk"
)
ADDRESS_ZH = r"路|街|道|巷|弄|号|室|楼|栋|幢|小区|大厦|花园|公寓|村|镇|区|县"


def _looks_like_address(text: str) -> bool:
    if re.search(rf"(?:{ADDRESS_ZH})", text) and (
        re.search(r"\d", text) or re.search("路|街|巷|弄|小区", text)
    ):
        return True
    return bool(re.search(r"\d", text) and (re.search(_en(ROAD_EN), text, re.I) or "," in text))


def _kinds(text: str, known: KnownWords, dateless: str) -> list[RequestKind]:
    """Request kinds the message names, most specific first (`dateless`: the text without its dates,
    for where a move goes and whether an amount is named)."""
    found: list[RequestKind] = []
    if ONBOARD_TRIGGER.search(text):
        return [RequestKind.ONBOARDING]
    if TERMINATION_TRIGGER.search(text):
        found.append(RequestKind.TERMINATION)
    move = MOVE_TRIGGER.search(dateless)
    move_to_org = bool(
        move and not _looks_like_address(move["dest"]) and _org_value(_first_part(move["dest"]), known)
    )
    if TRANSFER_TRIGGER.search(text) or move_to_org:
        found.append(RequestKind.TRANSFER)
    if SALARY_STRONG.search(text) or (SALARY_TRIGGER.search(text) and AMOUNT.search(dateless)):
        found.append(RequestKind.SALARY_CHANGE)
    if TITLE_TRIGGER.search(text):
        found.append(RequestKind.JOB_TITLE)
    if MANAGER_TRIGGER.search(text) and RequestKind.TRANSFER not in found:
        found.append(RequestKind.MANAGER_CHANGE)
    if ADDRESS_TRIGGER.search(text) or (move and _looks_like_address(move["dest"])):
        found.append(RequestKind.ADDRESS_CHANGE)
    return found


def _first_part(text: str) -> str:
    return re.split(r"[,\ue000]", text, maxsplit=1)[0]


# -- requests: the fields of each kind --------------------------------------------------------------


def _address(st: _State, known: KnownWords) -> None:
    value = None
    patterns = [
        _rx(
            _en(r"(?:(?:new|home|residential|mailing|postal|current)\s+)*address(?:es)?")
            + r"(?:\s+(?:of|for)\s+(?P<who>[^,:\ue000]+?)(?:\s*(?=:)|\s+(?=to\b|is\b)))?"
            + r"\s*(?:(?:is now|will be|should be|changed to|changes to|has changed to|becomes|is|to|now|:|=)\s*)*"
            + r"(?P<v>[^\ue000]*)"
        ),
        _rx(_en(r"lives at|living at|now lives at|now lives in") + r"\s*(?P<v>[^\ue000]*)"),
        re.compile(
            r"(?:家庭|居住|联系|通讯|现|新的?)?(?:住址|地址)(?:信息)?\s*(?:变更为|变更成|更改为|更新为|修改为|改为|改成|换成|"
            r"变为|变成|调整为|更新一下|修改一下|改一下|变更一下|换一下|更新|变更|是|为)?\s*[:]?\s*(?P<v>[^\ue000]*)"
        ),
        re.compile(
            r"(?:搬家到|搬家至|搬家了?,?(?:新地址)?|搬到|搬去|搬至|搬进|迁至|迁到|住到|住在|现住)了?\s*[:]?\s*(?P<v>[^\ue000]*)"
        ),
        MOVE_TRIGGER,
    ]
    for pattern in patterns:
        m = pattern.search(st.text)
        if not m:
            continue
        v = m.group("dest") if "dest" in pattern.groupindex else m.group("v")
        keep = [m.span("who")] if "who" in pattern.groupindex and m.group("who") else []
        if "mid" in pattern.groupindex and m.group("mid"):
            keep.append(m.span("mid"))
        st.consume(m.start(), m.end(), None, keep)
        st.understood.append("address change")
        value = re.sub(r"(?:了|吧|啦|哦|呢)+$", "", _clean(v)).strip(" ,")
        break
    if value:
        parts = _address_parts(value, known)
        for k, v in parts.items():
            st.put(k, v)
        st.understood.append(f"{value} = address " + ", ".join(f"{k} {v}" for k, v in parts.items()))


def _address_parts(value: str, known: KnownWords) -> dict[str, str]:
    if _is_zh(value):
        return _zh_address(value, known)
    parts = [p.strip() for p in re.split(r"\s*,\s*", value) if p.strip()]
    parts = [p for p in parts if _words_left(p) or re.search(r"\d", p)]  # "please update" is no address line
    out: dict[str, str] = {}
    others: list[str] = []
    for i, part in enumerate(parts):
        low = part.lower().strip(".")
        if low in COUNTRIES or (part in ISO_ALPHA2 and i > 0):
            out.setdefault("country", COUNTRIES.get(low, part))
            continue
        city_at = None
        for written, city in _cities(known):
            if _is_zh(written):
                continue
            if m := re.search(_en(re.escape(written)), part, re.I):
                city_at = (m, city)
                break
        if city_at and "city" not in out:
            m, city = city_at
            before, after = part[: m.start()].strip(" ,"), part[m.end() :].strip(" ,")
            if before:
                others.append(before)
            out["city"] = city
            if after:
                _postcode_or_region(after, out)
            if country := CITIES.get(city):
                out.setdefault("inferred_country", country)
            continue
        if i > 0 and _postcode_like(part):
            out.setdefault("postcode", part.upper())
            continue
        others.append(part)
    if others:
        out["line1"] = others.pop(0)
    if others and "city" not in out:
        last = others.pop()
        if tail := re.search(r"\s+(\d{4,6}(?:-\d{4})?)$", last):
            out.setdefault("postcode", tail.group(1))
            last = last[: tail.start()]
        out["city"] = last
    if others:
        out["line2"] = ", ".join(others)
    inferred = out.pop("inferred_country", None)
    if inferred and "country" not in out:
        out["country"] = inferred
    return out


def _postcode_like(text: str) -> bool:
    return bool(
        re.fullmatch(r"[A-Z0-9]{2,5}(?:[ -]?[A-Z0-9]{2,4})?", text.upper()) and re.search(r"\d", text)
    )


def _postcode_or_region(text: str, out: dict[str, str]) -> None:
    if m := re.search(
        r"(\d{5,6}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d)$", text.upper()
    ):
        out.setdefault("postcode", m.group(1))
        text = text[: m.start()].strip()
    if text:
        out.setdefault("region", text)


def _zh_address(value: str, known: KnownWords) -> dict[str, str]:
    out: dict[str, str] = {}
    if m := re.search(r"(?:邮编|邮政编码)\s*[:]?\s*(\d{6})|[\s,]*(?<!\d)(\d{6})$", value):
        out["postcode"] = m.group(1) or m.group(2)
        value = (value[: m.start()] + value[m.end() :]).strip(" ,")
    value = value.removeprefix("中国").strip(" ,")
    body = re.sub(r"^[\u4e00-\u9fff]{2,3}省", "", value)
    rest = body
    for zh, city in ZH_CITIES.items():
        if body.startswith(zh):
            out["city"] = city
            out["country"] = CITIES.get(city, "")
            rest = body[len(zh) :].removeprefix("市")
            break
    else:
        if m := re.match(rf"([{HANZI}]{{2,3}}?)市", body):
            out["city"] = m.group(1)
            rest = body[m.end() :]
    if rest.strip(" ,"):  # more than a city: the address line as written (省市区 + 路 + 号)
        out["line1"] = value
    return {k: v for k, v in out.items() if v}


def _transfer(st: _State, known: KnownWords) -> None:
    _take_person_after(
        st,
        _rx(
            _en(
                r"under|reporting (?:in)?to|reports? (?:in)?to|with (?:new )?manager|(?:new |line )?manager(?: is| will be)?"
            )
        ),
        "manager",
        "new manager",
        known,
    )
    _take_person_after(
        st, re.compile(r"(?:汇报给|上级(?:为|是|改为)?|经理(?:为|是|改为)?)"), "manager", "new manager", known
    )
    _take_person_after(st, re.compile(r"向(?P<p>[\u4e00-\u9fff]{2,4}?)汇报"), "manager", "new manager", known)
    _take_city(
        st,
        known,
        "location",
        r"(?:(?:based in|relocating to|relocate to|location(?: is)?:?|in|at|to)\s+)?(?:工作地点|地点|常驻|驻)?(?:改为|为|在|:)?\s*",
    )
    for pattern in (
        re.compile(r"从(?P<v>[^,\ue000]{1,12}?(?:" + ORG_SUFFIX_ZH + r"|[A-Z]{2,6}(?:-[A-Z0-9]{1,8})+))"),
        _rx(
            _en(r"from")
            + r"\s+(?:the\s+)?(?P<v>[A-Z]{2,6}(?:-[A-Z0-9]{1,8})+|[A-Z][\w&-]*\s+(?:"
            + ORG_SUFFIX_EN
            + "))"
        ),
    ):
        st.take(pattern, "the current unit")
    patterns = [
        re.compile(
            r"(?:调到|调往|调入|调至|调去|转到|转入|转至|转岗到|转岗至|调动到|调动至|调岗到|调岗至|划到|划入|划归|加入)"
            r"(?![\s\ue000]*[-−]?\d)\s*(?P<v>[^,\ue000]+)"
        ),
        _rx(
            _en(
                r"transfer(?:red|ring|s)?|reassign(?:ed|s)?|second(?:ed)?|move[ds]?|moving|relocat(?:e|ed|es|ing)"
            )
            + r"(?:\s+(?P<who>[^,\ue000]{1,40}?))?\s+(?:to|into|over to|across to)\s+(?P<v>[^,\ue000]+)"
        ),
    ]
    for pattern in patterns:
        m = pattern.search(st.text)
        if not m:
            continue
        dest = m.group("v")
        org = _org_value(dest, known)
        keep = [m.span("who")] if "who" in pattern.groupindex and m.group("who") else []
        if org:
            st.consume(m.start(), m.end(), f"transfer to {org}", keep)
            st.put("org_unit", org)
        else:
            st.consume(m.start(), m.start("v"), "transfer", keep)
        break
    if "org_unit" not in st.fields and (found := _org_of(st.text, known)):
        st.consume(found[0], found[1], f"org unit {found[2]}")
        st.put("org_unit", found[2])
    st.take(TRANSFER_TRIGGER, "transfer")


def _manager(st: _State, known: KnownWords) -> None:
    patterns = [
        _rx(
            _en(r"(?:new\s+|line\s+|direct\s+|reporting\s+)*manager")
            + r"(?:\s+(?:of|for)\s+(?P<who>[^,\ue000]+?)(?=\s*:|\s+(?:to|is)\b))?"
            + r"\s*(?:is now|will be|should be|changes to|changed to|becomes|is|to|:|=|now)?\s*"
        ),
        _rx(_en(r"(?:now\s+|will\s+|should\s+|to\s+)?(?:reports?|reporting)\s+(?:in)?to")),
        _rx(_en(r"put|place") + r"\s+(?P<who>[^,\ue000]+?)\s+under"),
        re.compile(
            r"(?:直属)?(?:上级|经理|主管|领导|汇报对象|汇报人|汇报线|leader)\s*(?:改为|改成|换成|换为|变更为|调整为|更换为|更改为|为|是|:)?\s*"
        ),
        re.compile(r"汇报给\s*"),
    ]
    zh_around = [
        re.compile(r"(?:改为|改成|改)?向(?P<p>[\u4e00-\u9fff]{2,4}?)汇报(?:工作)?"),
        re.compile(r"(?:改)?由(?P<p>[\u4e00-\u9fff]{2,4}?)(?:来)?(?:管理|带)"),
    ]
    for pattern in zh_around:
        if _take_person_after(st, pattern, "manager", "new manager", known):
            return
    for pattern in patterns:
        for m in pattern.finditer(st.text):
            found = _person_at(st.text, m.end(), known)
            if found:
                keep = [m.span("who")] if "who" in pattern.groupindex and m.group("who") else []
                st.consume(m.start(), found[0], f"new manager {found[1]}", keep)
                # the employee is read from what is left; the manager's span is consumed
                st.put("manager", found[1])
                return
    st.take(MANAGER_TRIGGER, "manager change")


def _title(st: _State) -> None:
    stop = r"(?=\s+(?:with|effective|from|starting|on|as of|in|at|and)\b|[,\ue000]|$)"
    patterns = [
        _rx(
            _en(r"promot(?:e|ed|es|ing)")
            + r"(?:\s+(?P<who>[^,\ue000]+?))?\s+(?:to|as)\s+(?:an?\s+|the\s+)?(?P<v>[^,\ue000]+?)"
            + stop
        ),
        _rx(
            _en(r"(?:new\s+)?(?:job\s+)?title")
            + r"(?:\s+(?:of|for)\s+(?P<who>[^,\ue000]+?)(?=\s*:|\s+(?:to|is)\b))?"
            + r"\s*(?:is now|will be|should be|changes to|changed to|becomes|is|to|:|=|now|as|改为|改成|变更为|更改为|为|是)?"
            + r"\s*(?:an?\s+)?(?P<v>[^,\ue000]*?)"
            + stop
        ),
        _rx(
            _en(r"retitle|rename")
            + r"(?:\s+(?P<who>[^,\ue000]+?))?\s+(?:to|as)\s+(?:an?\s+)?(?P<v>[^,\ue000]+?)"
            + stop
        ),
        re.compile(
            r"(?:晋升为|晋升到|晋升至|晋升成|升职为|升职到|升职成|升为|升到|升任|提拔为|提升为|晋升|担任|出任|任命为)"
            r"\s*(?P<v>[^,\ue000]+)"
        ),
        re.compile(
            r"(?:职位|职务|岗位|头衔|职称|title|Title)(?:名称)?\s*(?:改为|改成|变更为|调整为|更改为|换成|变为|为|是|:)\s*(?P<v>[^,\ue000]+)"
        ),
    ]
    for pattern in patterns:
        m = pattern.search(st.text)
        if not m:
            continue
        value = _clean(m.group("v"))
        keep = [m.span("who")] if "who" in pattern.groupindex and m.group("who") else []
        st.consume(m.start(), m.end(), f"new title {value}" if value else "title change", keep)
        if value:
            st.put("new_title", value)
        return
    st.take(TITLE_TRIGGER, "title change")


def _salary(st: _State) -> None:
    if m := st.take(
        re.compile(
            r"(?:(?P<down>cut|reduce|lower|降|减)\D{0,20}?)?(?:by\s+|of\s+)?(?P<n>\d+(?:\.\d+)?)\s*%", re.I
        ),
        lambda m: f"{'-' if m['down'] else ''}{m['n']}% change",
    ):
        st.put("increase_percent", ("-" if m["down"] else "") + m["n"])
    _take_amount(st)
    while st.take(SALARY_TRIGGER, "pay change"):
        pass
    st.take(
        _rx(_en(r"give|gives|giving|raise|increase|adjust|set|change|update|cut|reduce|lower|bump|a")), None
    )


REASONS: list[tuple[TerminationReason, str]] = [
    (
        TerminationReason.BETTER_OFFER,
        _en(r"better offer|another offer|a new job|new job|competitor|offer elsewhere|better opportunity")
        + r"|跳槽|更好的机会|更好的offer|其他offer|新工作|竞争对手|另谋高就",
    ),
    (
        TerminationReason.CAREER_CHANGE,
        _en(r"career change|chang(?:e|ing) careers?") + r"|转行|职业转型|换行业",
    ),
    (
        TerminationReason.RELOCATION,
        _en(r"relocation|relocating|moving abroad|moving (?:to )?another city|family move")
        + r"|搬迁|异地|随家人迁居|移居|回老家",
    ),
    (
        TerminationReason.PERSONAL,
        _en(r"personal reasons?|family reasons?|personal") + r"|个人原因|家庭原因|私人原因",
    ),
    (
        TerminationReason.FURTHER_STUDY,
        _en(r"further stud(?:y|ies)|stud(?:y|ies)|going back to school|grad school|master'?s|mba|phd")
        + r"|进修|深造|读研|留学|继续学业|读书|考研",
    ),
    (TerminationReason.RETIREMENT, _en(r"retirement|retir(?:e|es|ed|ing)") + r"|退休"),
    (TerminationReason.PERFORMANCE, _en(r"(?:poor |under)?performance") + r"|绩效|业绩不达标|不胜任"),
    (
        TerminationReason.REDUNDANCY,
        _en(r"redundan(?:cy|t)|layoffs?|laid off|lay off|restructuring|(?:position|role) eliminated")
        + r"|裁员|被裁|岗位取消|岗位裁撤|组织调整|经济性裁员",
    ),
    (
        TerminationReason.MISCONDUCT,
        _en(r"(?:gross )?misconduct|fraud|policy violation") + r"|严重违纪|违纪|违规|违反公司制度",
    ),
    (
        TerminationReason.CONTRACT_END,
        _en(r"contract (?:end|ends|ended|expiry|expired|expires)|end of (?:the )?contract|fixed-term ends")
        + r"|合同到期|合同期满|合同终止|劳动合同到期",
    ),
]


def _termination(st: _State) -> None:
    codes = "|".join(r.value for r in TerminationReason)
    if m := st.take(
        _rx(_en(rf"(?:reason(?: code)?\s*[:=]?\s*)?({codes})")), lambda m: f"reason {m[1].lower()}"
    ):
        st.put("reason_code", m[1].lower())
    for reason, pattern in REASONS:
        if "reason_code" in st.fields:
            break
        if st.take(re.compile(pattern, re.I), f"reason {reason.value}"):
            st.put("reason_code", reason.value)
    st.take(
        re.compile(
            _en(r"(?:the )?reason(?: is| being| code)?|because(?: of)?|due to|for|as")
            + r"\s*[:]?|原因是|原因为|原因|理由是|理由|因为|由于|因",
            re.I,
        ),
        None,
    )
    said_reason = re.compile(
        _en(r"(?:the )?reason(?: is| being)?|because(?: of)?|due to")
        + r"\s*[:]?\s*(?P<v>[^\ue000]+)|(?:原因是|原因为|原因|理由是|理由|因为|由于)\s*[:]?\s*(?P<v2>[^\ue000]+)",
        re.I,
    )
    if "reason_code" not in st.fields and (m := st.take(said_reason, "reason as said (which reason code?)")):
        st.put("reason_text", _clean(m["v"] or m["v2"]))
    while st.take(TERMINATION_TRIGGER, "termination"):
        pass


def _onboarding(st: _State, known: KnownWords) -> None:
    _take_person_after(
        st,
        _rx(
            _en(r"(?:line\s+)?manager|reporting (?:in)?to|reports? (?:in)?to|under|boss") + r"\s*(?:is|:|=)?"
        ),
        "manager",
        "manager",
        known,
    )
    _take_person_after(
        st,
        re.compile(r"(?:直属经理|直属上级|经理|上级|主管|汇报给|汇报对象)\s*(?:是|为|:)?"),
        "manager",
        "manager",
        known,
    )
    _take_person_after(st, re.compile(r"向(?P<p>[\u4e00-\u9fff]{2,4}?)汇报"), "manager", "manager", known)
    if m := st.take(
        _rx(
            r"(?:(?:at\s+)?level\s*(\d{1,2})|"
            + _en(r"(?:at\s+)?(L\d{1,2})")
            + r")(?:级)?|职级\s*[:]?\s*(L?\d{1,2})"
        ),
        lambda m: "level",
    ):
        n = next(g for g in m.groups() if g)
        st.put("level", n.upper() if n.upper().startswith("L") else f"L{n}")
    stop = r"(?=\s+(?:in|at|for|on|with|under|reporting|starting|from|based|effective|joining)\b|[,\ue000]|$)"
    if m := st.take(
        _rx(_en(r"as") + r"\s+(?:an?\s+|the\s+)?(?P<v>[^,\ue000]+?)" + stop),
        lambda m: f"title {_clean(m['v'])}",
    ):
        st.put("title", _clean(m["v"]))
    org_prefix = r"(?:(?:in|to|joining|join|into)\s+(?:the\s+)?)?(?:加入|部门\s*[:]?\s*)?"
    if found := _org_of(st.text, known):
        before = re.search(org_prefix + r"$", st.text[: found[0]], re.I)
        start = found[0] - (len(before.group(0)) if before else 0)
        st.consume(start, found[1], f"org unit {found[2]}")
        st.put("org_unit", found[2])
    else:
        if m := st.take(
            _rx(
                _en(r"(?:in|to|joining|join|into)")
                + rf"\s+(?:the\s+)?(?P<v>(?:[A-Z][\w&-]*\s+){{1,3}}(?:{ORG_SUFFIX_EN}))"
                + rf"|(?:加入)?(?P<z>[{HANZI}A-Za-z]{{1,10}}?(?:{ORG_SUFFIX_ZH}))(?![{HANZI}])"
            ),
            lambda m: f"org unit {_clean(m['v'] or m['z'])}",
        ):
            st.put("org_unit", _clean(m["v"] or m["z"]))
    _take_amount(st)
    _take_city(
        st,
        known,
        "location",
        r"(?:(?:based in|based at|located in|location(?: is)?:?|in|at)\s+)?(?:工作地点|地点|base在?|常驻)?\s*(?:在|为|:)?\s*",
    )
    if "title" in st.fields:
        pass
    elif m := st.take(
        re.compile(r"(?:担任|任职|职位|岗位|职务|title)\s*(?:是|为|:)?\s*(?P<v>[^,\ue000]+)", re.I),
        lambda m: f"title {_clean(m['v'])}",
    ):
        st.put("title", _clean(m["v"]))
    else:
        for piece in re.split(r"[,\ue000]", st.text):
            piece = _clean(piece)
            if piece and (
                re.search(rf"(?:{JOB_NOUNS_ZH})$", piece)
                or re.fullmatch(rf"(?:[A-Za-z][\w&/-]*\s+){{0,4}}(?:{JOB_NOUNS_EN})s?", piece, re.I)
            ):
                at = st.text.find(piece)
                if at >= 0 and not any(p[2] == piece for p in _people_left(_State(piece), known)):
                    st.consume(at, at + len(piece), f"title {piece}")
                    st.put("title", piece)
                    break
    while st.take(ONBOARD_TRIGGER, "onboarding"):
        pass
    _new_hire_name(st, known)


def _new_hire_name(st: _State, known: KnownWords) -> None:
    people = _people_left(st, known)
    for a, b, value in people:
        if _is_zh(value) and "local_name" not in st.fields:
            st.consume(a, b, "name as written locally")
            st.put("local_name", value)
        elif not _is_zh(value) and "given_name" not in st.fields and not EMPLOYEE_ID.fullmatch(value):
            words = value.split()
            if len(words) < 2:
                continue
            st.consume(a, b, None)
            if words[0].lower() in PINYIN_SURNAMES:
                family, given = words[0], " ".join(words[1:])
                order = "family name first"
            else:
                given, family = " ".join(words[:-1]), words[-1]
                order = "given name first"
            st.understood.append(f"{value} = given name {given}, family name {family} ({order})")
            st.put("given_name", given)
            st.put("family_name", family)


def _comp_research(st: _State, known: KnownWords) -> None:
    st.take(COMP_TRIGGER, "market pay research")
    if m := st.take(
        _rx(
            _en(r"(?:in|as|with|using)\s+(?-i:([A-Z]{3}))")
            + r"|(?:用|以|按)?(人民币|美元|美金|新加坡元|新币|港币|港元|欧元|英镑|日元)(?:计算|计价|计)?"
        ),
        lambda m: "currency",
    ):
        code, problem = _currency_word(m[1] or m[2])
        if problem:
            st.problems.append(problem)
        elif code:
            st.put("currency", code)
    elif m := st.take(re.compile(rf"(?<![{EDGE}])([A-Z]{{3}})(?![{EDGE}])"), None):
        code, problem = _currency_word(m[1])
        if code:
            st.put("currency", code)
        elif problem:
            st.problems.append(problem)
    if m := st.take(
        _rx(r"(?:(?:at\s+)?level\s*(\d{1,2})|" + _en(r"(?:at\s+)?(L\d{1,2})") + r")(?:级)?"),
        "level",
    ):
        n = next(g for g in m.groups() if g)
        st.put("level", n.upper() if n.upper().startswith("L") else f"L{n}")
    _take_city(st, known, "location", r"(?:(?:in|for|at|based in)\s+)?(?:在)?")
    pieces = [_clean(p) for p in re.split(r"[,\ue000?]", st.text)]
    pieces = [p for p in pieces if _words_left(p)]
    if pieces:
        title = max(pieces, key=len)
        title = re.sub(r"^(?:(?:an?|the|for|of|what|is|are|pay|for an?)\s+)+", "", title, flags=re.I)
        title = re.sub(
            r"^(?:请问|帮我查一下|帮我查|查一下|查询|看看|一下|一个)+|(?:的|是多少|多少|怎么样|如何)+$",
            "",
            title,
        )
        title = _clean(title)
        if title:
            at = st.text.find(title)
            st.consume(at, at + len(title), f"title {title}")
            st.put("title", title)


READERS: dict[RequestKind, Callable[[_State, KnownWords], None]] = {
    RequestKind.ADDRESS_CHANGE: _address,
    RequestKind.TRANSFER: _transfer,
    RequestKind.MANAGER_CHANGE: _manager,
    RequestKind.JOB_TITLE: lambda st, known: _title(st),
    RequestKind.SALARY_CHANGE: lambda st, known: _salary(st),
    RequestKind.TERMINATION: lambda st, known: _termination(st),
    RequestKind.ONBOARDING: _onboarding,
    RequestKind.COMP_RESEARCH: _comp_research,
}


def _request(st: _State, lang: str, kind: RequestKind, today: date, known: KnownWords) -> Intake:
    if kind is not RequestKind.COMP_RESEARCH:
        dates = _take_dates(st, today)
        name = "start_date" if kind is RequestKind.ONBOARDING else "effective_on"
        _one_date(st, dates, name, shift_last_day=kind is RequestKind.TERMINATION)
    READERS[kind](st, known)
    if kind not in (RequestKind.ONBOARDING, RequestKind.COMP_RESEARCH):
        _take_employee(st, known)
    left = _words_left(st.text)
    confidence = len(st.understood) / (len(st.understood) + len(left))
    intake = Intake(
        language=lang,
        intent=Intent.REQUEST,
        kind=kind,
        fields=st.fields,
        problems=st.problems,
        confidence=round(confidence, 2),
        understood=st.understood,
        not_understood=left,
    )
    return settle(intake, today)


# -- checking what was read (the offline reading and a model's alike) ------------------------------


def _checked(
    kind: RequestKind | None, fields: dict[str, str], today: date
) -> tuple[dict[str, str], list[str]]:
    """The values that hold (normalised), and what is wrong with the others (dropped)."""
    fields = dict(fields)
    problems: list[str] = []

    def bad(name: str, problem: str) -> None:
        fields.pop(name, None)
        problems.append(problem)

    for name in ("effective_on", "start_date"):
        if name not in fields:
            continue
        try:
            day = date.fromisoformat(fields[name])
        except ValueError:
            bad(name, f"{fields[name]} is not a real date")
            continue
        if name == "start_date" and day < today:
            bad(name, f"start date {day} is in the past; onboard from today ({today}) on")
        elif day < today - MAX_BACKDATE:
            bad(name, f"{day} is more than {MAX_BACKDATE.days} days in the past")
        elif day > today + MAX_POSTDATE:
            bad(name, f"{day} is more than a year ahead")
    if "amount" in fields:
        try:
            amount = Decimal(fields["amount"].replace(",", ""))
            if amount <= 0:
                bad("amount", f"{fields['amount']}: pay must be more than zero")
            else:
                fields["amount"] = _plain(amount)
        except InvalidOperation:
            bad("amount", f"{fields['amount']} is not an amount")
    if "currency" in fields:
        code = fields["currency"].upper()
        if code in CURRENCIES:
            fields["currency"] = code
        else:
            bad(
                "currency", f"{fields['currency']} is not a currency we pay in (ISO 4217, e.g. CNY, SGD, USD)"
            )
    if "reason_code" in fields and fields["reason_code"] not in {r.value for r in TerminationReason}:
        bad("reason_code", f"{fields['reason_code']} is not a termination reason")
    if "frequency" in fields and fields["frequency"] not in {f.value for f in PayFrequency}:
        bad("frequency", f"{fields['frequency']} is not a pay frequency (annual, monthly, hourly)")
    if "country" in fields:
        fields["country"] = fields["country"].upper()
        if fields["country"] not in ISO_ALPHA2:
            bad("country", f"{fields['country']} is not a country code (e.g. CN, SG, GB, US)")
    rule = POSTCODES.get(fields.get("country", ""))
    if "postcode" in fields and rule and not rule[0].match(fields["postcode"].upper()):
        bad(
            "postcode",
            f"postcode {fields['postcode']} does not look like a {fields['country']} postcode ({rule[1]})",
        )
    if "level" in fields:
        level = fields["level"].upper() if re.fullmatch(r"[lL]\d{1,2}", fields["level"]) else fields["level"]
        fields["level"] = level
        ok = re.fullmatch(r"L\d{1,2}", level) or (
            kind is RequestKind.COMP_RESEARCH and level.lower() in ("entry", "mid", "senior", "executive")
        )
        if not ok:
            bad("level", f"{level} is not a level (L1-L9)")
    if "increase_percent" in fields:
        try:
            Decimal(fields["increase_percent"])
        except InvalidOperation:
            bad("increase_percent", f"{fields['increase_percent']} is not a percentage")
    return fields, problems


def settle(intake: Intake, today: date) -> Intake:
    """Check a reading against the request models: only the kind's fields, real dates within the
    limits, pay above zero in a currency we pay in, known codes; `missing` in the order to ask."""
    if intake.intent is Intent.DECISION and intake.decision:
        d = intake.decision
        missing = [] if d.request_id else ["request_id"]
        if d.verdict is None:
            missing.append("verdict")
        if d.verdict == "reject" and not (d.reason or "").strip():
            missing.append("reason")
        return intake.model_copy(update={"missing": missing})
    if intake.intent is not Intent.REQUEST or intake.kind is None:
        return intake.model_copy(update={"kind": None, "fields": {}, "missing": []})
    kind = intake.kind
    allowed = REQUIRED[kind] + OPTIONAL[kind]
    fields = {k: " ".join(str(v).split()) for k, v in intake.fields.items() if str(v or "").strip()}
    ignored = [k for k in fields if k not in allowed]
    fields, problems = _checked(kind, {k: v for k, v in fields.items() if k in allowed}, today)
    problems = intake.problems + problems
    required = list(REQUIRED[kind])
    if kind is RequestKind.SALARY_CHANGE and "increase_percent" in fields:
        required = [f for f in required if f not in ("amount", "currency")]  # worked out from current pay
    missing = [f for f in required if f not in fields]
    return intake.model_copy(
        update={
            "fields": fields,
            "missing": missing,
            "problems": list(dict.fromkeys(problems)),
            "not_understood": intake.not_understood + [f"field {k}" for k in ignored],
        }
    )


# -- a reply to one question --------------------------------------------------------------------


class Answer(BaseModel):
    """A reply to the one field the assistant asked for ("下周一", "CNY", "Shanghai")."""

    field: str
    value: str | None = Field(None, description="The field as read; None: the reply does not give it")
    fields: dict[str, str] = Field({}, description="Every field the reply gives (a currency with the amount)")
    problems: list[str] = []
    understood: list[str] = []


def read_answer(
    field: str, message: str, today: date, known: KnownWords | None = None, kind: RequestKind | None = None
) -> Answer:
    """Read a reply as the value of `field`, with the same readers and checks as a whole message."""
    known = known or KnownWords()
    text = _normalise(message)
    if refused := _refusal(text):
        return Answer(field=field, problems=[refused[1]])
    st = _State(" " + text + " ")
    if field in ("effective_on", "start_date"):
        _one_date(st, _take_dates(st, today), field, shift_last_day=kind is RequestKind.TERMINATION)
    elif field == "amount":
        _take_amount(st)
    elif field == "currency":
        code, problem = _currency_word(_clean(text))
        if not (code or problem) and (m := CURRENCY_APART.search(text)):
            code = ZH_CURRENCIES.get(m.group(0).lower(), m.group(0).upper())
        if problem:
            st.problems.append(problem)
        st.put("currency", code or "")
    elif field == "frequency":
        for pattern, frequency in FREQUENCY:
            if pattern.search(text) or _clean(text).lower() == frequency:
                st.put("frequency", frequency)
    elif field == "reason_code":
        _termination(st)
    elif field == "country":
        said = _clean(text)
        st.put("country", COUNTRIES.get(said.lower(), said.upper() if said.upper() in ISO_ALPHA2 else ""))
        if "country" not in st.fields:
            st.problems.append(f"{said} is not a country I know: give its ISO code (CN, SG, GB, US)")
    elif field in ("employee", "manager"):
        found = _person_at(st.text, 0, known)
        st.put(field, found[1] if found and not _clean(st.text[found[0] :]) else _clean(text))
    elif field == "org_unit":
        st.put("org_unit", _org_value(text, known) or _clean(text))
    elif field in ("location", "city"):
        if not _take_city(st, known, field, r"(?:(?:in|at|based in)\s+)?(?:在)?"):
            st.put(field, _clean(text))
    elif field == "level":
        if m := re.fullmatch(r"\s*(?:level\s*|L|职级\s*)?(\d{1,2})\s*级?\s*", text, re.I):
            st.put("level", f"L{m.group(1)}")
        else:
            st.put("level", _clean(text))
    elif field in ("given_name", "family_name") and len(_clean(text).split()) > 1:
        _new_hire_name(st, known)
    else:
        st.put(field, _clean(text))
    fields, problems = _checked(kind, st.fields, today)
    problems = list(dict.fromkeys(st.problems + problems))
    if field not in fields and not problems:
        choices = (
            f" (one of: {', '.join(r.value for r in TerminationReason)})" if field == "reason_code" else ""
        )
        problems.append(f"'{_clean(text)}' does not give the {field.replace('_', ' ')}{choices}")
    return Answer(
        field=field,
        value=fields.get(field),
        fields=fields,
        problems=problems,
        understood=st.understood,
    )


# -- the reader -----------------------------------------------------------------------------------

EXAMPLES = [
    (
        "Wang Fang moved to 2 Jinke Road, Shanghai 201203 from next Monday",
        "王芳下周一起地址改为上海市浦东新区金科路2号",
    ),
    ("promote E1003 to Senior Engineer effective 2026-12-01", "王芳晋升为高级数据工程师,12月1日生效"),
    ("transfer E1003 to ENG-DATA from 1 December", "把E1003调到ENG-DATA,12月1日生效"),
    ("E1003 reports to E1001 from next Monday", "王芳下周一起向陈静汇报"),
    ("give Li Wei a raise to 360000 CNY from 1 December", "给李伟加薪到36万人民币,12月1日生效"),
    ("Tom Baker resigned, last day 30 November, better offer", "王芳离职,最后工作日11月30日,原因:个人原因"),
    (
        "onboard Zhang Wei as Data Analyst in ENG-DATA starting 2026-12-07, manager E1002, Shanghai, 300000 CNY",
        "张伟12月7日入职,数据分析师,ENG-DATA,经理E1002,上海,年薪30万人民币",
    ),
    ("market for a Senior Data Scientist in Shanghai, in CNY", "上海高级数据科学家的市场薪酬"),
    ("approve REQ-12", "批准 REQ-12"),
    ("reject REQ-12 because the budget is frozen", "驳回 REQ-12 原因:预算不足"),
    ("where is REQ-12?", "REQ-12 进度"),
    ("my approvals", "我的审批"),
    ("headcount by department", "这个月我们单位的学习数据如何?"),
    ("help", "帮助"),
]


def nearest_messages(message: str, lang: str, n: int = 3) -> list[str]:
    """Messages this reader understands that read most like the one given."""
    pool = [zh if lang == "zh" else en for en, zh in EXAMPLES]
    return difflib.get_close_matches(message, pool, n=n, cutoff=0.0)[:n]


def read(message: str, today: date, known: KnownWords | None = None) -> Intake:
    """Read one chat message into an `Intake` (offline, deterministic, never a guess).

    In this order: a refusal (instructions to the assistant, changes for everyone) before anything
    else; help; a status look-up (REQ-12 进度, my approvals); a decision (approve REQ-12); market
    research; a policy question or a sensitive matter (handed over as typed; also a decision that names
    no request, "通过试用期后有什么福利?"); a data question (handed over as typed); one request kind and
    its fields. Two kinds in one message, or too much left unread (confidence below THRESHOLD), is
    `unknown` with the nearest messages understood."""
    known = known or KnownWords()
    text = _normalise(message)
    lang: Literal["en", "zh"] = "zh" if _is_zh(text) else "en"
    if not text:
        return _unknown(message, lang, _State(""), "the message is empty")
    if refused := _refusal(text):
        said, why = refused
        return Intake(
            language=lang, intent=Intent.REFUSE, refusal=why, confidence=1.0, understood=[f"{said} = refused"]
        )
    if HELP.match(text):
        return Intake(language=lang, intent=Intent.HELP, confidence=1.0, understood=[f"{text} = help"])
    st = _State(" " + text + " ")
    probe = _State(st.text)
    _take_dates(probe, today)  # "move E1042 to Finance from 1 Jan": the destination is Finance
    kinds = _kinds(text, known, probe.text)
    one = kinds[0] if len(kinds) == 1 else None

    def policy() -> Intake | None:
        return _policy(
            text, lang, message, lambda: one and _request(_State(st.text), lang, one, today, known)
        )

    if status := _status(_State(st.text), lang, known):
        return status
    if decision := _decision(_State(st.text), lang):
        # "通过试用期后有什么福利?" starts like "通过" (approve) but names no request: a policy question
        if decision.decision and decision.decision.request_id is None and (asked := policy()):
            return asked
        return decision
    if COMP_TRIGGER.search(text) and not (ONBOARD_TRIGGER.search(text) or REQUEST_ID.search(text)):
        return _request(st, lang, RequestKind.COMP_RESEARCH, today, known)
    if asked := policy():
        return asked
    data = _is_data_question(text)
    if data and (not kinds or DATA_CUE.search(text) or QUESTION_FORM.search(text)):
        return Intake(
            language=lang,
            intent=Intent.DATA_QUESTION,
            question=message.strip(),
            confidence=1.0,
            understood=[f"{text} = a data question (for the analytics reader)"],
        )
    if not kinds:
        move = MOVE_TRIGGER.search(probe.text)
        if move:
            dest = _clean(_first_part(move["dest"]))
            return _unknown(
                message,
                lang,
                st,
                f"'{dest}': a new home address or a transfer? Say 'address' with the street, or the unit",
            )
        return _unknown(message, lang, st, None)
    if len(kinds) > 1:
        shown = " and ".join(k.value.replace("_", " ") for k in kinds)
        return _unknown(
            message, lang, st, f"this reads as more than one change ({shown}): send one at a time"
        )
    intake = _request(st, lang, kinds[0], today, known)
    if intake.confidence < THRESHOLD:
        return _unknown(message, lang, st, None, intake)
    return intake


def _unknown(
    message: str, lang: str, st: _State, clarify: str | None, reading: Intake | None = None
) -> Intake:
    left = reading.not_understood if reading else _words_left(st.text)
    return Intake(
        language=lang,
        intent=Intent.UNKNOWN,
        confidence=reading.confidence if reading else 0.0,
        understood=reading.understood if reading else [],
        not_understood=left,
        clarify=clarify,
        nearest=nearest_messages(message, lang),
    )
