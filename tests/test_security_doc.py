"""docs/security.md states each guarantee with the test that proves it: every test it names exists,
so a renamed or deleted test cannot leave a guarantee without its proof."""

from __future__ import annotations

import re

from tests.conftest import REPO

DOC = REPO / "docs" / "security.md"
CITED = re.compile(r"`?(tests/[\w/]+\.py)::(\w+)`?|`::(\w+)`")


def test_every_test_the_security_page_cites_exists() -> None:
    text = DOC.read_text()
    cited, missing, file = [], [], None
    for m in CITED.finditer(text):
        file = m.group(1) or file  # "`::name`" continues the file named just before
        name = m.group(2) or m.group(3)
        cited.append((file, name))
        source = (REPO / file).read_text() if (REPO / file).exists() else ""
        if not re.search(rf"^(async )?def {name}\(", source, re.M):
            missing.append(f"{file}::{name}")
    assert len(cited) >= 25 and missing == [], f"docs/security.md cites tests that do not exist: {missing}"
    assert not re.search(r"[A-Z]+_SECTION", text), "docs/security.md has a section left to write"
