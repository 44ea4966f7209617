"""What triage by meaning costs a policy answer: `ask_policy` over the demo handbook with the default
local embeddings, patterns only (the baseline) against patterns and meaning, question by question in
the same run.

.venv/bin/python bench/triage_bench.py [--rounds 3]

Every question of the evaluation sets is asked once first (its vector is embedded and cached, as a
question asked again would be), then each round asks each question both ways, one after the other,
so a shared machine's noise hits both alike. Prints p50/p95/max per way and how many questions
each way hands to a person.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "eval"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import policy_eval  # noqa: E402

from hrops.settings import Settings, reset_settings  # noqa: E402
from tools.knowledge import answer, embeddings  # noqa: E402
from tools.knowledge.search import Asker  # noqa: E402
from tools.knowledge.triage import triage  # noqa: E402
from tools.store.db import session_scope  # noqa: E402

WAYS = {"patterns only (baseline)": lambda _session, question: triage(question), "patterns + meaning": None}


def main(rounds: int) -> None:
    os.environ["HROPS_EMBEDDING_MODEL"] = Settings.model_fields["embedding_model"].default
    reset_settings()
    cases = [c for path in policy_eval.SETS.values() for c in policy_eval.cases(path)]
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    handed: dict[str, int] = dict.fromkeys(WAYS, 0)
    # Every question's vector stays cached (the cache is widened to all of them, should the sets
    # outgrow QUESTION_CACHE): both ways then time the same work but triage, not whichever came
    # first paying for the embedding.
    with (
        tempfile.TemporaryDirectory() as tmp,
        Progress() as bar,
        patch.object(embeddings, "QUESTION_CACHE", len(cases) + 1),
    ):
        url = policy_eval.handbook_store(Path(tmp))

        def ask(way: str, case: policy_eval.Case) -> tuple[float, str | None]:
            asker = Asker(
                country=policy_eval.COUNTRY.get(case.location), location=case.location, group=case.group
            )
            how = WAYS[way]
            with (
                session_scope(url) as s,
                patch.object(answer, "triage_question", how or answer.triage_question),
            ):
                start = time.perf_counter()
                got = answer.ask_policy(s, case.q, asker, case.on)
                return (time.perf_counter() - start) * 1000, got.handoff

        warm = bar.add_task("first asking (embeds each question once)", total=len(cases))
        for case in cases:
            ask("patterns + meaning", case)
            bar.advance(warm)
        task = bar.add_task("timing", total=rounds * len(cases))
        for r in range(rounds):
            for case in cases:
                for way in list(WAYS)[:: 1 if r % 2 == 0 else -1]:  # each way first in turn
                    ms, handoff = ask(way, case)
                    times[way].append(ms)
                    if r == 0 and handoff in ("sensitive", "person"):
                        handed[way] += 1
                bar.advance(task)
    table = Table(title=f"ask_policy over the demo handbook, {len(cases)} questions x {rounds} rounds")
    for col in ("triage", "p50 ms", "p95 ms", "max ms", "to a person (sensitive or asked)"):
        table.add_column(col, justify="left" if col == "triage" else "right")
    for way, ts in times.items():
        ts.sort()
        table.add_row(
            way,
            f"{statistics.median(ts):.1f}",
            f"{ts[int(len(ts) * 0.95)]:.1f}",
            f"{ts[-1]:.1f}",
            str(handed[way]),
        )
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args().rounds)
