"""Policy answers offline: `ask_policy` latency over a 1,000-document knowledge base vs the demo
handbook alone, in the same run.

    .venv/bin/python bench/kb_bench.py --documents 1000 --rounds 2 [--embeddings]

Words only unless --embeddings: then with the default local embedding model as well.

Two SQLite stores: the baseline holds only the demo handbook (26 documents, 28 versions); the large
one holds the handbook plus generated policy documents up to `--documents` doc ids. The generated
documents are written as Markdown into a temporary folder and imported through `import_documents`
in batches (as `hrops kb import` would), so reading, checking and writing are all in the import time.

Generated documents are deterministic (`--seed`): half English, half Chinese, 5-12 sections of
80-300 words each, their text a word-bigram chain over the handbook's own sentences in that
language, so their vocabulary overlaps the handbook's (a generated "leave" passage competes with the
real one for the same words) without copying its sentences; scopes vary (everyone, a country, a
location, a group) and some start in 2027.

The evaluation questions (tests/eval/policy_questions.yaml, each asked as someone at its location)
are asked round-robin, each on both stores one after the other so machine noise hits both alike. The
first question on each store builds its search index and is shown separately; the figures after it
are the answers with the index built. "first cited" is the share of questions whose expected
section (or hand-off) came first: how much the generated documents crowd out the right answer.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
console = Console(width=150)
TODAY = date(2026, 12, 1)  # the evaluation set's default day
BATCH = 100  # files per import_documents call
COLUMNS = (TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

TOPICS = ["leave", "attendance", "payroll", "social-insurance", "benefits", "expenses", "performance"]
TOPICS += ["onboarding", "exit", "travel", "training", "compliance", "it-equipment", "facilities"]
COUNTRIES = ["CN", "SG", "GB", "US"]
LOCATIONS = ["Shanghai", "Beijing", "Shenzhen", "Singapore", "London", "New York"]
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(\{#[^}]*\})?\s*$")
_MARKUP = re.compile(r"[*`|#>\[\]{}]|(?<!\S)[-=_]{3,}(?!\S)")  # emphasis, tables, rules: not prose


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {ram:.0f} GiB, {platform.system()}, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}; load average {_load()}"
    )


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def rss_mb() -> tuple[float, float]:
    """The process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# --- the generated documents ----------------------------------------------------------------------


