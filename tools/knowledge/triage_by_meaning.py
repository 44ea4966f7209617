"""Triage by meaning, after the patterns of triage.yaml: people describe a sensitive matter without
naming it ("my lead keeps commenting on what I wear", "说了怀孕之后开会也不叫我"), or ask for a
human in words of their own, and no list of words catches every telling. A question nearer in
meaning to one of the sensitive or asking-for-a-person examples in triage_examples.yaml than to
any routine example and any sample question of the knowledge base (its sections' "Questions:"
lines, except those the patterns would hand to a person: a section on raising a concern asks "a
coworker keeps harassing me, what can I do?") goes to a person, for that example's category.

Done with the embedding model the policy search uses, when its calibration says by how much
(`Calibration.sensitive`); without one, the patterns alone decide. The examples' vectors for the
default model ship beside them; after editing the examples write them again:

    .venv/bin/python -m tools.knowledge.triage_by_meaning
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hrops.settings import Settings, get_settings
from tools.knowledge import embeddings
from tools.knowledge.models import Language
from tools.knowledge.triage import Triage, triage

EXAMPLES = Path(__file__).with_name("triage_examples.yaml")
MODEL = Settings.model_fields["embedding_model"].default
PACK = EXAMPLES.with_name(f"triage_examples.{MODEL.partition(':')[2]}.npz")
embeddings.add_pack(PACK)


class Examples(BaseModel):
    sensitive: dict[str, dict[Language, list[str]]]  # category -> language -> messages
    person: dict[Language, list[str]] = {}  # asking for a human, nothing sensitive said
    routine: dict[Language, list[str]]

    def texts(self) -> tuple[list[tuple[str | None, str]], list[str]]:
        """(category, message) of every example that goes to a person (category None: asks for
        one), and every routine message."""
        special: list[tuple[str | None, str]] = [
            (c, t) for c, by in self.sensitive.items() for ts in by.values() for t in ts
        ]
        special += [(None, t) for ts in self.person.values() for t in ts]
        return special, [t for ts in self.routine.values() for t in ts]


@cache
def examples() -> Examples:
    return Examples.model_validate(yaml.safe_load(EXAMPLES.read_text(encoding="utf-8")))


def _routine(question: str) -> bool:
    return triage(question).route == "policy"


def by_meaning(session: Session, question: str, settings: Settings | None = None) -> Triage | None:
    """A hand-off when the question is nearer a sensitive example (or one asking for a person) than
    anything routine, by at least the model's margin; None otherwise, and without a calibrated model."""
    settings = settings or get_settings()
    margin = embeddings.calibration(settings.embedding_model).sensitive if settings.embedding_model else None
    if margin is None:
        return None
    special, routine = examples().texts()
    found = embeddings.nearest(
        session, question, [t for _, t in special] + routine, settings, counts=_routine
    )
    if found is None:
        return None
    sims, nearest_sample = found
    best = int(sims[: len(special)].argmax())
    ordinary = max([float(sims[len(special) :].max()), nearest_sample or -1.0])
    if float(sims[best]) - ordinary < margin:
        return None
    category, example = special[best]
    if category is None:
        return Triage(route="person", example=example)
    return Triage(route="sensitive", category=category, example=example)


def triage_question(session: Session, question: str, settings: Settings | None = None) -> Triage:
    """The patterns first (no model needed), then meaning for what they leave to the policy search."""
    routed = triage(question)
    if routed.route == "policy":
        return by_meaning(session, question, settings) or routed
    return routed


def main() -> None:
    """Embed every example with the default model and write the shipped vectors."""
    import tempfile

    from tools.store.db import migrate, session_scope

    settings = Settings(embedding_model=MODEL)
    special, routine = examples().texts()
    texts = [t for _, t in special] + routine
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'examples.db'}"
        migrate(url)
        with session_scope(url, write=True) as s:
            embeddings.vectors_for(s, settings, texts, "query")
    n = embeddings.write_pack(PACK, MODEL, [("query", t) for t in texts])
    print(f"{PACK}: {n} vectors, {PACK.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
