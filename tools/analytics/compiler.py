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
}
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
    inner = exp.select(exp.column("column1").as_("unit_id"), exp.column("column2").as_("label")).from_(values)
    return inner.subquery("g")


def dim_expr(name: str, grouping: Grouping) -> exp.Expression:
    if name == "org_unit":
        return col("g", "label")
    if name == "course_category":
        return col("c", "category")
    table, column = EMPLOYEE_DIMS[name]
    return col(table, column)


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
) -> exp.Select:
    """One aggregate: `measure` over [start, end] (stock measures: as of `end`), grouped by `dims`."""
    e, j = "e", "j"
    q = exp.select()
    day: exp.Expression
    value: exp.Expression
    people = exp.Count(this=exp.Distinct(expressions=[col(e, "id")]))
    if measure in ("employees", "tenure_years", "base_pay"):
        day = lit(end)
        q = q.from_(exp.to_table("employees").as_(e)).join(
            exp.to_table("job_assignments").as_(j),
            on=exp.and_(exp.EQ(this=col(j, "employee_id"), expression=col(e, "id")), in_force(j, day)),
        )
        if measure == "employees":
            value = exp.Count(this=exp.Distinct(expressions=[col(e, "id")]))
        elif measure == "tenure_years":
            days = exp.DateDiff(this=lit(end), expression=col(e, "hire_date"), unit=exp.var("DAY"))
            value = exp.Avg(this=exp.Div(this=days, expression=lit(365.25)))
        else:
            q = q.join(
                exp.to_table("compensation").as_("p"),
                on=exp.and_(
                    exp.EQ(this=col("p", "employee_id"), expression=col(e, "id")), in_force("p", day)
                ),
            )
            value = exp.Avg(this=col("p", "base_amount"))
            q = q.select(col("p", "currency").as_("currency")).group_by(col("p", "currency"))
    elif measure in ("hires", "leavers"):
        if measure == "hires":
            when = col(e, "hire_date")
            place = exp.EQ(this=col(j, "valid_from"), expression=col(e, "hire_date"))
            q = q.where(between(when, start, end))
        else:
            when = col(e, "termination_date")
            place = exp.EQ(this=col(j, "valid_to"), expression=col(e, "termination_date"))
            q = q.where(between(when, start, end)).where(
                exp.or_(
                    exp.Is(this=col(e, "leaver_reason"), expression=exp.Null()),
                    exp.NEQ(this=col(e, "leaver_reason"), expression=lit(WITHDRAWN_OFFER)),
                )
            )
            if lt := metric.filter.get("leaver_type"):
                q = q.where(exp.EQ(this=col(e, "leaver_type"), expression=lit(lt)))
        q = q.from_(exp.to_table("employees").as_(e)).join(
            exp.to_table("job_assignments").as_(j),
            on=exp.and_(exp.EQ(this=col(j, "employee_id"), expression=col(e, "id")), place),
        )
        value = exp.Count(this=exp.Distinct(expressions=[col(e, "id")]))
    elif measure in LEARNING:
        l = "l"  # noqa: E741 - the learning record
        event = {
            "learning_hours": "completed_on",
            "completions": "completed_on",
            "enrolments": "enrolled_on",
            "completions_of_enrolments": "enrolled_on",
            "active_learners": "enrolled_on",
            "mandatory_overdue": None,
        }[measure]
        placed_on: exp.Expression = col(l, event) if event else lit(end)
        if measure == "active_learners":
            placed_on = exp.Coalesce(
                this=exp.Case().when(between(col(l, "enrolled_on"), start, end), col(l, "enrolled_on")),
                expressions=[col(l, "completed_on")],
            )
        q = (
            q.from_(exp.to_table("learning_records").as_(l))
            .join(
                exp.to_table("employees").as_(e),
                on=exp.EQ(this=col(e, "id"), expression=col(l, "employee_id")),
            )
            .join(
                exp.to_table("courses").as_("c"),
                on=exp.EQ(this=col("c", "id"), expression=col(l, "course_id")),
            )
            .join(
                exp.to_table("job_assignments").as_(j),
                on=exp.and_(
                    exp.EQ(this=col(j, "employee_id"), expression=col(e, "id")), in_force(j, placed_on)
                ),
            )
            .where(exp.NEQ(this=col(l, "status"), expression=lit("withdrawn")))
        )
        if measure == "mandatory_overdue":
            q = (
                q.where(exp.EQ(this=col("c", "mandatory"), expression=exp.Boolean(this=True)))
                .where(exp.Is(this=col(l, "completed_on"), expression=exp.Null()))
                .where(exp.LT(this=col(l, "due_on"), expression=lit(end)))
            )
            value = exp.Count(this=exp.Star())
        elif measure == "active_learners":
            q = q.where(
                exp.or_(
                    between(col(l, "enrolled_on"), start, end), between(col(l, "completed_on"), start, end)
                )
            )
            value = exp.Count(this=exp.Distinct(expressions=[col(l, "employee_id")]))
        else:
            q = q.where(between(col(l, event), start, end))
            if measure == "completions_of_enrolments":
                q = q.where(exp.LTE(this=col(l, "completed_on"), expression=lit(end)))
            value = (
                exp.Sum(this=col(l, "hours")) if measure == "learning_hours" else exp.Count(this=exp.Star())
            )
    else:  # pragma: no cover - the catalogue names only these
        raise ValueError(f"unknown measure {measure}")

    if "org_unit" in dims or "org_unit" in filters:
        q = q.join(
            _org_table(grouping), on=exp.EQ(this=col("g", "unit_id"), expression=col(j, "org_unit_id"))
        )
    if scope_ids is not None:
        q = q.where(
            exp.In(this=col(j, "org_unit_id"), expressions=[lit(i) for i in sorted(scope_ids)] or [lit(-1)])
        )
    for name, values in filters.items():
        q = q.where(exp.In(this=dim_expr(name, grouping), expressions=[lit(v) for v in values]))
    for i, name in enumerate(dims):
        expr = dim_expr(name, grouping)
        q = q.select(expr.copy().as_(f"g{i}")).group_by(expr)
    return q.select(value.as_("value"), people.as_("people")).limit(row_cap)
