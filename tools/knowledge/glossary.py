"""The bilingual HR glossary (glossary.yaml): groups of terms that mean the same thing. A question
is expanded with the other terms of every group it mentions, weighted below the words it used."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel

GLOSSARY = Path(__file__).with_name("glossary.yaml")
SYNONYM_WEIGHT = 0.5  # a word the asker did not use counts half


class TermGroup(BaseModel):
    en: list[str] = []
    zh: list[str] = []

    @property
    def terms(self) -> list[str]:
        return [*self.en, *self.zh]


@cache
def groups() -> tuple[TermGroup, ...]:
    data = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8")) or []
    return tuple(TermGroup.model_validate(g) for g in data)


def chinese_terms() -> list[str]:
    return [t for g in groups() for t in g.zh]


@cache
def _group_words() -> tuple[tuple[tuple[tuple[str, ...], ...], tuple[str, ...]], ...]:
    """Per group: each term as its words, and all the group's words."""
    from tools.knowledge.segment import words

    out = []
    for g in groups():
        term_words = tuple(tuple(words(t)) for t in g.terms)
        term_words = tuple(t for t in term_words if t)
        out.append((term_words, tuple(dict.fromkeys(w for t in term_words for w in t))))
    return tuple(out)


def _contains(seq: list[str], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(tuple(seq[i : i + n]) == part for i in range(len(seq) - n + 1))


def alternatives(query_words: list[str]) -> dict[str, set[str]]:
    """For each asked word in a glossary term the question uses: the words of that term's group (a
    passage that says 年休假 covers a question that said 年假)."""
    out: dict[str, set[str]] = {}
    for term_words, all_words in _group_words():
        for t in term_words:
            if _contains(query_words, t):
                for w in t:
                    out.setdefault(w, set()).update(all_words)
    return out


def expand(query_words: list[str]) -> dict[str, float]:
    """Extra words (with their weight) for the glossary groups the question mentions."""
    asked = set(query_words)
    extra: dict[str, float] = {}
    for term_words, all_words in _group_words():
        if any(_contains(query_words, t) for t in term_words):
            for w in all_words:
                if w not in asked:
                    extra[w] = SYNONYM_WEIGHT
    return extra
