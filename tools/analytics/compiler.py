"""Typed query -> SQL, as a sqlglot AST, for SQLite and Postgres.

Every statement the compiler builds is one aggregate over one measure for one period, grouped by
the asked dimensions, with the asker's scope always added as a condition on the org unit of the job
that places each person (the job in force on the day that counts). Values are literals in the AST
(never text pasted into SQL); names come from the catalogue. Ratios, comparisons, top-N and shares
are worked out from these results, in `engine.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from tools.analytics.catalogue import Metric

EMPLOYEE_DIMS = {
    "location": ("j", "location"),
    "job_family": ("j", "job_family"),
    "job_title": ("j", "title"),
    "level": ("j", "level"),
    "gender": ("e", "gender"),
}
LEARNING = {
    "learning_hours",
    "enrolments",
    "completions",
    "completions_of_enrolments",
    "active_learners",
    "mandatory_overdue",
    "mandatory_due",
    "mandatory_on_time",
    "mandatory_completions",
}
PAY = {"base_pay", "compa_ratio"}
STOCK = {"employees", "tenure_years", *PAY}
FACT = "fact"  # a number imported with each employee (employee_facts), named by the metric's `fact`
# Pay is compared as a yearly amount whatever its frequency (hourly: a full-time year of 2,080 hours).
PER_YEAR = {"monthly": 12, "hourly": 2080}
NO_MANAGER = "(no manager)"
WITHDRAWN_OFFER = "offer_withdrawn"


@dataclass(frozen=True)
class Scope:
    """The org units the asker may see (None: all), and how to say it."""

    org_ids: frozenset[int] | None
    label: str
    label_zh: str = ""


@dataclass(frozen=True)
class Grouping:
    """How org units roll up when grouping by org unit: unit id -> the label of its group."""

    org_labels: dict[int, str]


def col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def lit(value: object) -> exp.Expression:
    if isinstance(value, date):
        return exp.Literal.string(value.isoformat())
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def in_force(alias: str, day: exp.Expression) -> exp.Expression:
    """Half-open effective dating: valid_from <= day < valid_to (or open-ended)."""
    return exp.and_(
        exp.LTE(this=col(alias, "valid_from"), expression=day),
        exp.or_(
            exp.Is(this=col(alias, "valid_to"), expression=exp.Null()),
            exp.GT(this=col(alias, "valid_to"), expression=day),
        ),
    )


def between(column: exp.Expression, start: date, end: date) -> exp.Expression:
    return exp.Between(this=column, low=lit(start), high=lit(end))


def _org_table(grouping: Grouping) -> exp.Expression:
    """Unit id -> group label as a joined table (a join, not a CASE per row: fast at any size).
    VALUES columns are column1, column2 in both SQLite and Postgres."""
    rows = sorted(grouping.org_labels.items()) or [(-1, "(none)")]
    values = exp.values([(unit, label) for unit, label in rows], alias="v")
    inner = exp.select(exp.column("column1").as_("unit_id"), exp.column("column2").as_("label")).from_(
        values, copy=False
    )
    return inner.subquery("g", copy=False)


def dim_expr(name: str, grouping: Grouping) -> exp.Expression:
    if name == "org_unit":
        return col("g", "label")
    if name == "course_category":
        return col("c", "category")
    if name == "course":
        return col("c", "title")
    if name == "manager":
        return exp.Coalesce(this=col("m", "display_name"), expressions=[lit(NO_MANAGER)])
    table, column = EMPLOYEE_DIMS[name]
    return col(table, column)


def per_year(amount: exp.Expression, frequency: exp.Expression) -> exp.Expression:
    case = exp.Case(this=frequency)
    for freq, times in PER_YEAR.items():
        case = case.when(lit(freq), exp.Mul(this=amount.copy(), expression=lit(times)))
    return case.else_(amount)


def _employees_on(day: exp.Expression) -> exp.Select:
    """Employees with the job in force on `day`."""
    return (
        exp.select()
        .from_(exp.to_table("employees").as_("e"))
        .join(
            exp.to_table("job_assignments").as_("j"),
            on=exp.and_(exp.EQ(this=col("j", "employee_id"), expression=col("e", "id")), in_force("j", day)),
        )
    )


def _stock(measure: str, end: date) -> tuple[exp.Select, exp.Expression]:
    """Stock measures, as of `end`: the statement and each person's value."""
    day = lit(end)
    q = _employees_on(day)
    if measure == "employees":
        return q, col("e", "id")
    if measure == "tenure_years":
        days = exp.DateDiff(this=day, expression=col("e", "hire_date"), unit=exp.var("DAY"))
        return q, exp.Div(this=days, expression=lit(365.25))
    q = q.join(
        exp.to_table("compensation").as_("p"),
        on=exp.and_(exp.EQ(this=col("p", "employee_id"), expression=col("e", "id")), in_force("p", day)),
    )
    pay = per_year(col("p", "base_amount"), col("p", "frequency"))
    if measure == "base_pay":
        return q, pay
    # compa_ratio: pay over the midpoint of the band for the job's level and location, in the same
    # currency; people without such a band are not counted (the provenance's population says so).
    q = q.join(
        exp.to_table("pay_bands").as_("b"),
        on=exp.and_(
            exp.EQ(this=col("b", "level"), expression=col("j", "level")),
            exp.EQ(this=col("b", "location"), expression=col("j", "location")),
            exp.EQ(this=col("b", "currency"), expression=col("p", "currency")),
            in_force("b", day),
        ),
    )
    return q, exp.Div(this=pay, expression=per_year(col("b", "mid_amount"), col("b", "frequency")))


