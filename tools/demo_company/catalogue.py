"""The fixed shape of the demo company: divisions, locations, levels, pay, courses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    name_zh: str
    weight: float  # share of teams
    family: str
    departments: tuple[tuple[str, str, str], ...]  # (name, name_zh, role noun)


DIVISIONS = (
    Division(
        "ENG",
        "Engineering",
        "工程部",
        0.30,
        "Engineering",
        (
            ("Platform", "平台", "Software Engineer"),
            ("Data", "数据", "Data Engineer"),
            ("Mobile", "移动", "Mobile Engineer"),
            ("Web", "前端", "Frontend Engineer"),
            ("Infrastructure", "基础设施", "Site Reliability Engineer"),
            ("Security", "安全", "Security Engineer"),
            ("Quality", "质量", "QA Engineer"),
            ("AI", "人工智能", "Data Scientist"),
        ),
    ),
    Division(
        "PRD",
        "Product",
        "产品部",
        0.08,
        "Product",
        (
            ("Product Management", "产品管理", "Product Manager"),
            ("Design", "设计", "Product Designer"),
            ("User Research", "用户研究", "UX Researcher"),
        ),
    ),
    Division(
        "SAL",
        "Sales",
        "销售部",
        0.20,
        "Sales",
        (
            ("Enterprise Sales", "大客户销售", "Account Executive"),
            ("Mid-Market", "中型客户", "Account Manager"),
            ("Channel", "渠道", "Channel Manager"),
            ("Sales Operations", "销售运营", "Sales Operations Analyst"),
        ),
    ),
    Division(
        "MKT",
        "Marketing",
        "市场部",
        0.07,
        "Marketing",
        (
            ("Brand", "品牌", "Brand Specialist"),
            ("Growth", "增长", "Growth Marketer"),
            ("Content", "内容", "Content Specialist"),
        ),
    ),
    Division(
        "OPS",
        "Operations",
        "运营部",
        0.14,
        "Operations",
        (
            ("Customer Support", "客户支持", "Support Specialist"),
            ("Supply Chain", "供应链", "Supply Chain Analyst"),
            ("Facilities", "行政", "Facilities Coordinator"),
        ),
    ),
    Division(
        "FIN",
        "Finance",
        "财务部",
        0.08,
        "Finance",
        (
            ("Accounting", "会计", "Accountant"),
            ("FP&A", "财务规划", "Financial Analyst"),
            ("Tax", "税务", "Tax Specialist"),
        ),
    ),
    Division(
        "HR",
        "Human Resources",
        "人力资源部",
        0.08,
        "Human Resources",
        (
            ("HR Operations", "人事运营", "HR Operations Specialist"),
            ("Talent Acquisition", "招聘", "Recruiter"),
            ("Compensation & Benefits", "薪酬福利", "Compensation Analyst"),
            ("Learning", "培训", "Learning Specialist"),
        ),
    ),
    Division(
        "LEG",
        "Legal",
        "法务部",
        0.05,
        "Legal",
        (("Commercial Legal", "商务法务", "Legal Counsel"), ("Compliance", "合规", "Compliance Officer")),
    ),
)


@dataclass(frozen=True)
class Location:
    city: str
    country: str
    currency: str
    pay_factor: float  # local pay relative to New York, before currency
    fx: float  # units of local currency per USD
    weight: float
    chinese_names: float  # share of Chinese names among people here
    phone: str  # format with {n} digits filled in


LOCATIONS = (
    Location("Shanghai", "CN", "CNY", 0.52, 7.1, 0.30, 0.95, "+86 13{n9}"),
    Location("Beijing", "CN", "CNY", 0.52, 7.1, 0.18, 0.95, "+86 15{n9}"),
    Location("Shenzhen", "CN", "CNY", 0.48, 7.1, 0.14, 0.95, "+86 18{n9}"),
    Location("Singapore", "SG", "SGD", 0.85, 1.34, 0.13, 0.45, "+65 9{n7}"),
    Location("London", "GB", "GBP", 0.80, 0.79, 0.13, 0.12, "+44 7700 9{n5}"),
    Location("New York", "US", "USD", 1.00, 1.0, 0.12, 0.10, "+1 212 555 {n4}"),
)
LOCATION_BY_CITY = {loc.city: loc for loc in LOCATIONS}

# Streets and postcodes that look right for each city (addresses are invented).
STREETS = {
    "Shanghai": (
        [
            "Century Avenue",
            "Zhangyang Road",
            "Huaihai Middle Road",
            "Nanjing West Road",
            "Hongqiao Road",
            "Longhua Middle Road",
            "Siping Road",
            "Jinke Road",
        ],
        "200{n3}",
    ),
    "Beijing": (
        [
            "Zhongguancun Street",
            "Chang'an Avenue",
            "Xueyuan Road",
            "Chaoyang Road",
            "Wangjing Street",
            "Haidian Road",
        ],
        "100{n3}",
    ),
    "Shenzhen": (
        ["Shennan Avenue", "Keyuan Road", "Binhai Avenue", "Nanhai Avenue", "Xinzhou Road"],
        "518{n3}",
    ),
    "Singapore": (
        ["Orchard Road", "Tanjong Pagar Road", "Bukit Timah Road", "Marine Parade Road", "Holland Road"],
        "{n6}",
    ),
    "London": (
        ["Old Street", "Camden Road", "Mare Street", "Upper Street", "Holloway Road", "Brixton Road"],
        "E{d} {d}{L}{L}",
    ),
    "New York": (
        ["W 23rd Street", "Amsterdam Avenue", "Lexington Avenue", "Bedford Avenue", "Atlantic Avenue"],
        "100{n2}",
    ),
}

LEVELS = ("L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9")
# Individual contributors by level (share of team members).
IC_LEVEL_WEIGHTS = {"L1": 0.10, "L2": 0.24, "L3": 0.26, "L4": 0.22, "L5": 0.13, "L6": 0.05}
IC_PREFIX = {"L1": "Junior ", "L2": "", "L3": "", "L4": "Senior ", "L5": "Staff ", "L6": "Principal "}
IC_SUFFIX = {"L3": " II"}
# New York base pay in USD by level; families and locations scale it.
BASE_USD = {
    "L1": 52_000,
    "L2": 68_000,
    "L3": 86_000,
    "L4": 108_000,
    "L5": 136_000,
    "L6": 165_000,
    "L7": 210_000,
    "L8": 270_000,
    "L9": 420_000,
}
FAMILY_PAY = {
    "Engineering": 1.12,
    "Product": 1.08,
    "Sales": 0.98,
    "Marketing": 0.92,
    "Operations": 0.80,
    "Finance": 0.96,
    "Human Resources": 0.88,
    "Legal": 1.10,
}

# Pay bands: the family-neutral midpoint of a level at a location, +/- 25%. Families pay up to
# 12% above or below it, so a few people sit near the edges, as in real companies.
BAND_SPREAD = 0.25


def pay_bands(since: date) -> Iterator[dict]:
    """One band per level and location, in local currency, rounded to the hundred."""
    for loc in LOCATIONS:
        for level, usd in BASE_USD.items():
            mid = round(usd * loc.pay_factor * loc.fx, -2)
            yield {
                "level": level,
                "location": loc.city,
                "currency": loc.currency,
                "frequency": "annual",
                "min_amount": Decimal(str(round(mid * (1 - BAND_SPREAD), -2))),
                "mid_amount": Decimal(str(mid)),
                "max_amount": Decimal(str(round(mid * (1 + BAND_SPREAD), -2))),
                "valid_from": since,
                "valid_to": None,
            }


VOLUNTARY_REASONS = (
    "better_offer",
    "better_offer",
    "career_change",
    "relocation",
    "personal",
    "further_study",
)
INVOLUNTARY_REASONS = ("performance", "redundancy", "misconduct", "contract_end")


@dataclass(frozen=True)
class CourseSpec:
    id: str
    title: str
    title_zh: str
    category: str
    hours: float
    mandatory: bool
    delivery: str
    assessed: bool


COURSES = (
    CourseSpec("C-COC-100", "Code of Conduct", "员工行为准则", "compliance", 1.0, True, "online", True),
    CourseSpec(
        "C-SEC-101", "Information Security Awareness", "信息安全意识", "security", 1.5, True, "online", True
    ),
    CourseSpec(
        "C-HAR-100", "Preventing Harassment at Work", "预防职场骚扰", "compliance", 1.0, True, "online", True
    ),
    CourseSpec(
        "C-PRV-110", "Data Privacy Essentials", "数据隐私基础", "compliance", 1.5, True, "online", True
    ),
    CourseSpec(
        "C-HSE-100",
        "Workplace Health and Safety",
        "职场健康与安全",
        "health_safety",
        1.0,
        True,
        "online",
        True,
    ),
    CourseSpec("C-SEC-201", "Secure Coding", "安全编码", "security", 6.0, False, "online", True),
    CourseSpec(
        "C-SEC-210",
        "Phishing Defence Workshop",
        "钓鱼邮件防范实战",
        "security",
        2.0,
        False,
        "classroom",
        False,
    ),
    CourseSpec(
        "C-TEC-201", "Python for Data Analysis", "Python 数据分析", "technical", 12.0, False, "online", True
    ),
    CourseSpec("C-TEC-205", "SQL Fundamentals", "SQL 基础", "technical", 8.0, False, "online", True),
    CourseSpec(
        "C-TEC-210", "Cloud Architecture Basics", "云架构基础", "technical", 10.0, False, "blended", True
    ),
    CourseSpec(
        "C-TEC-220", "Machine Learning in Practice", "机器学习实战", "technical", 16.0, False, "online", True
    ),
    CourseSpec(
        "C-TEC-230", "Kubernetes Operations", "Kubernetes 运维", "technical", 12.0, False, "blended", True
    ),
    CourseSpec(
        "C-TEC-240",
        "Testing and Quality Engineering",
        "测试与质量工程",
        "technical",
        8.0,
        False,
        "online",
        True,
    ),
    CourseSpec("C-TEC-250", "Excel for Business", "商务 Excel", "technical", 4.0, False, "online", True),
    CourseSpec(
        "C-LDR-301", "First-Time Manager", "新任经理必修", "leadership", 16.0, False, "classroom", False
    ),
    CourseSpec(
        "C-LDR-310", "Coaching Conversations", "教练式对话", "leadership", 6.0, False, "classroom", False
    ),
    CourseSpec(
        "C-LDR-320", "Leading Through Change", "变革领导力", "leadership", 8.0, False, "blended", False
    ),
    CourseSpec("C-LDR-330", "Giving Feedback", "有效反馈", "leadership", 3.0, False, "online", False),
    CourseSpec("C-LDR-340", "Hiring Well", "高效招聘面试", "leadership", 4.0, False, "classroom", False),
    CourseSpec("C-PRD-201", "Product Discovery", "产品探索", "product", 6.0, False, "online", False),
    CourseSpec("C-PRD-210", "Know Our Platform", "平台产品知识", "product", 3.0, False, "online", True),
    CourseSpec("C-PRD-220", "Customer Empathy", "客户同理心", "product", 2.0, False, "classroom", False),
    CourseSpec("C-SAL-201", "Consultative Selling", "顾问式销售", "sales", 8.0, False, "classroom", True),
    CourseSpec("C-SAL-210", "Negotiation Skills", "谈判技巧", "sales", 6.0, False, "classroom", False),
    CourseSpec(
        "C-FIN-201",
        "Finance for Non-Finance Managers",
        "非财务经理的财务课",
        "business",
        6.0,
        False,
        "online",
        True,
    ),
    CourseSpec(
        "C-BUS-210", "Project Management Fundamentals", "项目管理基础", "business", 8.0, False, "online", True
    ),
    CourseSpec("C-BUS-220", "Presenting with Impact", "高效演示", "business", 4.0, False, "classroom", False),
    CourseSpec("C-BUS-230", "Writing for Business", "商务写作", "business", 3.0, False, "online", False),
    CourseSpec("C-LAN-101", "Business English I", "商务英语 I", "language", 20.0, False, "blended", True),
    CourseSpec("C-LAN-102", "Business English II", "商务英语 II", "language", 20.0, False, "blended", True),
    CourseSpec("C-LAN-110", "Mandarin for Beginners", "初级中文", "language", 20.0, False, "blended", True),
    CourseSpec("C-WEL-100", "Managing Stress", "压力管理", "wellbeing", 1.5, False, "online", False),
    CourseSpec("C-WEL-110", "Mindful Working", "正念工作", "wellbeing", 2.0, False, "online", False),
    CourseSpec("C-DEI-100", "Inclusion at Work", "职场包容", "compliance", 1.5, False, "online", False),
    CourseSpec("C-HSE-200", "First Aid at Work", "职场急救", "health_safety", 6.0, False, "classroom", True),
    CourseSpec("C-HRS-201", "Employment Law Update", "劳动法更新", "compliance", 3.0, False, "online", True),
)
MANDATORY = tuple(c for c in COURSES if c.mandatory)
ANNUAL = tuple(c for c in MANDATORY if c.id in {"C-COC-100", "C-SEC-101", "C-PRV-110"})  # every year
ONBOARDING = tuple(c for c in MANDATORY if c not in ANNUAL)  # once, when joining
ELECTIVE = tuple(c for c in COURSES if not c.mandatory)
# How likely an enrolment in each category ends completed.
COMPLETION = {
    "compliance": 0.92,
    "security": 0.85,
    "health_safety": 0.88,
    "technical": 0.68,
    "leadership": 0.78,
    "product": 0.8,
    "sales": 0.75,
    "business": 0.72,
    "language": 0.5,
    "wellbeing": 0.65,
}
# Relative enrolments by month: busy after New Year and in autumn, quiet in August and December.
MONTH_WEIGHT = {
    1: 1.3,
    2: 0.9,
    3: 1.4,
    4: 1.1,
    5: 1.0,
    6: 0.9,
    7: 0.8,
    8: 0.45,
    9: 1.3,
    10: 1.15,
    11: 1.3,
    12: 0.5,
}
# Around Chinese New Year (late Jan to mid Feb) China locations nearly stop training.
CNY_QUIET = 0.25
