"""Which model outputs are reviewed: the rules file, each output's risk, and a fixed draw per output.

`rules.yaml` beside this module ships the defaults; `HROPS_REVIEW_RULES` points at a company's own.
The draw is a hash of the output's id, so the same output is always in or always out (a retried
call, a second worker and an audit later all agree), and raising a rate only adds outputs.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from hrops.settings import get_settings
from tools import yaml_problems
from tools.review.models import ReviewRules, Risk, Sampling

SHIPPED = Path(__file__).with_name("rules.yaml")

# Requests whose every model output is about pay.
PAY_REQUEST_KINDS = frozenset({"salary_change", "comp_research"})
# Pay named in a prompt or output, as a word or a snake_case part (salary_change, base_pay, compa_ratio).
_PAY_WORDS = re.compile(
    r"(?<![a-z])(pay|salary|salaries|wage|wages|compensation|bonus|compa)(?![a-z])|薪|工资|奖金",
    re.IGNORECASE,
)


class ReviewRulesError(ValueError):
    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = str(path), problems
        super().__init__(f"{path}: " + "; ".join(problems))


def parse(text: str, path: Path | str = "<review rules>") -> ReviewRules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ReviewRulesError(path, [f"not valid YAML: {e}"]) from None
    try:
        return ReviewRules.model_validate(data)
    except ValidationError as e:
        hint = "see the comments in tools/review/rules.yaml"
        raise ReviewRulesError(
            path, yaml_problems.problems(e, data, lambda node: node.get("name"), hint)
        ) from None


def load(path: Path | None = None) -> ReviewRules:
    """The rules in force (`HROPS_REVIEW_RULES` or the shipped file); re-read only when the file changed."""
    path = path or get_settings().review_rules or SHIPPED
    if not path.exists():
        raise ReviewRulesError(path, ["no such file (HROPS_REVIEW_RULES names a missing file?)"])
    return _parsed(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int) -> ReviewRules:
    return parse(path.read_text(encoding="utf-8"), path)


def pay_related(request_kind: str | None, *texts: str) -> bool:
    return request_kind in PAY_REQUEST_KINDS or any(_PAY_WORDS.search(t) for t in texts)


def risk_of(rules: ReviewRules, topic: str, request_kind: str | None, *texts: str) -> Risk:
    """High for anything about pay, otherwise the topic's risk from the rules file."""
    if pay_related(request_kind, *texts):
        return Risk.HIGH
    return rules.risk.get(topic, rules.default_risk)


def draw(source: str) -> float:
    """The output's fixed position in [0, 1)."""
    return int.from_bytes(hashlib.sha256(source.encode()).digest()[:8], "big") / 2**64


def sample(rules: ReviewRules, *, topic: str, risk: Risk, source: str) -> Sampling:
    """Whether the output `source` is reviewed: the first matching rule's rate against its draw."""
    position = draw(source)
    for rule in rules.rules:
        if rule.matches(topic, risk):
            return Sampling(
                topic=topic,
                risk=risk,
                rule=rule.name,
                rate=rule.rate,
                draw=position,
                sampled=position < rule.rate,
            )
    return Sampling(topic=topic, risk=risk, rule=None, rate=0.0, draw=position, sampled=False)
