"""What every reader shares: plain-text normalisation, anchors (slugs), table rows as lines, and the
builder that turns a stream of headings and text blocks into citable sections."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import zip_longest

from tools.knowledge.models import ANCHOR_PATTERN, KnowledgeImportError, ParsedSection

# Han (with extensions and compatibility ideographs), kana and Hangul: kept in anchors as they are.
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\U00020000-\U0002fa1f"
_SLUG_WORD = re.compile(rf"[a-z0-9]+|[{CJK}]+")
_ANCHOR = re.compile(ANCHOR_PATTERN)
_MAX_ANCHOR = 120
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except a line break (incl. NBSP, ideographic space)
_CJK_TEXT = rf"{CJK}\u3000-\u303f\uff00-\uffef"  # with Chinese punctuation and full-width forms
_CJK_BREAK = re.compile(rf"(?<=[{_CJK_TEXT}])[^\S\n]*\n[^\S\n]*(?=[{_CJK_TEXT}])")


def normalise(text: str) -> str:
    """NFC, runs of spaces collapsed, lines trimmed, paragraphs separated by exactly one blank line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """A heading, cell or list item: all whitespace collapsed; a line break between two Chinese
    characters is dropped (Chinese has no spaces between words), any other becomes a space."""
    text = _CJK_BREAK.sub("", unicodedata.normalize("NFC", text).translate(_INVISIBLE))
    return " ".join(text.split())


def slug(text: str) -> str:
    """`Annual leave (CN)` -> `annual-leave-cn`, `年假 Annual leave` -> `年假-annual-leave`:
    lowercase ASCII words and CJK runs joined by `-`; accents folded; other characters dropped."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    out = "-".join(_SLUG_WORD.findall(unicodedata.normalize("NFC", folded)))
    return out[: _MAX_ANCHOR - 10].rstrip("-")  # room for a -N suffix


def valid_anchor(anchor: str) -> bool:
    return bool(_ANCHOR.match(anchor))


def cell_text(value: object) -> str:
    return one_line(str(value)) if value is not None else ""


def table_lines(rows: list[list[str]]) -> list[str]:
    """The first non-empty row is the header; every further row reads `Header: value; Header: value`
    (empty cells skipped; a value under an empty header stands alone)."""
    rows = [[cell_text(c) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:  # a one-row table: nothing to pair with, keep the values
        return ["; ".join(c for c in header if c)]
    lines = []
    for row in body:
        parts = [f"{h}: {v}" if h else v for h, v in zip_longest(header, row, fillvalue="") if v]
        if parts:
            lines.append("; ".join(parts))
    return lines


@dataclass
class _Draft:
    heading: str
    level: int  # 0: the text before the first heading
    path: list[str]
    explicit: str | None
    where: str  # e.g. "line 12": where a person finds the heading, for error messages
    blocks: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


# A paragraph "Keywords: a; b; c" (关键词：...) gives the section words people use for it that its
# text may not: searched like its heading, never quoted.
KEYWORDS_LINE = re.compile(
    r"^(?:keywords|also asked as|关键词|常见问法)\s*[:：]\s*(.+)$", re.IGNORECASE | re.DOTALL
)
# A paragraph "Questions: q1; q2" (常见问题：...) gives questions employees ask that the section
# answers, in their words: an FAQ. Matched by meaning (a question is nearer another question than
# any policy text), never quoted; split at semicolons only, as questions hold commas.
QUESTIONS_LINE = re.compile(r"^(?:questions|常见问题)\s*[:：]\s*(.+)$", re.IGNORECASE | re.DOTALL)


class SectionBuilder:
    """Collects headings (levels 1-3) and text blocks in document order.

    `strict_anchors`: an explicit anchor the author wrote (Markdown `{#id}`) must be valid and unique,
    else the import fails with the place to fix; for converted formats (HTML `id`) a bad one falls
    back to the heading's slug and a repeat gets `-2`, because the author cannot easily fix it."""

    def __init__(self, path: str, *, strict_anchors: bool = False, intro_heading: str = "Introduction"):
        self._file = path
        self._strict = strict_anchors
        self._intro_heading = intro_heading
        self._drafts: list[_Draft] = []
        self._trail: list[tuple[int, str]] = []

    def heading(self, level: int, text: str, explicit: str | None = None, where: str = "") -> None:
        text = one_line(text)
        self._trail = [(lvl, t) for lvl, t in self._trail if lvl < level] + [(level, text)]
        self._drafts.append(_Draft(text, level, [t for _, t in self._trail], explicit, where))

    def add(self, block: str) -> None:
        block = normalise(block)
        if not block:
            return
        if not self._drafts:
            self._drafts.append(_Draft(self._intro_heading, 0, [], None, "the start"))
        if m := KEYWORDS_LINE.match(block):
            self._drafts[-1].keywords += [
                k.strip() for k in re.split(r"[;；,，、\n]", m.group(1)) if k.strip()
            ]
            return
        if m := QUESTIONS_LINE.match(block):
            self._drafts[-1].questions += [q.strip() for q in re.split(r"[;；\n]", m.group(1)) if q.strip()]
            return
        self._drafts[-1].blocks.append(block)

    def sections(self) -> list[ParsedSection]:
        anchors = self._anchors()
        return [
            ParsedSection(
                anchor=anchor,
                heading=d.heading or anchor,
                path=d.path,
                text="\n\n".join(d.blocks),
                keywords=d.keywords,
                questions=d.questions,
            )
            for d, anchor in zip(self._drafts, anchors, strict=True)
            # A heading with no text of its own (a document title above its sections) is no section;
            # its anchor is still reserved so later anchors do not shift when it gains text.
            if d.blocks
        ]

    def _anchors(self) -> list[str]:
        explicit: dict[str, _Draft] = {}
        for d in self._drafts:
            if d.explicit is None or d.level == 0:
                continue
            if not valid_anchor(d.explicit):
                if self._strict:
                    raise KnowledgeImportError(
                        self._file,
                        f"the heading {d.heading!r} ({d.where}) has an invalid anchor {{#{d.explicit}}}",
                        "use letters, digits and '-' without spaces, e.g. {#annual-leave}",
                    )
                d.explicit = None
            elif d.explicit in explicit:
                if self._strict:
                    first = explicit[d.explicit]
                    raise KnowledgeImportError(
                        self._file,
                        f"the headings {first.heading!r} ({first.where}) and {d.heading!r} ({d.where}) "
                        f"both use the anchor {{#{d.explicit}}}",
                        "give every heading its own anchor (answers cite them)",
                    )
                d.explicit = None
            else:
                explicit[d.explicit] = d
        used: set[str] = set()
        out = []
        for d in self._drafts:
            if d.level and d.explicit is not None and explicit.get(d.explicit) is d:
                anchor = d.explicit
            else:
                base = "intro" if d.level == 0 else slug(d.heading) or "section"
                anchor, n = base, 1
                while anchor in used or anchor in explicit:
                    n += 1
                    anchor = f"{base}-{n}"
            used.add(anchor)
            out.append(anchor)
        return out
