"""The metric catalogue (`catalogue.yaml`): metrics and dimensions with their definitions, units,
English and Chinese names, synonyms and sensitivity. Loaded once, validated on load."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools import yaml_problems

SHIPPED = Path(__file__).with_name("catalogue.yaml")
MIN_GROUP = 5  # sensitive figures of fewer people than this are suppressed
# Compiler measures a ratio may use directly (no metric of their own: alone they would mislead).
RATIO_PARTS = {"average_headcount", "completions_of_enrolments", "mandatory_due", "mandatory_on_time"}


class Sensitivity(StrEnum):
    INTERNAL = "internal"
    SENSITIVE = "sensitive"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(Strict):
    en: list[str] = []
    zh: list[str] = []


class Metric(Strict):
    kind: Literal["stock", "flow", "ratio"]
    measure: str | None = None  # stock / flow: what the compiler counts
    fact: str | None = None  # measure `fact`: which employee fact (employee_facts.name) it reads
    aggregate: Literal["count", "sum", "avg", "median"] = "count"
    filter: dict[str, str] = {}
    of: str | None = None  # ratio: numerator metric (or a compiler measure)
    per: str | None = None  # ratio: denominator
    unit: str
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    en: str
    zh: str
    synonyms: Names = Names()
    definition: str

    @model_validator(mode="after")
    def _shape(self) -> Metric:
        if self.kind == "ratio" and not (self.of and self.per):
            raise ValueError("a ratio needs `of` and `per`")
        if self.kind != "ratio" and not self.measure:
            raise ValueError(f"a {self.kind} metric needs a `measure`")
        if (self.measure == "fact") != (self.fact is not None):
            raise ValueError("`fact` names the employee fact of a metric with `measure: fact`, and only then")
        return self


class Dimension(Strict):
    en: str
    zh: str
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    learning_only: bool = False
    synonyms: Names = Names()


class Catalogue(Strict):
    version: int
    fiscal_year_starts: int = Field(1, ge=1, le=12)
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]

    @model_validator(mode="after")
    def _ratios_resolve(self) -> Catalogue:
        parts = set(self.metrics) | RATIO_PARTS
        for name, m in self.metrics.items():
            for part in (m.of, m.per):
                if part and part not in parts:
                    raise ValueError(f"metric {name}: {part!r} is neither a metric nor a compiler measure")
        return self


class CatalogueError(ValueError):
    pass


def parse(text: str, path: Path | str = "<catalogue>") -> Catalogue:
    data = yaml.safe_load(text)
    try:
        return Catalogue.model_validate(data)
    except ValidationError as e:
        problems = yaml_problems.problems(e, data, lambda node: None, "see tools/analytics/catalogue.yaml")
        raise CatalogueError(f"{path}: " + "; ".join(problems)) from None


@lru_cache(maxsize=4)
def load(path: Path = SHIPPED) -> Catalogue:
    return parse(path.read_text(encoding="utf-8"), path)
