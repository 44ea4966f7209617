"""Evidence of what the browser saw: a screenshot and the page HTML at each step, under var/.

Files are named by step only (never by a person's name or a credential); the folder is named by the
caller (the workflow id), and its path relative to the evidence root goes into the audit log.
Secret fields are masked in screenshots; typed input values are not part of the saved HTML.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


_MARK_SECRET = "els => els.forEach(e => e.setAttribute('data-hrops-secret', ''))"
# The document as HTML, with secret fields' values left out (typed values are never attributes;
# values the server put into the page are).
_HTML = """
() => {
  const copy = document.documentElement.cloneNode(true);
  for (const e of copy.querySelectorAll('[data-hrops-secret], [data-hrops-secret] *')) {
    e.removeAttribute('value');
    e.removeAttribute('checked');
    e.removeAttribute('selected');
    if (!['SELECT', 'OPTION'].includes(e.tagName)) e.textContent = '';
  }
  const dt = document.doctype ? `<!DOCTYPE ${document.doctype.name}>` : '';
  return dt + copy.outerHTML;
}
"""


class Shot(BaseModel):
    step: str
    at: datetime
    url_path: str
    screenshot: str
    html: list[str]


class Evidence:
    """One folder per push. `enabled=False` records the index only (used by benchmarks)."""

    def __init__(self, root: Path, folder: str, *, enabled: bool = True) -> None:
        self.root = root
        self.folder = _SAFE.sub("_", folder).strip("_") or "push"
        self.enabled = enabled
        self.shots: list[Shot] = []

    @property
    def path(self) -> Path:
        return self.root / self.folder

    async def capture(self, page: Any, step: str, *, mask: list[Any] | None = None) -> str | None:
        """Screenshot + HTML of the page and its frames; returns the screenshot path relative to root."""
        if not self.enabled:
            return None
        from urllib.parse import urlparse

        self.path.mkdir(parents=True, exist_ok=True)
        stem = f"{len(self.shots) + 1:02d}-{_SAFE.sub('_', step)}"
        png = self.path / f"{stem}.jpg"
        # Screenshot and HTML are taken together (the browser serves both at once); the caret is
        # left as it is and pixels are CSS pixels: both save a third of the screenshot's time.
        shot = page.screenshot(
            path=str(png),
            type="jpeg",
            quality=70,
            full_page=True,
            mask=mask or [],
            caret="initial",
            scale="css",
            timeout=10_000,
        )
        secret = mask or []
        if secret:  # mark them, so the saved HTML leaves their values out
            await asyncio.gather(*(m.evaluate_all(_MARK_SECRET) for m in secret), return_exceptions=True)
        results = await asyncio.gather(
            shot, *(frame.evaluate(_HTML) for frame in page.frames), return_exceptions=True
        )
        if isinstance(results[0], BaseException):  # evidence must never turn a good push into a failure
            png.write_bytes(b"")
        html_files = []
        for i, content in enumerate(results[1:]):
            if isinstance(content, BaseException):  # a frame navigating away has no content to save
                continue
            name = f"{stem}.html" if i == 0 else f"{stem}.frame{i}.html"
            (self.path / name).write_text(content, encoding="utf-8")
            html_files.append(name)
        self.shots.append(
            Shot(
                step=step,
                at=datetime.now(UTC),
                url_path=urlparse(page.url).path,
                screenshot=png.name,
                html=html_files,
            )
        )
        self._write_index()
        return str(png.relative_to(self.root))

    def _write_index(self, **extra: Any) -> None:
        index = {"steps": [s.model_dump(mode="json") for s in self.shots], **extra}
        (self.path / "evidence.json").write_text(json.dumps(index, indent=2), encoding="utf-8")

    def finish(self, **summary: Any) -> None:
        if self.enabled:
            self.path.mkdir(parents=True, exist_ok=True)
            self._write_index(summary=summary)
