"""Markdown policy documents: YAML front matter, sections by headings 1-3, plain text out."""

from __future__ import annotations

import re

import yaml
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tools.knowledge.models import KnowledgeImportError, ReadResult
from tools.knowledge.sections import SectionBuilder, one_line, table_lines

_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
# `## Annual leave {#annual-leave}`: what is inside the braces is checked by the section builder.
_EXPLICIT_ANCHOR = re.compile(r"\s*\{#([^{}]*)\}\s*$")
_HARD_BREAK = "\x00"  # survives one_line's whitespace collapsing, becomes a line break afterwards
_MD = MarkdownIt("commonmark").enable("table")


def read_markdown(path: str, text: str) -> ReadResult:
    front_matter, body, offset = _front_matter(path, text)
    builder = SectionBuilder(path, strict_anchors=True)
    title = _Walker(builder, offset).walk(_MD.parse(body))
    return ReadResult(title=title, front_matter=front_matter, sections=builder.sections())


def _front_matter(path: str, text: str) -> tuple[dict[str, object], str, int]:
    """(front matter, the Markdown after it, how many lines the front matter took)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text, 0
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise KnowledgeImportError(
            path,
            "the front matter opened with '---' on line 1 is never closed",
            "add a line with only '---' after the last front matter line",
        )
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" on line {mark.line + 2}" if mark is not None else ""  # +1: 0-based, +1: the opening ---
        reason = getattr(e, "problem", None) or str(e)
        raise KnowledgeImportError(
            path,
            f"the front matter is not valid YAML{line}: {reason}",
            "fix that line between the '---' lines: one 'key: value' per line, "
            "quote values that contain ': ' or start with a special character",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KnowledgeImportError(
            path,
            f"the front matter is a {type(data).__name__}, not 'key: value' lines",
            "write the front matter as 'key: value' lines, e.g. 'doc_id: leave.en'",
        )
    return {str(k): v for k, v in data.items()}, "\n".join(lines[end + 1 :]), end + 1


class _Walker:
    """Turns markdown-it's flat token stream into headings and text blocks."""

    def __init__(self, builder: SectionBuilder, line_offset: int) -> None:
        self.b, self.offset = builder, line_offset
        self.lists: list[bool] = []  # open lists, innermost last; True = ordered
        self.list_lines: list[str] = []
        self.marker: str | None = None  # "- " or "3. " until the item's first paragraph is written
        self.rows: list[list[str]] = []
        self.title: str | None = None

    def walk(self, tokens: list[Token]) -> str | None:
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t.type == "heading_open":
                self._heading(t, _inline(tokens[i + 1]))
                i += 2
            elif t.type == "inline":
                if tokens[i - 1].type in ("th_open", "td_open"):  # a table cell
                    self.rows[-1].append(_inline(t))
                else:
                    self._emit(_inline(t))
            elif t.type in ("bullet_list_open", "ordered_list_open"):
                self.lists.append(t.type == "ordered_list_open")
            elif t.type in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                if not self.lists:
                    self.b.add("\n".join(self.list_lines))
                    self.list_lines = []
            elif t.type == "list_item_open":
                self.marker = f"{t.info}. " if self.lists[-1] and t.info else "- "
            elif t.type == "table_open":
                self.rows = []
            elif t.type == "tr_open":
                self.rows.append([])
            elif t.type == "table_close":
                self._emit("\n".join(table_lines(self.rows)), block=True)
            elif t.type in ("fence", "code_block"):
                self._emit(t.content, block=True)
            elif t.type == "html_block":
                self._emit(BeautifulSoup(t.content, "lxml").get_text("\n"), block=True)
            i += 1
        return self.title

    def _heading(self, t: Token, text: str) -> None:
        level = int(t.tag[1])
        if level > 3 or self.lists:  # deeper headings stay in their section as a line of text
            self._emit(_EXPLICIT_ANCHOR.sub("", text))
            return
        m = _EXPLICIT_ANCHOR.search(text)
        explicit = m.group(1).strip() if m else None
        text = text[: m.start()] if m else text
        where = f"line {t.map[0] + 1 + self.offset}" if t.map else ""
        self.b.heading(level, text, explicit, where)
        if level == 1 and self.title is None:
            self.title = one_line(text) or None

    def _emit(self, text: str, block: bool = False) -> None:
        if not self.lists:
            self.b.add(text)
        elif self.marker is not None and not block:
            self.list_lines.append(self.marker + text)
            self.marker = None
        else:  # an item's second paragraph, or a table or code inside an item
            self.list_lines.append(text)


def _inline(token: Token) -> str:
    """Plain text of one inline run: markup dropped, link text kept, images dropped."""
    parts = []
    for c in token.children or []:
        if c.type in ("text", "code_inline"):
            parts.append(c.content)
        elif c.type == "softbreak":
            parts.append("\n")
        elif c.type == "hardbreak" or (c.type == "html_inline" and re.match(r"<br\s*/?>", c.content, re.I)):
            parts.append(_HARD_BREAK)
    text = one_line("".join(parts))
    return re.sub(rf"\s*{_HARD_BREAK}\s*", "\n", text)
