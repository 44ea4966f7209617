"""The demo handbook's vectors for the default embedding model, shipped beside it so that seeding the
demo company does not spend minutes embedding it (tools/knowledge/embeddings.py: packs).

Written again after the handbook changes (a test says when):

    .venv/bin/python -m tools.demo_company.handbook_vectors
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.progress import Progress

from hrops.settings import Settings
from tools.demo_company.handbook import HANDBOOK, seed_handbook
from tools.knowledge import embeddings
from tools.store.db import migrate, session_scope

MODEL = Settings.model_fields["embedding_model"].default
PACK = HANDBOOK / f"vectors.{MODEL.partition(':')[2]}.npz"


def texts_of_the_handbook(workdir: Path) -> tuple[str, list[tuple[str, str]]]:
    """A store holding the handbook, and every text its sections are embedded as."""
    url = f"sqlite:///{workdir / 'handbook.db'}"
    migrate(url)
    with session_scope(url, write=True) as s:
        seed_handbook(s)
    with session_scope(url) as s:
        return url, embeddings.pack_texts(s, MODEL)


def main() -> None:
    settings = Settings(embedding_model=MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        url, texts = texts_of_the_handbook(Path(tmp))
        with Progress() as bar, session_scope(url) as s:
            task = bar.add_task("embedding the handbook", total=None)
            embeddings.embed_sections(
                s, settings, progress=lambda i, n: bar.update(task, completed=i, total=n)
            )
        n = embeddings.write_pack(PACK, MODEL, texts)
    print(f"{PACK}: {n} vectors, {PACK.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
