"""The dated currency table: `rates.yaml` beside this module (illustrative values, base USD) and the
user's own rates in `<var_dir>/market/rates.yaml` (`hrops market rates set`), which win currency
by currency. Each rate keeps its date, and every conversion says which rates it used."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from tools.market.config import StrictModel, market_dir, read_yaml
from tools.market.models import MarketError

SHIPPED = Path(__file__).with_name("rates.yaml")
BASE = "USD"
_CODE = re.compile(r"^[A-Z]{3}$")
_HINT = "see the comments in tools/market/rates.yaml"


class _ShippedFile(StrictModel):
    as_of: date
    base: Literal["USD"]
    rates: dict[str, float]


class _UserRate(StrictModel):
    rate: float = Field(gt=0)
    as_of: date


class _UserFile(StrictModel):
    rates: dict[str, _UserRate] = {}


class Rate(BaseModel):
    currency: str
    per_usd: float  # units of the currency for one USD
    as_of: date
    origin: Literal["shipped", "user"]


class RateTable(BaseModel):
    base: str = BASE
    rates: dict[str, Rate]

    @property
    def supported(self) -> list[str]:
        return sorted(self.rates)

    def rate(self, currency: str) -> Rate:
        found = self.rates.get(currency.upper())
        if found is None:
            raise MarketError(
                f"currency {currency!r} is not supported: the rates table has {', '.join(self.supported)}. "
                f"Add it with `hrops market rates set {currency.upper()} <units per USD>`"
            )
        return found

    def conversion(self, source: str, target: str) -> tuple[float, str]:
        """The factor turning `source` amounts into `target` ones, and how it was made (with dates)."""
        a, b = self.rate(source), self.rate(target)
        factor = b.per_usd / a.per_usd
        if a.as_of == b.as_of or BASE in (a.currency, b.currency):
            dated = (b if a.currency == BASE else a).as_of.isoformat()
            when = f"rates table of {dated}"
        else:
            when = f"rates table: {a.currency} of {a.as_of}, {b.currency} of {b.as_of}"
        return factor, f"{a.currency} -> {b.currency} at {factor:.6g} ({when})"


def user_file(var_dir: Path | None = None) -> Path:
    return market_dir(var_dir) / "rates.yaml"


def _read_user(path: Path) -> _UserFile:
    return read_yaml(path, _UserFile, _HINT) if path.exists() else _UserFile()


def load_rates(var_dir: Path | None = None) -> RateTable:
    """The rates in force: the shipped table with the user's rates over it."""
    shipped = read_yaml(SHIPPED, _ShippedFile, _HINT)
    bad = [c for c, r in shipped.rates.items() if not _CODE.match(c) or r <= 0]
    if bad or shipped.rates.get(BASE) != 1.0:
        raise MarketError(f"{SHIPPED}: rates need ISO codes, positive values and USD: 1.0 (check {bad})")
    table = {
        c: Rate(currency=c, per_usd=r, as_of=shipped.as_of, origin="shipped")
        for c, r in shipped.rates.items()
    }
    for c, r in _read_user(user_file(var_dir)).rates.items():
        table[c] = Rate(currency=c, per_usd=r.rate, as_of=r.as_of, origin="user")
    return RateTable(rates=table)


def check_currency(currency: str, var_dir: Path | None = None) -> str:
    """The currency's code when the rates table has it; otherwise MarketError naming the supported ones."""
    return load_rates(var_dir).rate(currency).currency


def set_rate(currency: str, per_usd: float, as_of: date, var_dir: Path | None = None) -> Rate:
    """Record the user's rate for a currency (units per USD) in `<var_dir>/market/rates.yaml`."""
    code = currency.strip().upper()
    if not _CODE.match(code):
        raise MarketError(f"{currency!r} is not an ISO 4217 currency code (three letters, such as CNY)")
    if code == BASE:
        raise MarketError("USD is the base of the rates table: its rate is always 1")
    if not per_usd > 0:
        raise MarketError(f"a rate must be above 0 (units of {code} for one USD), not {per_usd}")
    path = user_file(var_dir)
    own = _read_user(path)
    own.rates[code] = _UserRate(rate=per_usd, as_of=as_of)
    data = {"rates": {c: {"rate": r.rate, "as_of": r.as_of} for c, r in sorted(own.rates.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Your currency rates (units per 1 USD), written by `hrops market rates set`.\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rates-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(header + yaml.safe_dump(data, sort_keys=False))
    os.replace(tmp, path)
    return Rate(currency=code, per_usd=per_usd, as_of=as_of, origin="user")
