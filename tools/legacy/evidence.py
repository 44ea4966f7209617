"""Evidence of what the browser saw: the page HTML at each step, and a screenshot of each form as
filled in, of the answer and of the record read back, under var/.

Files are named by step only (never by a person's name or a credential); the folder is named by the
caller (the workflow id), and its path relative to the evidence root goes into the audit log.
The saved HTML shows the form as filled in (typed values included); secret fields are masked in
screenshots and blanked in the HTML, password fields are never saved.
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
  // What was typed or chosen lives in properties, not attributes: write it into the copy, so the
  // HTML shows the form as it was submitted (the same order in both trees).
  const live = document.querySelectorAll('input, textarea, select');
  const copies = copy.querySelectorAll('input, textarea, select');
  live.forEach((el, i) => {
    const c = copies[i];
    if (!c || el.type === 'password') return;
    if (el.tagName === 'SELECT') {
      Array.from(el.options).forEach((o, j) => c.options[j] && c.options[j].toggleAttribute('selected', o.selected));
    } else if (el.type === 'checkbox' || el.type === 'radio') {
      c.toggleAttribute('checked', el.checked);
    } else if (el.tagName === 'TEXTAREA') {
      c.textContent = el.value;
    } else {
      c.setAttribute('value', el.value);
    }
  });
  for (const e of copy.querySelectorAll('[data-hrops-secret], [data-hrops-secret] *')) {
    e.removeAttribute('value');
    e.removeAttribute('checked');
    e.removeAttribute('selected');
    if (!['SELECT', 'OPTION'].includes(e.tagName)) e.textContent = '';
  }
  for (const e of copy.querySelectorAll('input[type=password]')) e.removeAttribute('value');
  const dt = document.doctype ? `<!DOCTYPE ${document.doctype.name}>` : '';
  return dt + copy.outerHTML;
}
"""


class Shot(BaseModel):
    step: str
    at: datetime
    url_path: str
    screenshot: str | None  # None: HTML only (a server-rendered page the HTML shows completely)
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

    async def capture(
        self, page: Any, step: str, *, mask: list[Any] | None = None, screenshot: bool = True
    ) -> str | None:
        """HTML of the page and its frames, and (unless `screenshot=False`) a screenshot; returns
        the screenshot's path relative to the root."""
        if not self.enabled:
            return None
        from urllib.parse import urlparse

        self.path.mkdir(parents=True, exist_ok=True)
        stem = f"{len(self.shots) + 1:02d}-{_SAFE.sub('_', step)}"
        shot_path = self.path / f"{stem}.jpg"
        secret = mask or []
        if secret:  # mark them, so the saved HTML leaves their values out
            await asyncio.gather(*(m.evaluate_all(_MARK_SECRET) for m in secret), return_exceptions=True)
        htmls = [frame.evaluate(_HTML) for frame in page.frames]
        if screenshot:
            # Screenshot and HTML are taken together (the browser serves both at once); the caret
            # is left as it is and pixels are CSS pixels: both save a third of the screenshot's time.
            shot = page.screenshot(
                path=str(shot_path),
                type="jpeg",
                quality=70,
                full_page=True,
                mask=secret,
                caret="initial",
                scale="css",
                timeout=10_000,
            )
            taken, *contents = await asyncio.gather(shot, *htmls, return_exceptions=True)
            if isinstance(taken, BaseException):  # evidence must never turn a good push into a failure
                shot_path.write_bytes(b"")
        else:
            contents = await asyncio.gather(*htmls, return_exceptions=True)
        html_files = []
        for i, content in enumerate(contents):
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
                screenshot=shot_path.name if screenshot else None,
                html=html_files,
            )
        )
        self._write_index()
        return str(shot_path.relative_to(self.root)) if screenshot else None

    def _write_index(self, **extra: Any) -> None:
        index = {"steps": [s.model_dump(mode="json") for s in self.shots], **extra}
        (self.path / "evidence.json").write_text(json.dumps(index, indent=2), encoding="utf-8")

    def finish(self, **summary: Any) -> None:
        if self.enabled:
            self.path.mkdir(parents=True, exist_ok=True)
            self._write_index(summary=summary)
