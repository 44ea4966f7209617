"""Normalisation (period, currency from the dated table, aging, location differentials) and
blending (weights, suppression, percentiles, band)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrops.cli import app
from tools.market import blend as blending
from tools.market import normalise as norm
from tools.market.config import load_config
from tools.market.models import (
    Citation,
    MarketError,
    NormalisedFigure,
    PayPeriod,
    Percentiles,
    SourceFigure,
)
from tools.market.rates import load_rates, set_rate

DAY = date(2026, 11, 23)
runner = CliRunner()


def figure(**changes) -> SourceFigure:
    base = {
        "source": "bls_oews",
        "category": "Data Scientists",
        "location": "US",
        "percentiles": Percentiles(p10=60_000, p25=80_000, p50=100_000, p75=130_000, p90=160_000),
        "sample_size": 1000,
        "reference_date": DAY,
        "currency": "USD",
        "pay_period": PayPeriod.ANNUAL,
        "citation": Citation(publisher="test", title="test"),
    }
    return SourceFigure(**{**base, **changes})


def test_currency_and_period_conversion_state_the_table_date() -> None:
    monthly = figure(
        currency="CNY",
        pay_period=PayPeriod.MONTHLY,
        location="Shanghai",
        percentiles=Percentiles(p50=30_000),
        mean=31_000,
    )
    out = norm.normalise(monthly, "USD", DAY, "Shanghai")
    assert [a.kind for a in out.adjustments] == ["period", "currency"]
    period, currency = out.adjustments
    assert period.factor == 12 and "monthly -> annual" in period.description
    assert currency.description == "CNY -> USD at 0.140845 (rates table of 2026-11-01)"
    assert out.percentiles.p50 == pytest.approx(30_000 * 12 / 7.10)
    assert out.mean == pytest.approx(31_000 * 12 / 7.10)
    assert out.currency == "USD" and out.left_out is None

    hourly = norm.normalise(
        figure(pay_period=PayPeriod.HOURLY, percentiles=Percentiles(p50=50.0)), "GBP", DAY
    )
    assert hourly.adjustments[0].factor == 2080 and "x 2,080 hours" in hourly.adjustments[0].description
    assert hourly.percentiles.p50 == pytest.approx(50 * 2080 * 0.76)
    assert "USD -> GBP at 0.76 (rates table of 2026-11-01)" in hourly.adjustments[1].description


def test_a_users_rate_overrides_the_shipped_one_with_its_own_date() -> None:
    set_rate("cny", 7.2, date(2026, 11, 20))
    assert load_rates().rate("CNY").per_usd == 7.2 and load_rates().rate("CNY").origin == "user"
    out = norm.normalise(figure(), "CNY", DAY)
    assert out.adjustments[0].description == "USD -> CNY at 7.2 (rates table of 2026-11-20)"
    gbp = norm.normalise(figure(currency="GBP"), "CNY", DAY)
    assert "GBP of 2026-11-01, CNY of 2026-11-20" in gbp.adjustments[0].description
    with pytest.raises(MarketError, match="USD is the base"):
        set_rate("USD", 2, DAY)
    with pytest.raises(MarketError, match="above 0"):
        set_rate("EUR", 0, DAY)


def test_rates_cli_sets_and_shows() -> None:
    done = runner.invoke(app, ["market", "rates", "set", "KRW", "1400", "--as-of", "2026-11-02"])
    assert done.exit_code == 0, done.output
    assert "KRW: 1400 per USD as of 2026-11-02" in done.output
    shown = runner.invoke(app, ["market", "rates", "show"], env={"COLUMNS": "200"}).output
    assert "KRW" in shown and "2026-11-02" in shown and "your rate" in shown
    assert "CNY" in shown and "shipped (illustrative)" in shown
    assert norm.check_currency("KRW") == "KRW"


def test_unsupported_currency_names_it_and_the_supported_ones() -> None:
    with pytest.raises(MarketError) as e:
        norm.normalise(figure(), "XYZ", DAY)
    text = str(e.value)
    assert "'XYZ' is not supported" in text
    for code in ("AUD", "CAD", "CNY", "EUR", "GBP", "HKD", "INR", "JPY", "SGD", "USD"):
        assert code in text
    # a source figure in a currency the table lacks is kept, never converted, and left out
    odd = norm.normalise(figure(currency="ZAR"), "USD", DAY)
    assert odd.left_out and "ZAR" in odd.left_out and odd.percentiles.p50 is None


def test_aging_compounds_at_the_configured_rate(tmp_path: Path) -> None:
    year_old = figure(reference_date=date(2025, 11, 23))
    out = norm.normalise(year_old, "USD", DAY)
    (aging,) = out.adjustments
    years = 365 / 365.25
    assert aging.kind == "aging" and aging.factor == pytest.approx(1.03**years)
    assert "from 2025-11-23 to 2026-11-23 at 3.0% a year" in aging.description
    own = tmp_path / "var" / "market" / "market.yaml"
    own.parent.mkdir(parents=True)
    shipped = (Path(norm.__file__).with_name("market.yaml")).read_text(encoding="utf-8")
    own.write_text(shipped.replace("annual_rate: 0.03", "annual_rate: 0.05"), encoding="utf-8")
    assert norm.normalise(year_old, "USD", DAY).adjustments[0].factor == pytest.approx(1.05**years)


def test_location_differential_is_always_an_adjustment_in_order() -> None:
    old_hourly = figure(
        pay_period=PayPeriod.HOURLY, reference_date=date(2024, 5, 12), percentiles=Percentiles(p50=50)
    )
    out = norm.normalise(old_hourly, "CNY", DAY, "上海")  # an alias of Shanghai in market.yaml
    assert [a.kind for a in out.adjustments] == ["period", "currency", "aging", "location"]
    location = out.adjustments[-1]
    assert location.factor == 0.5 and location.description.startswith("US -> Shanghai: x 0.5 (illustrative")
    product = math.prod(a.factor for a in out.adjustments)
    assert out.percentiles.p50 == pytest.approx(50 * product)
    # the same place needs nothing; a country figure used for its city says so; elsewhere is left out
    assert norm.normalise(figure(location="Shanghai"), "USD", DAY, "Shanghai").adjustments == []
    cn = norm.normalise(figure(location="CN"), "USD", DAY, "Shanghai")
    assert cn.adjustments[-1].kind == "location" and cn.adjustments[-1].factor == 1.0
    assert "no CN -> Shanghai differential" in cn.adjustments[-1].description
    far = norm.normalise(figure(location="DE"), "USD", DAY, "Shanghai")
    assert far.left_out and "no location differential from DE to Shanghai" in far.left_out
    # no place asked: US national, as published
    assert norm.normalise(figure(), "USD", DAY).adjustments == []


def test_bad_market_yaml_names_the_place(tmp_path: Path) -> None:
    own = tmp_path / "var" / "market" / "market.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("weights: {bls_oews: 1}\naging: {anual_rate: 0.02}\n", encoding="utf-8")
    with pytest.raises(MarketError, match=r"market.yaml: aging.anual_rate: unknown key"):
        load_config()


def normalised(source: str, p50: float, n: int | None = 100, **changes) -> NormalisedFigure:
    src = figure(source=source, sample_size=n, percentiles=Percentiles(p25=p50 * 0.8, p50=p50, p75=p50 * 1.2))
    return norm.normalise(src.model_copy(update=changes), "USD", DAY)


def test_blend_weights_sum_to_one_and_a_suppressed_source_weighs_nothing() -> None:
    figures = [
        normalised("bls_oews", 100_000, n=200_000),
        normalised("aijobs", 120_000, n=10),
        normalised("survey:acme", 110_000, n=3, suppressed=True, percentiles=Percentiles()),
        normalised("internal", 90_000, n=40),
    ]
    b = blending.blend(figures, "USD")
    assert sum(b.weights.values()) == pytest.approx(1.0)
    assert b.weights["survey:acme"] == 0 and figures[2].weight == 0
    assert b.weights["internal"] == 0  # base weight 0 in market.yaml: own pay is not market data
    # bls: 1.0 x quality 1; aijobs: 0.5 x sqrt(10/30)
    raw_bls, raw_ai = 1.0, 0.5 * math.sqrt(10 / 30)
    assert b.weights["bls_oews"] == pytest.approx(raw_bls / (raw_bls + raw_ai))
    assert b.weights["aijobs"] == pytest.approx(raw_ai / (raw_bls + raw_ai))
    w = b.weights["bls_oews"]
    assert b.percentiles.p50 == pytest.approx(w * 100_000 + (1 - w) * 120_000)
    spread = math.sqrt(w * (100_000 - b.percentiles.p50) ** 2 + (1 - w) * (120_000 - b.percentiles.p50) ** 2)
    assert b.band == pytest.approx((b.percentiles.p50 - spread, b.percentiles.p50 + spread))
    assert b.sources_used == 2 and b.percentiles.p10 is None  # no figure states P10
    assert any("survey:acme: not blended (suppressed" in n for n in b.notes)


def test_blend_cuts_below_min_points_and_percentiles_stated_by_fewer() -> None:
    small = normalised("aijobs", 150_000, n=4)  # under MIN_POINTS even when the source did not say so
    assert small.left_out and "suppressed" in small.left_out
    top_coded = normalised("bls_oews", 100_000).model_copy(
        update={"percentiles": Percentiles(p25=80_000, p50=100_000, p75=None)}
    )
    ai = normalised("aijobs", 90_000, n=30)  # its P75 (108,000) would sit above the blend's median
    b = blending.blend([small, top_coded, ai], "USD")
    assert b.weights["aijobs (US) #1"] == 0 and sum(b.weights.values()) == pytest.approx(1)
    assert b.percentiles.p75 == pytest.approx(108_000)
    assert "P75 from 1 of 2 figures (the others do not state it)" in b.notes
    only = blending.blend([normalised("bls_oews", 100_000)], "USD")
    assert only.band is None and only.weights == {"bls_oews": 1.0} and "one figure only" in only.notes[-1]
    nothing = blending.blend([small], "USD")
    assert nothing.sources_used == 0 and nothing.percentiles.p50 is None
