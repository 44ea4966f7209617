"""Approval rules as data: change type x size x employee level -> approver chain.

`rules.yaml` beside this module ships the defaults; `HROPS_APPROVAL_RULES` points at a company's
own file. The file is validated when loaded (unknown keys, unknown change types or steps, a change
type no rule covers are errors naming their place), and `match()` says which rule applies and why.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools import yaml_problems

SHIPPED = Path(__file__).with_name("rules.yaml")


class ChangeType(StrEnum):
    ADDRESS_CHANGE = "address_change"
    JOB_TITLE = "job_title"
    TRANSFER = "transfer"
    MANAGER_CHANGE = "manager_change"
    SALARY_CHANGE = "salary_change"
    TERMINATION = "termination"
    ONBOARDING = "onboarding"
    ONBOARDING_PLAN = "onboarding_plan"
    COMP_RESEARCH = "comp_research"  # a market benchmark and recommended range, before it leaves HR


class Step(StrEnum):
    """Who decides a step, by their relation to the change."""

    MANAGER = "manager"
    SKIP_LEVEL = "skip_level"
    NEW_MANAGER = "new_manager"
    HRBP = "hrbp"
    HR_OPS = "hr_ops"
    COMP_ANALYST = "comp_analyst"
    ADMIN = "admin"


_LEVEL = re.compile(r"^L(\d{1,2})$")


def in_words(d: timedelta) -> str:
    """`2 days`, `36 hours`, `90 minutes`: how people say a timer."""
    seconds = int(d.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def level_number(level: str | None) -> int | None:
    m = _LEVEL.match(level or "")
    return int(m[1]) if m else None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timers(Strict):
    remind_after: timedelta = timedelta(days=2)
    escalate_after: timedelta = timedelta(days=4)
    close_after: timedelta = timedelta(days=7)

    @model_validator(mode="after")
    def _ordered(self) -> Timers:
        if not timedelta(0) < self.remind_after <= self.escalate_after <= self.close_after:
            raise ValueError("timers must grow: 0 < remind_after <= escalate_after <= close_after")
        return self


class When(Strict):
    """All given conditions must hold."""

    change: ChangeType
    increase_over_percent: Decimal | None = Field(None, description="salary: rise above this percentage")
    outside_pay_band: bool | None = Field(None, description="salary: new pay outside the level's band")
    level_at_least: str | None = Field(None, description="the employee's level, e.g. L7")
    level_below: str | None = None

    @model_validator(mode="after")
    def _levels(self) -> When:
        for name in ("level_at_least", "level_below"):
            value = getattr(self, name)
            if value is not None and level_number(value) is None:
                raise ValueError(f"{name}: {value!r} is not a level like L7")
        salary_only = self.increase_over_percent is not None or self.outside_pay_band is not None
        if salary_only and self.change is not ChangeType.SALARY_CHANGE:
            raise ValueError("increase_over_percent and outside_pay_band apply to change: salary_change only")
        return self


class Rule(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: When
    chain: list[Step] = Field(description="Steps in order; [] approves without people (auto-approval)")
    why: str
    timers: Timers | None = None

    @model_validator(mode="after")
    def _no_repeats(self) -> Rule:
        if len(set(self.chain)) != len(self.chain):
            raise ValueError("a step appears twice in the chain")
        return self


class RuleSet(Strict):
    version: int = 1
    timers: Timers = Timers()
    rules: Annotated[list[Rule], Field(min_length=1)]

    @model_validator(mode="after")
    def _complete(self) -> RuleSet:
        names = [r.name for r in self.rules]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        # Every change type needs a rule that always applies to it, or some change would have none.
        unconditional = {r.when.change for r in self.rules if _unconditional(r.when)}
        if missing := [c.value for c in ChangeType if c not in unconditional]:
            raise ValueError(
                f"no rule without conditions for: {', '.join(missing)} (add one as the last rule for each)"
            )
        return self


def _unconditional(w: When) -> bool:
    return all(v is None for k, v in w.model_dump().items() if k != "change")


class ChangeFacts(BaseModel):
    """What the rules look at."""

    change: ChangeType
    level: str | None = None
    increase_percent: Decimal | None = None  # salary: (new - old) / old * 100
    outside_pay_band: bool | None = None  # salary: None when the level has no band


class Match(BaseModel):
    rule: str
    chain: list[Step]
    why: str
    timers: Timers
    considered: list[str]  # earlier rules for the same change, and why each did not apply


class RulesError(ValueError):
    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = str(path), problems
        super().__init__(f"{path}: " + "; ".join(problems))


def parse(text: str, path: Path | str = "<rules>") -> RuleSet:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RulesError(path, [f"not valid YAML: {e}"]) from None
    try:
        return RuleSet.model_validate(data)
    except ValidationError as e:
        hint = "see the comments in tools/approvals/rules.yaml"
        problems = yaml_problems.problems(e, data, lambda node: node.get("name"), hint)
        raise RulesError(path, problems) from None


def load(path: Path | None = None) -> RuleSet:
    """The rules in force; read and checked again only when the file changed (every request asks)."""
    path = path or SHIPPED
    if not path.exists():
        raise RulesError(path, ["no such file"])
    return _parsed(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int) -> RuleSet:
    return parse(path.read_text(encoding="utf-8"), path)


def _misses(w: When, f: ChangeFacts) -> str | None:
    """Why this rule's conditions do not hold for the facts (None: they hold)."""
    if w.increase_over_percent is not None and (
        f.increase_percent is None or f.increase_percent <= w.increase_over_percent
    ):
        shown = "unknown" if f.increase_percent is None else f"{f.increase_percent:.1f}%"
        return f"the increase ({shown}) is not above {w.increase_over_percent}%"
    if w.outside_pay_band is not None and f.outside_pay_band is not w.outside_pay_band:
        state = {None: "unknown (no band for the level)", True: "outside", False: "inside"}[
            f.outside_pay_band
        ]
        return f"the new pay is {state} the band"
    level = level_number(f.level)
    if w.level_at_least is not None and (level is None or level < level_number(w.level_at_least)):  # type: ignore[operator]
        return f"the level ({f.level or 'unknown'}) is below {w.level_at_least}"
    if w.level_below is not None and (level is None or level >= level_number(w.level_below)):  # type: ignore[operator]
        return f"the level ({f.level or 'unknown'}) is not below {w.level_below}"
    return None


def match(rules: RuleSet, facts: ChangeFacts) -> Match:
    considered = []
    for rule in rules.rules:
        if rule.when.change is not facts.change:
            continue
        if why_not := _misses(rule.when, facts):
            considered.append(f"{rule.name}: not this one, {why_not}")
            continue
        return Match(
            rule=rule.name,
            chain=list(rule.chain),
            why=rule.why,
            timers=rule.timers or rules.timers,
            considered=considered,
        )
    raise AssertionError("RuleSet validation guarantees a rule for every change type")  # pragma: no cover