class Chain:
    """A word-bigram chain over the handbook's body text in one language: text that reads like the
    handbook's (its terms, figures and phrases) in new combinations."""

    def __init__(self, language: str, paragraphs: list[str], headings: list[str]) -> None:
        import jieba

        # Its own tokenizer: the search's one learns the glossary's terms, which must not change the corpus.
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        self.language = language
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in paragraphs:
            tokens = self._tokens(text, tokenizer)
            if len(tokens) < 3:
                continue
            self.starts.append(tokens[0])
            for a, b in zip(tokens, tokens[1:], strict=False):
                self.next[a].append(b)
        self.heading_words = [self._tokens(h, tokenizer) for h in headings if h.strip()]

    def _tokens(self, text: str, tokenizer) -> list[str]:  # noqa: ANN001
        text = _MARKUP.sub("", text)
        if self.language == "en":
            return text.split()
        return [t for t in tokenizer.lcut(text) if t.strip()]

    def _is_word(self, token: str) -> bool:
        return any(ch.isalnum() for ch in token)

    def text(self, rng: random.Random, n_words: int) -> str:
        """About `n_words` words in paragraphs of 40-90 words."""
        out: list[str] = []
        counted = 0
        token = rng.choice(self.starts)
        paragraph = 0
        while counted < n_words:
            out.append(token)
            if self._is_word(token):
                counted += 1
                paragraph += 1
            followers = self.next.get(token)
            ends = token.endswith((".", "。", "；", "!", "?", "？"))
            if ends and paragraph >= rng.randint(40, 90):
                out.append("\n\n")
                paragraph = 0
            token = rng.choice(followers) if followers and rng.random() > 0.02 else rng.choice(self.starts)
        joiner = " " if self.language == "en" else ""
        return joiner.join(out).replace(f"{joiner}\n\n{joiner}", "\n\n").replace(" \n\n", "\n\n").strip()

    def heading(self, rng: random.Random) -> str:
        a, b = rng.sample(self.heading_words, 2)
        words = a[: max(1, len(a) // 2)] + b[len(b) // 2 :]
        return (" " if self.language == "en" else "").join(words)[:120]


def chains() -> dict[str, Chain]:
    from tools.demo_company.handbook import handbook_files

    paragraphs: dict[str, list[str]] = defaultdict(list)
    headings: dict[str, list[str]] = defaultdict(list)
    for path in handbook_files()[0]:
        language = "zh" if path.name.endswith(".zh.md") else "en"
        body = path.read_text(encoding="utf-8").split("---", 2)[2]
        for block in re.split(r"\n\s*\n", body):
            block = block.strip()
            if m := _HEADING.match(block.splitlines()[0] if block else ""):
                headings[language].append(m.group(1))
                block = "\n".join(block.splitlines()[1:]).strip()
            if block:
                paragraphs[language].append(" ".join(block.split()) if language == "en" else block)
    return {lang: Chain(lang, paragraphs[lang], headings[lang]) for lang in ("en", "zh")}


def _scope(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.40:
        return "{countries: [], locations: [], groups: []}"
    if roll < 0.65:
        return f"{{countries: [{rng.choice(COUNTRIES)}]}}"
    if roll < 0.85:
        return f"{{locations: [{rng.choice(LOCATIONS)}]}}"
    return f"{{groups: [{rng.choice(['manager', 'staff'])}]}}"


def generate(folder: Path, count: int, seed: int) -> list[Path]:
    """`count` Markdown policy documents in `folder`, the same for the same seed."""
    rng = random.Random(seed)
    by_language = chains()
    paths = []
    for i in range(count):
        language = "en" if i % 2 == 0 else "zh"
        chain = by_language[language]
        topic = rng.choice(TOPICS)
        start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 680))
        if rng.random() < 0.05:
            start = date(2027, 1, 1) + timedelta(days=rng.randint(0, 180))  # announced, not yet in force
        title = chain.heading(rng)
        title = f"{title} ({topic}, {i + 1})" if language == "en" else f"{title}（{topic}，第{i + 1}号）"
        lines = [
            "---",
            f"doc_id: gen-{i + 1:04d}.{language}",
            f'title: "{title}"',
            f"language: {language}",
            f"topic: {topic}",
            f"effective_from: {start.isoformat()}",
            f"scope: {_scope(rng)}",
            "---",
            f"# {title} {{#top}}",
            "",
        ]
        for s in range(rng.randint(5, 12)):
            lines += [
                f"## {chain.heading(rng)} {{#sec-{s + 1}}}",
                "",
                chain.text(rng, rng.randint(80, 300)),
                "",
            ]
        path = folder / f"gen-{i + 1:04d}.{language}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


# --- the stores -----------------------------------------------------------------------------------


def handbook_store(url: str) -> float:
    """Migrate a fresh store and import the handbook; the seconds the import took."""
    from tools.demo_company.handbook import seed_handbook
    from tools.store.db import migrate, session_scope

    migrate(url)
    started = time.perf_counter()
    with session_scope(url, write=True) as s:
        seed_handbook(s)
    return time.perf_counter() - started


def import_generated(url: str, paths: list[Path], bar: Progress) -> tuple[float, int]:
    """Import the generated files in batches, each in its own transaction; seconds and sections."""
    from tools.knowledge.library import import_documents
    from tools.store.db import session_scope
    from tools.store.identity import Principal
    from tools.store.models import Role

    who = Principal(username="admin", display_name="admin", roles=frozenset({Role.ADMIN}))
    task = bar.add_task(f"importing {len(paths):,} generated documents", total=len(paths))
    sections = 0
    started = time.perf_counter()
    for i in range(0, len(paths), BATCH):
        batch = paths[i : i + BATCH]
        with session_scope(url, write=True) as s:
            outcomes = import_documents(s, who, batch)
        sections += sum(o.sections for o in outcomes)
        bar.advance(task, len(batch))
    return time.perf_counter() - started, sections


def store_size(url: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from tools.store.db import session_scope
    from tools.store.models import KbDocument, KbSection

    with session_scope(url) as s:
        docs = s.scalar(select(func.count(func.distinct(KbDocument.doc_id)))) or 0
        sections = s.scalar(select(func.count()).select_from(KbSection)) or 0
    return docs, sections


# --- the questions --------------------------------------------------------------------------------


def ask(url: str, case) -> tuple[float, object]:  # noqa: ANN001
    """Seconds for one `ask_policy` as someone at the case's location, and the answer."""
    from tests.eval.policy_eval import COUNTRY
    from tools.knowledge.answer import ask_policy
    from tools.knowledge.search import Asker
    from tools.store.db import session_scope

    asker = Asker(country=COUNTRY.get(case.location), location=case.location, group=case.group)
    with session_scope(url) as s:
        started = time.perf_counter()
        answer = ask_policy(s, case.q, asker, case.on)
        return time.perf_counter() - started, answer


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def embed_all(urls: tuple[str, ...], bar: Progress) -> float:
    """Seconds to embed every section of each store with the configured embedding model."""
    from hrops.settings import get_settings
    from tools.knowledge import embeddings
    from tools.store.db import session_scope

    started = time.perf_counter()
    for url in urls:
        task = bar.add_task(f"embedding the sections of {Path(url).name}", total=None)
        with session_scope(url) as s:
            embeddings.embed_sections(
                s, get_settings(), progress=lambda i, n, task=task: bar.update(task, completed=i, total=n)
            )
    return time.perf_counter() - started


def main(documents: int, rounds: int, seed: int, embeddings: bool) -> None:
    from tests.eval.policy_eval import cases, judge
    from tools.knowledge.segment import words

    os.environ["HROPS_TODAY"] = TODAY.isoformat()
    if not embeddings:  # words only: the local encoder takes 15-65 ms a section to index
        os.environ["HROPS_EMBEDDING_MODEL"] = ""
    questions = cases()
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        workdir = Path(tmp)
        os.environ["HROPS_VAR_DIR"] = str(workdir / "var")
        from hrops.settings import reset_settings

        reset_settings()
        small, large = f"sqlite:///{workdir / 'handbook.db'}", f"sqlite:///{workdir / 'large.db'}"
        started = time.perf_counter()
        words("年假")  # jieba loads its dictionary once per process: not part of any answer
        jieba_s = time.perf_counter() - started
        handbook_s = handbook_store(small)
        handbook_store(large)
        have, _ = store_size(large)
        extra = max(0, documents - have)

        with Progress(*COLUMNS, console=console) as bar:
            task = bar.add_task(f"writing {extra:,} generated documents", total=None)
            started = time.perf_counter()
            folder = workdir / "generated"
            folder.mkdir()
            paths = generate(folder, extra, seed)
            generated_s = time.perf_counter() - started
            bar.update(task, total=extra, completed=extra)
            megabytes = sum(p.stat().st_size for p in paths) / 2**20
            import_s, imported_sections = import_generated(large, paths, bar)
            embed_s = embed_all((small, large), bar) if embeddings else None

        gc.collect()
        rss_before = rss_mb()[0]
        first: dict[str, float] = {}
        rss_after: dict[str, float] = {}
        for name, url in (("handbook", small), ("large", large)):
            first[name], _ = ask(url, questions[0])  # builds this store's index
            gc.collect()
            rss_after[name] = rss_mb()[0]

        times: dict[str, list[float]] = {"handbook": [], "large": []}
        right: dict[str, int] = {"handbook": 0, "large": 0}
        with Progress(*COLUMNS, console=console) as bar:
            task = bar.add_task(
                f"{len(questions)} questions x {rounds} rounds, each on both stores",
                total=rounds * len(questions),
            )
            for r in range(rounds):
                for case in questions:
                    for name, url in (("handbook", small), ("large", large)):
                        seconds, answer = ask(url, case)
                        times[name].append(seconds)
                        if r == 0:
                            right[name] += judge(case, answer)[0]
                    bar.advance(task)
        docs = {name: store_size(url) for name, url in (("handbook", small), ("large", large))}

    if embed_s is not None:
        console.print(
            f"embedding every section of both stores, as `hrops kb import` does after an import: {embed_s:.1f} s "
            "(the handbook's twice over in text is once: the same text is embedded once per process)"
        )
    console.print(
        f"jieba dictionary load (once per process) {jieba_s:.1f} s; handbook import {handbook_s:.2f} s; "
        f"{extra:,} documents generated in {generated_s:.1f} s ({megabytes:.1f} MB of Markdown)"
    )
    console.print(
        f"import of {extra:,} generated documents ({imported_sections:,} sections, {megabytes:.1f} MB) "
        f"in batches of {BATCH}: {import_s:.1f} s = {extra / import_s:.0f} documents/s, "
        f"{imported_sections / import_s:,.0f} sections/s, {megabytes / import_s:.2f} MB/s"
    )
    table = Table(
        "knowledge base",
        "documents",
        "sections",
        "first question (index build) ms",
        "p50 ms",
        "p95 ms",
        "max ms",
        "first cited",
        "RSS after index MB",
        title=f"ask_policy, {len(questions)} questions x {rounds} rounds (index built)",
    )
    for name, label in (("handbook", "handbook only (baseline)"), ("large", "handbook + generated")):
        t = times[name]
        n_docs, n_sections = docs[name]
        table.add_row(
            label,
            f"{n_docs:,}",
            f"{n_sections:,}",
            f"{first[name] * 1000:,.0f}",
            f"{_p(t, 50) * 1000:.1f}",
            f"{_p(t, 95) * 1000:.1f}",
            f"{max(t) * 1000:.1f}",
            f"{100 * right[name] / len(questions):.0f}%",
            f"{rss_after[name]:.0f}",
        )
    console.print(table)
    large_p50, small_p50 = _p(times["large"], 50), _p(times["handbook"], 50)
    console.print(
        f"large vs baseline p50 {large_p50 / small_p50:.1f}x; RSS before any index {rss_before:.0f} MB, "
        f"the large index adds about {rss_after['large'] - rss_after['handbook']:.0f} MB; "
        f"peak RSS {rss_mb()[1]:.0f} MB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--documents", type=int, default=1000, help="doc ids in the large store, handbook included"
    )
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked on each store")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument(
        "--embeddings",
        action="store_true",
        help="with the default local embedding model as well (indexing 1,000 documents takes a few minutes)",
    )
    args = parser.parse_args()
    if args.documents < 26 or args.rounds < 1:
        parser.error("--documents 26 or more (the handbook has 26), --rounds 1 or more")
    console.print(f"machine: {machine()}")
    wall = time.perf_counter()
    main(args.documents, args.rounds, args.seed, args.embeddings)
    console.print(f"total wall {time.perf_counter() - wall:.0f} s; load average now {_load()}")