def _moves(metric: Metric, measure: str, start: date, end: date) -> exp.Select:
    """Hires (placed by the first job) and leavers (by the last job) in [start, end]."""
    e, j = "e", "j"
    q = exp.select()
    if measure == "hires":
        place = exp.EQ(this=col(j, "valid_from"), expression=col(e, "hire_date"))
        q = q.where(between(col(e, "hire_date"), start, end))
    else:
        place = exp.EQ(this=col(j, "valid_to"), expression=col(e, "termination_date"))
        q = q.where(between(col(e, "termination_date"), start, end)).where(
            exp.or_(
                exp.Is(this=col(e, "leaver_reason"), expression=exp.Null()),
                exp.NEQ(this=col(e, "leaver_reason"), expression=lit(WITHDRAWN_OFFER)),
            )
        )
        if lt := metric.filter.get("leaver_type"):
            q = q.where(exp.EQ(this=col(e, "leaver_type"), expression=lit(lt)))
    return q.from_(exp.to_table("employees").as_(e)).join(
        exp.to_table("job_assignments").as_(j),
        on=exp.and_(exp.EQ(this=col(j, "employee_id"), expression=col(e, "id")), place),
    )


# Learning measures: the day that places a record in the period (and in an org unit).
LEARNING_DAY = {
    "learning_hours": "completed_on",
    "completions": "completed_on",
    "mandatory_completions": "completed_on",
    "enrolments": "enrolled_on",
    "completions_of_enrolments": "enrolled_on",
    "active_learners": "enrolled_on",
    "mandatory_due": "due_on",
    "mandatory_on_time": "due_on",
    "mandatory_overdue": None,
}


def _learning(measure: str, start: date, end: date, joins: set[str]) -> tuple[exp.Select, exp.Expression]:
    """Learning records (withdrawn ones never count): the statement and the aggregate. The employee
    and the course are joined only when `joins` asks for them (a split by gender, by course)."""
    l = "l"  # noqa: E741 - the learning record
    event = LEARNING_DAY[measure]
    placed_on: exp.Expression = col(l, event) if event else lit(end)
    if measure == "active_learners":
        placed_on = exp.Coalesce(
            this=exp.Case().when(between(col(l, "enrolled_on"), start, end), col(l, "enrolled_on")),
            expressions=[col(l, "completed_on")],
        )
    q = exp.select().from_(exp.to_table("learning_records").as_(l))
    if "e" in joins:
        q = q.join(
            exp.to_table("employees").as_("e"),
            on=exp.EQ(this=col("e", "id"), expression=col(l, "employee_id")),
        )
    if "c" in joins or measure.startswith("mandatory_"):
        q = q.join(
            exp.to_table("courses").as_("c"), on=exp.EQ(this=col("c", "id"), expression=col(l, "course_id"))
        )
    q = q.join(
        exp.to_table("job_assignments").as_("j"),
        on=exp.and_(
            exp.EQ(this=col("j", "employee_id"), expression=col(l, "employee_id")), in_force("j", placed_on)
        ),
    ).where(exp.NEQ(this=col(l, "status"), expression=lit("withdrawn")))
    mandatory = exp.EQ(this=col("c", "mandatory"), expression=exp.Boolean(this=True))
    count: exp.Expression = exp.Count(this=exp.Star())
    if measure == "mandatory_overdue":
        q = (
            q.where(mandatory)
            .where(exp.Is(this=col(l, "completed_on"), expression=exp.Null()))
            .where(exp.LT(this=col(l, "due_on"), expression=lit(end)))
        )
        return q, count
    if measure == "active_learners":
        q = q.where(
            exp.or_(between(col(l, "enrolled_on"), start, end), between(col(l, "completed_on"), start, end))
        )
        return q, exp.Count(this=exp.Distinct(expressions=[col(l, "employee_id")]))
    q = q.where(between(col(l, event), start, end))
    if measure.startswith("mandatory_"):
        q = q.where(mandatory)
    return q, learning_value(measure, end)


