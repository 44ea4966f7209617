"""HTML policy pages (an intranet page saved to disk, a wiki export): sections by h1-h3, the
heading's `id` as its anchor; scripts, styles and navigation are not policy text."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from tools.knowledge.models import ReadResult
from tools.knowledge.sections import SectionBuilder, one_line, table_lines

_SKIP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "object", "head"]
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "dl", "dt",
    "dd", "figure", "figcaption", "address", "form", "fieldset", "details", "summary", "center", "hr",
    "li", "body", "html", "caption", "tr", "td", "th",
}  # fmt: skip
_HEADING = re.compile(r"^h([1-6])$")


def read_html(path: str, data: bytes) -> ReadResult:
    soup = BeautifulSoup(data, "lxml")  # lxml + bs4 find the encoding (BOM, <meta charset>, guess)
    title = one_line(soup.title.get_text()) if soup.title else ""
    for tag in soup.find_all(_SKIP):
        tag.decompose()
    if not title and (h1 := soup.find("h1")):
        title = one_line(h1.get_text())
    builder = SectionBuilder(path)
    _Walker(builder).walk(soup)
    return ReadResult(title=title or None, sections=builder.sections())


class _Walker:
    def __init__(self, builder: SectionBuilder) -> None:
        self.b = builder
        self.buffer: list[str] = []  # the running paragraph's text

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # comments, doctype, CDATA
                    self.buffer.append(re.sub(r"\s+", lambda m: "\n" if "\n" in m[0] else " ", str(child)))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if m := _HEADING.match(name):
                self.flush()
                if int(m[1]) <= 3:
                    self.b.heading(int(m[1]), _inline(child), _explicit_anchor(child))
                else:  # deeper headings stay in their section as a line of text
                    self.b.add(_inline(child))
            elif name == "br":
                self.buffer.append("\x00")
            elif name == "table":
                self.flush()
                self.b.add("\n".join(_table(child)))
            elif name in ("ul", "ol"):
                self.flush()
                self.b.add("\n".join(_list(child)))
            elif name == "pre":
                self.flush()
                self.b.add(child.get_text())
            elif name in _BLOCK:
                self.flush()
                self.walk(child)
                self.flush()
            else:  # inline markup (b, a, span, ...): its text joins the running paragraph
                self.walk(child)

    def flush(self) -> None:
        # Source line breaks inside a paragraph are spaces (none between Chinese characters); <br> breaks.
        text = "\n".join(one_line(part) for part in "".join(self.buffer).split("\x00"))
        self.buffer = []
        self.b.add(text)


def _explicit_anchor(heading: Tag) -> str | None:
    """The heading's id, or the id/name of an `<a>` inside it (`<h2><a name="x"></a>...`)."""
    if heading.get("id"):
        return str(heading["id"]).strip()
    a = heading.find("a", attrs={"id": True}) or heading.find("a", attrs={"name": True})
    return str(a.get("id") or a.get("name")).strip() if a else None


def _inline(tag: Tag) -> str:
    """The text of a heading, cell or list item on one line: block boundaries inside become spaces,
    inline markup joins without one (`<b>年</b>假` stays `年假`)."""
    parts = []
    for d in tag.descendants:
        if isinstance(d, NavigableString) and not isinstance(d, PreformattedString):
            parts.append(str(d))
        elif isinstance(d, Tag) and (
            d.name in _BLOCK or d.name in ("br", "ul", "ol") or _HEADING.match(d.name)
        ):
            parts.append(" ")
    return one_line("".join(parts))


def _table(table: Tag) -> list[str]:
    rows = [
        [_inline(cell) for cell in tr.find_all(["th", "td"], recursive=False)]
        for tr in table.find_all("tr")
        if tr.find_parent("table") is table  # not the rows of a table nested in a cell
    ]
    caption = table.find("caption", recursive=False)
    return ([_inline(caption)] if caption else []) + table_lines(rows)


def _list(lst: Tag) -> list[str]:
    """One line per item, `- text` (`3. text` in an ordered list); nested items follow their parent."""
    lines = []
    number = int(lst["start"]) if lst.name == "ol" and str(lst.get("start", "")).isdigit() else 1
    for li in lst.find_all("li", recursive=False):
        nested = li.find_all(["ul", "ol"], recursive=False)
        for n in nested:
            n.extract()
        marker = f"{number}. " if lst.name == "ol" else "- "
        if text := _inline(li):
            lines.append(marker + text)
        number += 1
        for n in nested:
            lines.extend(_list(n))
    return lines
