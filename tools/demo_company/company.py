"""Generate the demo company in memory: org tree, people, and their effective-dated history.

Deterministic: every concern draws from its own `random.Random` seeded with `"<seed>:<concern>"`,
and nothing iterates over hash-ordered sets. The org shape is fixed for the whole history;
people are hired, promoted, transferred, paid and leave within it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from tools.demo_company import catalogue as cat
from tools.demo_company import names

TEAM_SIZE = 9  # average people per team, head included
MIN_EMPLOYEES = 60


@dataclass
class Unit:
    id: int
    code: str
    name: str
    name_zh: str
    kind: str
    parent: Unit | None
    division: cat.Division | None
    role: str | None = None  # role noun of the department's people
    location: cat.Location | None = None
    head: Person | None = None

    @property
    def path(self) -> str:
        return (self.parent.path if self.parent else "/") + f"{self.id}/"

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1


@dataclass
class Segment:
    start: date
    unit: Unit
    level: str
    reason: str  # hire, transfer, promotion


@dataclass
class PayRow:
    start: date
    amount: float
    currency: str
    reason: str  # hire, merit, promotion, relocation


@dataclass
class Home:
    start: date
    line1: str
    city: str
    postcode: str
    country: str


@dataclass
class Person:
    key: int
    chinese: bool
    given: str
    family: str
    display: str
    gender: str
    hire: date
    head_of: Unit | None = None
    termination: date | None = None
    leaver_type: str | None = None
    leaver_reason: str | None = None
    birth: date | None = None
    segments: list[Segment] = field(default_factory=list)
    pay: list[PayRow] = field(default_factory=list)
    homes: list[Home] = field(default_factory=list)
    id: str = ""
    username: str = ""
    phone: str = ""
    personal_email: str = ""
    national_id: str = ""


@dataclass
class Company:
    units: list[Unit]
    people: list[Person]  # sorted by employee id
    as_of: date
    start: date


def _rng(seed: int, concern: str) -> random.Random:
    return random.Random(f"{seed}:{concern}")


def _weighted(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# -- the org tree ------------------------------------------------------------------------------


def build_org(employees: int, seed: int) -> list[Unit]:
    rng = _rng(seed, "org")
    units: list[Unit] = []

    def add(**kw) -> Unit:
        unit = Unit(id=len(units) + 1, **kw)
        units.append(unit)
        return unit

    root = add(
        code="ACME",
        name="Acme Group",
        name_zh="艾克美集团",
        kind="company",
        parent=None,
        division=None,
        location=cat.LOCATIONS[0],
    )
    n_teams = max(len(cat.DIVISIONS), round(employees / TEAM_SIZE))
    total_weight = sum(d.weight for d in cat.DIVISIONS)
    for d in cat.DIVISIONS:
        div = add(
            code=d.code,
            name=d.name,
            name_zh=d.name_zh,
            kind="division",
            parent=root,
            division=d,
            location=cat.LOCATIONS[0],
        )
        teams = max(1, round(n_teams * d.weight / total_weight))
        n_depts = min(max(1, math.ceil(teams / 4)), len(d.departments) * 3)
        depts = []
        for i in range(n_depts):
            name, name_zh, role = d.departments[i % len(d.departments)]
            series = i // len(d.departments)
            suffix, suffix_zh = (f" {series + 1}", f"{series + 1}") if series else ("", "")
            code = f"{d.code}-{''.join(w[0] for w in name.replace('&', ' ').split()).upper()}{series + 1 if series else ''}"
            depts.append(
                add(
                    code=code,
                    name=name + suffix,
                    name_zh=name_zh + suffix_zh + "部",
                    kind="department",
                    parent=div,
                    division=d,
                    role=role,
                    location=cat.LOCATIONS[0],
                )
            )
        for t in range(teams):
            dept = depts[t % len(depts)]
            n = t // len(depts) + 1
            loc = rng.choices(cat.LOCATIONS, weights=[loc.weight for loc in cat.LOCATIONS])[0]
            add(
                code=f"{dept.code}-T{n}",
                name=f"{dept.name} {loc.city} Team {n}",
                name_zh=f"{dept.name_zh}{loc_zh(loc)}{n}组",
                kind="team",
                parent=dept,
                division=d,
                role=dept.role,
                location=loc,
            )
    return units


def loc_zh(loc: cat.Location) -> str:
    return {
        "Shanghai": "上海",
        "Beijing": "北京",
        "Shenzhen": "深圳",
        "Singapore": "新加坡",
        "London": "伦敦",
        "New York": "纽约",
    }[loc.city]


# -- people ------------------------------------------------------------------------------------


def _name(rng: random.Random, chinese: bool) -> tuple[str, str, str, str]:
    """(given, family, display, gender); Chinese names are stored in pinyin with a hanzi display name."""
    if chinese:
        fam_hz, fam = rng.choice(names.CN_FAMILY)
        giv_hz, giv, gender = rng.choice(names.CN_GIVEN)
        return giv, fam, fam_hz + giv_hz, gender
    giv, gender = rng.choice(names.EN_GIVEN)
    fam = rng.choice(names.EN_FAMILY)
    return giv, fam, f"{giv} {fam}", gender


def _person(rng: random.Random, key: int, loc: cat.Location, hire: date) -> Person:
    chinese = rng.random() < loc.chinese_names
    given, family, display, gender = _name(rng, chinese)
    return Person(
        key=key, chinese=chinese, given=given, family=family, display=display, gender=gender, hire=hire
    )


def _title(unit: Unit, level: str, head: bool) -> str:
    if head:
        if unit.kind == "company":
            return "Chief Executive Officer"
        if unit.kind == "division":
            return f"VP, {unit.name}"
        if unit.kind == "department":
            return f"Director, {unit.name}"
        return f"{unit.parent.name if unit.parent else ''} Manager".strip()
    role = unit.role or "Specialist"
    return f"{cat.IC_PREFIX.get(level, '')}{role}{cat.IC_SUFFIX.get(level, '')}"


HEAD_LEVEL = {"company": "L9", "division": "L8", "department": "L7", "team": "L6"}


def _team_history(
    rng: random.Random, p: Person, team: Unit, level: str, start: date, end: date, teams: list[Unit]
) -> None:
    """Events inside [start, end): promotions and transfers, generated backwards from the final state."""
    events: list[tuple[date, str]] = []
    first = max(p.hire + timedelta(days=120), start)
    if first < end:
        span = (end - first).days
        for _ in range(max(1, round(span / 365))):
            if rng.random() < 0.10:
                events.append((first + timedelta(days=rng.randrange(span)), "promotion"))
            if rng.random() < 0.06:
                events.append((first + timedelta(days=rng.randrange(span)), "transfer"))
    events.sort(key=lambda e: e[0])
    # Apply backwards: the state after the last event is the final one.
    states = [(team, level)]
    for _day, kind in reversed(events):
        cur_team, cur_level = states[-1]
        if kind == "promotion" and cur_level != "L1":
            states.append((cur_team, cat.LEVELS[cat.LEVELS.index(cur_level) - 1]))
        elif kind == "transfer":
            same_div = [t for t in teams if t.division is cur_team.division and t is not cur_team]
            pool = same_div if same_div and rng.random() < 0.7 else [t for t in teams if t is not cur_team]
            states.append((rng.choice(pool), cur_level))
        else:
            states.append(states[-1])
    states.reverse()
    p.segments.append(Segment(p.hire, states[0][0], states[0][1], "hire"))
    for (day, kind), (t, lv) in zip(events, states[1:], strict=True):
        prev = p.segments[-1]
        if (t, lv) == (prev.unit, prev.level):
            continue
        if day <= prev.start:
            day = prev.start + timedelta(days=1)
        p.segments.append(Segment(day, t, lv, kind))


def _pay_history(rng: random.Random, p: Person, until: date) -> None:
    spread = rng.uniform(0.88, 1.12)

    def price(seg: Segment) -> tuple[float, str]:
        loc = seg.unit.location or cat.LOCATIONS[0]
        family = seg.unit.division.family if seg.unit.division else "Engineering"
        amount = cat.BASE_USD[seg.level] * cat.FAMILY_PAY[family] * loc.pay_factor * loc.fx * spread
        return round(amount, -2), loc.currency

    amount, currency = price(p.segments[0])
    p.pay.append(PayRow(p.hire, amount, currency, "hire"))
    changes: list[tuple[date, str, Segment | None]] = [(s.start, s.reason, s) for s in p.segments[1:]]
    year = p.hire.year
    while (review := date(year, 4, 1)) < until:
        if (review - p.hire).days >= 180:
            changes.append((review, "merit", None))
        year += 1
    changes.sort(key=lambda c: (c[0], c[1]))
    for day, reason, seg in changes:
        last = p.pay[-1]
        if reason == "merit":
            new, cur = round(last.amount * rng.uniform(1.02, 1.06), -2), last.currency
        elif reason == "promotion":
            new, cur = round(last.amount * rng.uniform(1.08, 1.14), -2), last.currency
        else:  # transfer: re-priced only when it moves country
            new, cur = price(seg) if seg else (last.amount, last.currency)
            if cur == last.currency:
                continue
            reason = "relocation"
        if day == last.start:
            p.pay[-1] = PayRow(day, new, cur, last.reason if last.reason != "merit" else reason)
        else:
            p.pay.append(PayRow(day, new, cur, reason))


def _fill(spec: str, rng: random.Random) -> str:
    out = spec
    for n in range(9, 1, -1):
        out = out.replace("{n" + str(n) + "}", f"{rng.randrange(10**n):0{n}d}")
    out = out.replace("{d}", str(rng.randrange(1, 10)))
    while "{L}" in out:
        out = out.replace("{L}", rng.choice("ABDEFGHJLNPQRSTUWXYZ"), 1)
    return out


def _home(rng: random.Random, loc: cat.Location, start: date) -> Home:
    streets, postcode = cat.STREETS[loc.city]
    if loc.country == "CN":
        line1 = f"Room {rng.randrange(1, 30)}{rng.randrange(1, 9):02d}, {rng.randrange(1, 999)} {rng.choice(streets)}"
    elif loc.country == "SG":
        line1 = f"#{rng.randrange(2, 40):02d}-{rng.randrange(1, 99):02d}, {rng.randrange(1, 500)} {rng.choice(streets)}"
    elif loc.country == "GB":
        line1 = f"Flat {rng.randrange(1, 40)}, {rng.randrange(1, 300)} {rng.choice(streets)}"
    else:
        line1 = (
            f"Apt {rng.randrange(1, 20)}{rng.choice('ABCDEF')}, {rng.randrange(1, 900)} {rng.choice(streets)}"
        )
    return Home(start, line1, loc.city, _fill(postcode, rng), loc.country)


def _national_id(rng: random.Random, p: Person, loc: cat.Location) -> str:
    """Well-formed and obviously fake: CN region 999999 does not exist; QQ is the UK's sample
    NI prefix; SSNs starting 9 are never issued."""
    assert p.birth is not None
    if loc.country == "CN":
        body = f"999999{p.birth:%Y%m%d}{rng.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    if loc.country == "SG":
        return f"S{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHIZJ')}"
    if loc.country == "GB":
        return f"QQ{rng.randrange(10**6):06d}{rng.choice('ABCD')}"
    return f"9{rng.randrange(10, 99)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"


def generate(employees: int, seed: int, as_of: date, years: int) -> Company:
    """The whole company except learning records. Exactly `employees` people are active on `as_of`."""
    if employees < MIN_EMPLOYEES:
        raise ValueError(f"a demo company needs at least {MIN_EMPLOYEES} employees (got {employees})")
    start = as_of - timedelta(days=round(365.25 * years))
    units = build_org(employees, seed)
    teams = [u for u in units if u.kind == "team"]
    rng = _rng(seed, "people")
    people: list[Person] = []

    # Heads hold their unit for the whole history.
    for unit in units:
        loc = unit.location or cat.LOCATIONS[0]
        head = _person(rng, len(people), loc, start - timedelta(days=rng.randrange(200, 4000)))
        head.head_of = unit
        unit.head = head
        head.segments.append(Segment(head.hire, unit, HEAD_LEVEL[unit.kind], "hire"))
        people.append(head)
    members = employees - len(people)
    if members < len(teams):
        raise ValueError(f"{employees} employees is too few for {len(teams)} teams")

    weights = [rng.uniform(0.6, 1.4) for _ in teams]
    window = (as_of - start).days
    for i in range(members):
        team = teams[i] if i < len(teams) else rng.choices(teams, weights=weights)[0]
        tenure = min(int(rng.expovariate(1 / (3.5 * 365))), 15 * 365)
        p = _person(rng, len(people), team.location, as_of - timedelta(days=tenure))
        level = _weighted(rng, cat.IC_LEVEL_WEIGHTS)
        _team_history(rng, p, team, level, start, as_of, teams)
        people.append(p)

    # Leavers: about 12% voluntary and 3% involuntary a year, more of them early in the year.
    for _ in range(round(employees * 0.15 * years)):
        team = rng.choices(teams, weights=weights)[0]
        left = start + timedelta(days=rng.randrange(1, window))
        if left.month > 6 and rng.random() < 0.2:  # bonus season: some leave in Q1 instead
            left = date(left.year + 1, rng.randrange(1, 4), rng.randrange(1, 28))
            if left >= as_of:
                left = as_of - timedelta(days=rng.randrange(1, 60))
        tenure = max(30, int(rng.expovariate(1 / (2.5 * 365))))
        p = _person(rng, len(people), team.location, left - timedelta(days=tenure))
        p.termination = left
        if rng.random() < 0.8:
            p.leaver_type, p.leaver_reason = "voluntary", rng.choice(cat.VOLUNTARY_REASONS)
        else:
            p.leaver_type, p.leaver_reason = "involuntary", rng.choice(cat.INVOLUNTARY_REASONS)
        _team_history(rng, p, team, _weighted(rng, cat.IC_LEVEL_WEIGHTS), start, left, teams)
        people.append(p)

    personal = _rng(seed, "personal")
    taken: dict[str, int] = {}
    people.sort(key=lambda p: (p.hire, p.key))
    for number, p in enumerate(people, start=100001):
        p.id = f"E{number}"
        loc = p.segments[0].unit.location or cat.LOCATIONS[0]
        p.birth = p.hire - timedelta(days=personal.randrange(22 * 365, 48 * 365))
        if p.leaver_reason and p.birth < (p.termination or as_of) - timedelta(days=58 * 365):
            p.leaver_reason = "retirement"
        base = f"{p.given}.{p.family}".lower().replace(" ", "").replace("'", "")
        taken[base] = taken.get(base, 0) + 1
        p.username = base if taken[base] == 1 else f"{base}{taken[base]}"
        p.phone = _fill(loc.phone, personal)
        p.personal_email = f"{p.given.lower()}{p.family.lower()}{personal.randrange(10, 99)}@example.com"
        p.national_id = _national_id(personal, p, loc)
        _pay_history(personal, p, p.termination or as_of + timedelta(days=1))
        p.homes.append(_home(personal, loc, p.hire))
        end = p.termination or as_of
        for seg in p.segments[1:]:  # a move to another city means a new home
            if seg.unit.location and seg.unit.location.city != p.homes[-1].city and seg.start < end:
                p.homes.append(_home(personal, seg.unit.location, seg.start))
        moved = max(start, p.hire) + timedelta(days=personal.randrange(30, 800))
        if personal.random() < 0.25 and moved < end and moved > p.homes[-1].start:
            p.homes.append(_home(personal, seg_location(p, moved), moved))
    return Company(units=units, people=people, as_of=as_of, start=start)


def seg_location(p: Person, day: date) -> cat.Location:
    loc = p.segments[0].unit.location
    for seg in p.segments:
        if seg.start <= day:
            loc = seg.unit.location
    return loc or cat.LOCATIONS[0]


def manager_of(p: Person, unit: Unit) -> Person | None:
    """Members report to their team's head; a head reports to the head of the unit above."""
    if p.head_of is not None:
        return unit.parent.head if unit.parent else None
    return unit.head


def title_of(p: Person, seg: Segment) -> str:
    return _title(seg.unit, seg.level, p.head_of is not None)