def learning_value(measure: str, end: date) -> exp.Expression:
    """The aggregate of a batchable learning measure over its records (conditions as CASE, so the
    measures of one batch share one statement)."""
    l = "l"  # noqa: E741
    if measure == "learning_hours":
        return exp.Sum(this=col(l, "hours"))
    done_by = {"completions_of_enrolments": lit(end), "mandatory_on_time": col(l, "due_on")}.get(measure)
    if done_by is None:
        return exp.Count(this=exp.Star())
    done = exp.LTE(this=col(l, "completed_on"), expression=done_by)
    return exp.Sum(this=exp.Case().when(done, lit(1)).else_(lit(0)))


def batch_key(measure: str) -> tuple[str, bool] | None:
    """Learning measures with the same key come from the same records (same day column, same
    mandatory filter): one statement computes them together."""
    event = LEARNING_DAY.get(measure)
    if event is None or measure == "active_learners":
        return None
    return event, measure.startswith("mandatory_")


def _fact(name: str, end: date) -> tuple[exp.Select, exp.Expression]:
    """Each employee's latest observation of fact `name` on or before `end`, placed by the job held
    the day before it was taken (a file taken on a day describes the people employed up to it,
    those leaving that day included): valid_from < as_of <= valid_to, without date arithmetic."""
    f, f2 = "f", "f2"
    latest = (
        exp.select(exp.Max(this=col(f2, "as_of")))
        .from_(exp.to_table("employee_facts").as_(f2))
        .where(exp.EQ(this=col(f2, "employee_id"), expression=col(f, "employee_id")))
        .where(exp.EQ(this=col(f2, "name"), expression=lit(name)))
        .where(exp.LTE(this=col(f2, "as_of"), expression=lit(end)))
    )
    held = exp.and_(
        exp.EQ(this=col("j", "employee_id"), expression=col("e", "id")),
        exp.LT(this=col("j", "valid_from"), expression=col(f, "as_of")),
        exp.or_(
            exp.Is(this=col("j", "valid_to"), expression=exp.Null()),
            exp.GTE(this=col("j", "valid_to"), expression=col(f, "as_of")),
        ),
    )
    q = (
        exp.select()
        .from_(exp.to_table("employee_facts").as_(f))
        .join(
            exp.to_table("employees").as_("e"),
            on=exp.EQ(this=col("e", "id"), expression=col(f, "employee_id")),
        )
        .join(exp.to_table("job_assignments").as_("j"), on=held)
        .where(exp.EQ(this=col(f, "name"), expression=lit(name)))
        .where(exp.EQ(this=col(f, "as_of"), expression=exp.Subquery(this=latest)))
    )
    return q, col(f, "value")


