"""The demo company's policy handbook (handbook/: English and Chinese Markdown, with the 2027
expenses update in handbook/updates/), imported into the knowledge base by `hrops seed`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from tools.knowledge import embeddings
from tools.knowledge.library import ImportOutcome, import_documents
from tools.store.identity import Principal
from tools.store.models import Role

HANDBOOK = Path(__file__).with_name("handbook")
# Its vectors for the default embedding model (tools/demo_company/handbook_vectors.py).
embeddings.add_pack(HANDBOOK / "vectors.multilingual-e5-small.npz")


def handbook_files() -> list[list[Path]]:
    """The files in import order: the documents in force now, then the updates that replace some
    of them later (a second version of the same doc_id)."""

    def policies(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*.md") if p.name != "README.md")

    return [policies(HANDBOOK), policies(HANDBOOK / "updates")]


def seed_handbook(session: Session, actor: str = "admin") -> list[ImportOutcome]:
    """Import the handbook; importing it again changes nothing."""
    who = Principal(username=actor, display_name=actor, roles=frozenset({Role.ADMIN}))
    outcomes: list[ImportOutcome] = []
    for batch in handbook_files():
        if batch:
            outcomes += import_documents(session, who, batch)
    return outcomes
