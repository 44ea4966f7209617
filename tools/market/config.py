"""Market research settings as data: source weights, aging, location differentials, places, the
pay-equity threshold (`market.yaml` beside this module; `<var_dir>/market/market.yaml` replaces it
when present). Every file is checked when read; a mistake names its place in the file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hrops.settings import get_settings
from tools import yaml_problems
from tools.market.models import MarketError

SHIPPED = Path(__file__).with_name("market.yaml")
M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Place(StrictModel):
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2 code")
    aliases: list[str] = []


class Differential(StrictModel):
    """Pay level at `to` relative to `from`, in the same currency (applied after conversion)."""

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    factor: float = Field(gt=0, le=5)
    source: str = Field(min_length=1, description="where the factor comes from, shown with every use")


class Aging(StrictModel):
    annual_rate: float = Field(0.03, ge=-0.5, le=0.5, description="pay movement a year, 0.03 = 3%")


class Quality(StrictModel):
    full_sample: int = Field(30, ge=1, description="data points at which a source counts fully")
    unknown_sample: float = Field(0.5, ge=0, le=1, description="quality of a figure without a sample size")


class PayEquity(StrictModel):
    gap_threshold_percent: float = Field(5.0, ge=0, le=100)


class MarketConfig(StrictModel):
    weights: dict[str, float] = Field(description="base weight per source name (survey:<name> or survey)")
    quality: Quality = Quality()
    aging: Aging = Aging()
    pay_equity: PayEquity = PayEquity()
    places: dict[str, Place] = {}
    location_differentials: list[Differential] = []

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in v.items() if w < 0]
        if bad:
            raise ValueError(f"weights must be 0 or more ({', '.join(bad)})")
        return v

    @model_validator(mode="after")
    def _one_differential_per_pair(self) -> MarketConfig:
        seen: set[tuple[str, str]] = set()
        for d in self.location_differentials:
            pair = (self.place(d.from_).casefold(), self.place(d.to).casefold())
            if pair in seen:
                raise ValueError(f"two location_differentials from {d.from_} to {d.to}")
            seen.add(pair)
        return self

    def weight(self, source: str) -> float:
        """Base weight: the source's own entry, else its family (`survey:acme` -> `survey`), else 0."""
        if source in self.weights:
            return self.weights[source]
        return self.weights.get(source.split(":", 1)[0], 0.0)

    def place(self, name: str) -> str:
        """The place's name as market.yaml spells it (aliases such as 上海 resolved); else as given."""
        folded = name.strip().casefold()
        for canonical, p in self.places.items():
            if folded == canonical.casefold() or folded in (a.casefold() for a in p.aliases):
                return canonical
        return name.strip()

    def country(self, name: str) -> str | None:
        """ISO country of a place: itself when it is a two-letter code, its country when a known city."""
        name = self.place(name)
        if len(name) == 2 and name.isalpha():
            return name.upper()
        p = self.places.get(name)
        return p.country if p else None

    def differential(self, from_: str, to: str) -> Differential | None:
        a, b = self.place(from_).casefold(), self.place(to).casefold()
        for d in self.location_differentials:
            if self.place(d.from_).casefold() == a and self.place(d.to).casefold() == b:
                return d
        return None


def read_yaml(path: Path, model: type[M], hint: str) -> M:
    """Read and validate one YAML file; any problem raises MarketError naming the file and place."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MarketError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise MarketError(f"cannot read {path}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MarketError(f"{path.name}: not valid YAML{at}: {getattr(e, 'problem', None) or e}") from None
    return validate(data, model, path.name, hint)


def validate(data: Any, model: type[M], where: str, hint: str) -> M:
    if not isinstance(data, dict):
        raise MarketError(f"{where}: expected keys ({hint}), got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = yaml_problems.problems(e, data, lambda node: None, hint)
        raise MarketError(f"{where}: " + "; ".join(problems)) from None


def market_dir(var_dir: Path | None = None) -> Path:
    """Where the user's market files live: rate overrides, imported surveys, a market.yaml."""
    return (var_dir or get_settings().var_dir) / "market"


def config_path(var_dir: Path | None = None) -> Path:
    own = market_dir(var_dir) / "market.yaml"
    return own if own.exists() else SHIPPED


def load_config(path: Path | None = None) -> MarketConfig:
    """The market settings in force (re-read only when the file changed)."""
    path = path or config_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise MarketError(f"{path}: no such file") from None
    return _parsed(path, mtime)


@lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int) -> MarketConfig:
    return read_yaml(path, MarketConfig, "see the comments in tools/market/market.yaml")
