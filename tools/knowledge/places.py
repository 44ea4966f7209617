"""Places a heading names. Handbooks often keep one country's rule in a section of a document that
applies everywhere ("Annual leave entitlement in China", "Payroll calendar: Singapore"); such a
heading scopes its section as a document's scope would. Cities and their aliases come from the
company's places (tools/market/market.yaml); countries by their usual names."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel

from tools.market.config import load_config

COUNTRY_NAMES = {
    "CN": ["china", "mainland china", "prc", "中国", "中国大陆", "大陆", "国内"],
    "SG": ["singapore", "新加坡"],
    "GB": ["united kingdom", "uk", "britain", "england", "英国"],
    "US": ["united states", "usa", "us", "america", "美国"],
    "HK": ["hong kong", "香港"],
}


class Mentioned(BaseModel):
    locations: set[str] = set()
    countries: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.locations or self.countries)


@cache
def _patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(kind, canonical, pattern): whole words for Latin names, plain substrings for Chinese."""
    found: list[tuple[str, str, str]] = []
    for city, place in load_config().places.items():
        found += [("location", city, name) for name in [city, *place.aliases]]
    for code, names in COUNTRY_NAMES.items():
        found += [("country", code, name) for name in names]

    def compile_(name: str) -> re.Pattern[str]:
        if re.search(r"[\u3400-\u9fff]", name):
            return re.compile(re.escape(name))
        return re.compile(rf"(?<![a-z]){re.escape(name.lower())}(?![a-z])")

    return tuple((kind, canonical, compile_(name)) for kind, canonical, name in found)


def mentions(text: str) -> Mentioned:
    lowered = text.lower()
    out = Mentioned()
    for kind, canonical, pattern in _patterns():
        if pattern.search(lowered):
            (out.locations if kind == "location" else out.countries).add(canonical)
    return out


def names_of(location: str | None, country: str | None) -> list[str]:
    """Every name of the asker's own location and country (to drop from their question: the
    search is already limited to what applies there)."""
    names: list[str] = []
    config = load_config()
    if location and (place := config.places.get(location)):
        names += [location, *place.aliases]
    if country:
        names += COUNTRY_NAMES.get(country, [])
    return names