def build(
    metric: Metric,
    measure: str,
    start: date,
    end: date,
    dims: list[str],
    filters: dict[str, list[str]],
    scope_ids: frozenset[int] | None,
    grouping: Grouping,
    row_cap: int,
    members: bool = False,
    also: tuple[str, ...] = (),
) -> exp.Select:
    """One aggregate: `measure` over [start, end] (stock measures: as of `end`), grouped by `dims`.
    `members`: instead of the aggregate, the people behind each group (for differencing checks).
    `also`: more measures of the same `batch_key`, selected beside it as `value_<measure>`."""
    person = col("l" if measure in LEARNING else "e", "employee_id" if measure in LEARNING else "id")
    people = exp.Count(this=exp.Distinct(expressions=[person]))
    row_value: exp.Expression | None = None
    if measure in STOCK:
        q, row_value = _stock(measure, end)
        value: exp.Expression = {"count": people, "avg": exp.Avg(this=row_value), "median": row_value}[
            metric.aggregate
        ]
        if measure == "employees":
            value = people
    elif measure in ("hires", "leavers"):
        q, value = _moves(metric, measure, start, end), people
    elif measure in LEARNING:
        asked = {*dims, *filters}
        joins = {"e"} if asked & {"gender"} else set()
        joins |= {"c"} if asked & {"course", "course_category"} else set()
        q, value = _learning(measure, start, end, joins)
    elif measure == FACT:
        q, row_value = _fact(metric.fact or "", end)
        value = {"count": people, "sum": exp.Sum(this=row_value), "avg": exp.Avg(this=row_value)}.get(
            metric.aggregate, row_value
        )
    else:  # pragma: no cover - the catalogue names only these
        raise ValueError(f"unknown measure {measure}")

    # From here the statement is built in place (copy=False): the org roll-up table can hold
    # thousands of rows, and each builder call would otherwise copy the whole tree.
    if "org_unit" in dims or "org_unit" in filters:
        # `+ 0` keeps the planner from driving the query from the roll-up table through the index
        # on org_unit_id (visiting every record of every unit); it starts from the period instead.
        unit = exp.Add(this=col("j", "org_unit_id"), expression=lit(0))
        q = q.join(_org_table(grouping), on=exp.EQ(this=col("g", "unit_id"), expression=unit), copy=False)
    if "manager" in dims or "manager" in filters:
        q = q.join(
            exp.to_table("employees").as_("m"),
            on=exp.EQ(this=col("m", "id"), expression=col("j", "manager_id")),
            join_type="left",
            copy=False,
        )
    if scope_ids is not None:
        q = q.where(
            exp.In(
                this=col("j", "org_unit_id"), expressions=[lit(i) for i in sorted(scope_ids)] or [lit(-1)]
            ),
            copy=False,
        )
    for name, values in filters.items():
        q = q.where(exp.In(this=dim_expr(name, grouping), expressions=[lit(v) for v in values]), copy=False)
    keys = [dim_expr(name, grouping) for name in dims]
    names = [f"g{i}" for i in range(len(dims))]
    if measure == "base_pay":  # pay in different currencies is never added up (a compa-ratio has no unit)
        keys.append(col("p", "currency"))
        names.append("currency")
    if members:
        return q.select(
            *(k.copy().as_(n) for k, n in zip(keys, names, strict=True)),
            person.copy().as_("member"),
            copy=False,
        ).distinct(copy=False)
    if metric.aggregate == "median" and row_value is not None:
        return _median(q, keys, names, row_value, row_cap)
    for k, n in zip(keys, names, strict=True):
        q = q.select(k.copy().as_(n), copy=False).group_by(k, copy=False)
    extra = [learning_value(m, end).as_(f"value_{m}") for m in also]
    return q.select(value.as_("value"), *extra, people.as_("people"), copy=False).limit(row_cap, copy=False)


def _median(
    q: exp.Select, keys: list[exp.Expression], names: list[str], row_value: exp.Expression, row_cap: int
) -> exp.Select:
    """The median per group with window functions (SQLite has no MEDIAN): number the values in each
    group, keep the middle one (or the middle two, averaged)."""
    partition = [k.copy() for k in keys]
    rn = exp.Window(
        this=exp.RowNumber(),
        partition_by=partition,
        order=exp.Order(expressions=[exp.Ordered(this=row_value.copy())]),
    )
    n = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[k.copy() for k in keys])
    inner = q.select(
        *(k.copy().as_(name) for k, name in zip(keys, names, strict=True)),
        row_value.copy().as_("v"),
        rn.as_("rn"),
        n.as_("n"),
        copy=False,
    ).subquery("ranked", copy=False)
    middle = [
        exp.IntDiv(this=exp.paren(exp.Add(this=exp.column("n"), expression=lit(k))), expression=lit(2))
        for k in (1, 2)
    ]
    out = (
        exp.select(*(exp.column(name) for name in names))
        .from_(inner)
        .where(exp.In(this=exp.column("rn"), expressions=middle))
    )
    for name in names:
        out = out.group_by(exp.column(name))
    return out.select(
        exp.Avg(this=exp.column("v")).as_("value"), exp.Max(this=exp.column("n")).as_("people")
    ).limit(row_cap)
