"""Before any search: does this question belong with a person? Sensitive matters (harassment,
discrimination, health, disciplinary, speaking up) and explicit requests for a human are handed to
HR ops with the question; everything else goes to the policy search. Patterns live in triage.yaml
so HR can widen them without code."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from tools.knowledge.segment import normalise

RULES = Path(__file__).with_name("triage.yaml")


class Triage(BaseModel):
    route: Literal["policy", "sensitive", "person"]
    category: str | None = None  # harassment, discrimination, health, disciplinary, speaking_up
    matched: str | None = None  # the words that decided it (kept in the case, not in logs)
    example: str | None = None  # by meaning: the example the question was nearest (triage_by_meaning)

    @property
    def by(self) -> Literal["pattern", "meaning"] | None:
        return None if self.route == "policy" else "meaning" if self.example else "pattern"

    @property
    def why(self) -> str | None:
        """What decided it, for the person who takes the case."""
        if self.example:
            return f"close in meaning to «{self.example}»"
        return f"the words «{self.matched}»" if self.matched else None


@cache
def _rules() -> tuple[tuple[tuple[str, re.Pattern[str]], ...], tuple[re.Pattern[str], ...]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    names = data.get("names", {})

    def compiled(pattern: str) -> re.Pattern[str]:
        for name, expression in names.items():
            pattern = pattern.replace(f"<{name}>", expression)
        return re.compile(pattern, re.IGNORECASE)

    sensitive = tuple((category, compiled(p)) for category, ps in data["sensitive"].items() for p in ps)
    person = tuple(compiled(p) for p in data["person"])
    return sensitive, person


def triage(question: str) -> Triage:
    text = normalise(question).strip()
    sensitive, person = _rules()
    for category, pattern in sensitive:  # a sensitive matter outranks "let me talk to someone"
        if m := pattern.search(text):
            return Triage(route="sensitive", category=category, matched=m.group())
    for pattern in person:
        if m := pattern.search(text):
            return Triage(route="person", matched=m.group())
    return Triage(route="policy")
