"""Job matching: an internal title, English or Simplified Chinese, to a standard occupation (SOC
detailed occupation, tools/market/occupations.yaml) and to each source's own categories, with a
readable rationale and a confidence. Offline and deterministic; it never guesses: below
MATCH_THRESHOLD the match `needs_choice` and the analyst picks one of the candidates (`choose`).

Seniority is read first and removed from the title: senior/sr/lead/principal/staff (engineers)
-> senior, junior/jr/intern/trainee/graduate -> entry, mid-level -> mid, head of/chief/director/
VP -> executive; 高级/资深 -> senior, 初级/实习/实习生 -> entry, 中级 -> mid, 首席/总监/负责人 ->
executive; a trailing I/II/III reads entry/mid/senior. "manager", "supervisor", 经理 and 主管 read
senior only when they are not part of the job's name (HR Manager and 产品经理 are occupations).
An internal level maps too: L1-L3 entry, L4-L5 mid, L6-L7 senior, L8-L9 executive. A level given
with the question wins over the title's; where they differ the rationale says so.

The occupation is found, best first, by:
  1. the title dictionary (tools/market/titles.yaml), exactly: 1.0 for the entry's own title, 0.97
     for a synonym, times the entry's confidence (below 1 where the SOC is only the closest fit);
  2. a dictionary phrase inside a longer title: that, times 0.5 + 0.5 x the share of the title it
     covers (each word not understood lowers the confidence);
  3. a dictionary phrase that reads alike (typos, word order; Chinese character by character):
     0.9 x similarity x the entry's confidence;
  4. English only: a SOC title, singular or plural: 0.9 when equal, else 0.85 x similarity.
The best reading per SOC code is a candidate; the matched entry's alternatives (data engineer:
also Software Developers) join at 0.6 x its confidence, so the analyst sees them but they are never
picked. Seniority words inside a dictionary phrase still set the level ("HR Director" ->
executive), except manager/经理/主管 as above.
"""

from __future__ import annotations

import difflib
import heapq
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.market.models import MATCH_THRESHOLD, Candidate, Level, MarketError, Match
from tools.yaml_problems import problems

HERE = Path(__file__).resolve().parent
OCCUPATIONS = HERE / "occupations.yaml"
TITLES = HERE / "titles.yaml"
MAX_CANDIDATES = 5
MIN_CHOICES = 3  # offered when the analyst must choose, however unlike
SYNONYM = 0.97  # an exact synonym, against the entry's own title
FUZZY = 0.9  # a dictionary phrase that reads alike, times the similarity
SOC_EXACT = 0.9  # a SOC title, singular or plural
SOC_FUZZY = 0.85  # a SOC title that reads alike, times the similarity
ALTERNATIVE = 0.6  # an entry's alternative occupation, times the entry's confidence
PRESELECT = 20  # phrases compared in full after a cheap character-pair screen
WORD_MATCH = 0.8  # English words this alike pair up (a typo)
_STOP = {"and", "of", "the", "for", "in", "to", "a", "an", "except"}

L_LEVELS = {1: Level.ENTRY, 2: Level.ENTRY, 3: Level.ENTRY, 4: Level.MID, 5: Level.MID}
L_LEVELS |= {6: Level.SENIOR, 7: Level.SENIOR, 8: Level.EXECUTIVE, 9: Level.EXECUTIVE}
_EDGE = "A-Za-z0-9"
_TECH = "software|data|machine|ml|ai|research|security|product|front|back|full|site|cloud|platform"
_TECH += "|engineer|scientist|developer|designer|architect|analyst|researcher"
# (pattern, level, role): a role word names the job as much as the level ("HR Manager").
_EN_WORDS: list[tuple[str, Level, bool]] = [
    (r"(?:senior |executive )?vice president(?: of)?|[se]?vp(?: of)?", Level.EXECUTIVE, False),
    (r"head of|chief|director(?: of)?", Level.EXECUTIVE, False),
    (r"senior|snr|sr\.?|lead|principal", Level.SENIOR, False),
    (rf"staff(?= (?:{_TECH}))", Level.SENIOR, False),
    (r"junior|jr\.?|intern(?:ship)?|trainee|apprentice|graduate|new grad|entry[- ]level", Level.ENTRY, False),
    (r"mid[- ]level|intermediate", Level.MID, False),
    (r"manager(?: of)?|mgr\.?|supervisor", Level.SENIOR, True),
]
_ROMAN = {"i": Level.ENTRY, "ii": Level.MID, "iii": Level.SENIOR, "iv": Level.SENIOR}
_ZH_WORDS: list[tuple[str, Level, bool]] = [
    ("首席|副总裁|总监|负责人", Level.EXECUTIVE, False),
    ("高级|资深", Level.SENIOR, False),
    ("初级|实习生|实习|见习", Level.ENTRY, False),
    ("中级", Level.MID, False),
    ("经理|主管", Level.SENIOR, True),
]
_RANK = {Level.ENTRY: 0, Level.MID: 1, Level.SENIOR: 2, Level.EXECUTIVE: 3}


class Synonyms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: list[str] = []
    zh: list[str] = []


class TitleEntry(BaseModel):
    """One job of the title dictionary (see the head of titles.yaml)."""

    model_config = ConfigDict(extra="forbid")
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    soc: str = Field(pattern=r"^\d\d-\d{4}$")
    synonyms: Synonyms = Synonyms()
    aijobs: list[str] = []
    confidence: float = Field(1.0, gt=0, le=1)
    why: str | None = None
    alternatives: dict[str, str] = {}

    @property
    def names(self) -> str:
        return f'"{self.en}" ({self.zh})'


@dataclass(frozen=True)
class _Phrase:
    key: str  # normalised
    text: str  # as the dictionary writes it
    entry: TitleEntry
    synonym: bool
    grams: frozenset[str]


@dataclass(frozen=True)
class _Soc:
    code: str
    title: str
    keys: tuple[str, ...]  # normalised, singular: the whole title and the part before ", except"
    grams: frozenset[str]


@dataclass
class _Data:
    occupations: dict[str, str]
    entries: list[TitleEntry]
    exact: dict[str, _Phrase]
    en: list[_Phrase]
    zh: list[_Phrase]
    soc: list[_Soc]


@dataclass
class _Score:
    """The best reason found for one SOC code."""

    code: str
    confidence: float
    why: str  # for the candidate
    kind: str  # exact | contained | fuzzy | soc | alternative
    phrase: _Phrase | None = None
    shown: str = ""  # the part of the title it was found from
    left: list[str] = field(default_factory=list)  # words not understood
    similarity: float = 1.0


@dataclass(frozen=True)
class _Found:
    """A match, before it becomes a Match (cached; Match objects are handed out fresh)."""

    title: str
    level: Level | None
    level_words: str  # the level part of the rationale ("" when none)
    core: str  # the title without its seniority words
    scores: tuple[_Score, ...]  # best first


# -- loading ----------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> object:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader)


def load_occupations(path: Path = OCCUPATIONS) -> dict[str, str]:
    """SOC code -> title, as in occupations.yaml."""
    data = _read_yaml(path)
    rows = data.get("occupations") if isinstance(data, dict) else None
    if not rows:
        raise MarketError(f"{path}: no occupations (rebuild it: python -m tools.market.build_occupations)")
    return {str(r["code"]): str(r["title"]) for r in rows}


class _Titles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    titles: list[TitleEntry]


def load_titles(path: Path = TITLES) -> list[TitleEntry]:
    data = _read_yaml(path)
    try:
        return _Titles.model_validate(data).titles
    except ValidationError as e:
        lines = problems(e, data, lambda d: d.get("en"), "see the head of titles.yaml")
        raise MarketError(f"{path}: " + "; ".join(lines)) from None


@lru_cache(maxsize=1)
def _data() -> _Data:
    occupations = load_occupations()
    entries = load_titles()
    exact: dict[str, _Phrase] = {}
    for e in entries:
        for code in [e.soc, *e.alternatives]:
            if code not in occupations:
                raise MarketError(f'{TITLES}: "{e.en}" names SOC {code}, which is not in {OCCUPATIONS.name}')
        names = [(e.en, False), (e.zh, False), *((s, True) for s in e.synonyms.en + e.synonyms.zh)]
        for text, synonym in names:
            key = _norm(text)
            if key in exact and exact[key].entry is not e:
                raise MarketError(f'{TITLES}: "{text}" is in both "{exact[key].entry.en}" and "{e.en}"')
            exact.setdefault(key, _Phrase(key, text, e, synonym, _grams(key)))
    phrases = list(exact.values())
    soc = []
    for code, title in occupations.items():
        keys = {_singular(_norm(title)), _singular(_norm(re.split(r", (?:except|all other)", title)[0]))}
        soc.append(_Soc(code, title, tuple(sorted(keys)), _grams(min(keys, key=len))))
    return _Data(
        occupations=occupations,
        entries=entries,
        exact=exact,
        en=[p for p in phrases if not _is_zh(p.key)],
        zh=[p for p in phrases if _is_zh(p.key)],
        soc=soc,
    )


# -- text -------------------------------------------------------------------------------------------


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _norm(text: str) -> str:
    """Lower case, '&' as 'and', punctuation as spaces (C++ and C# kept), no spaces around Chinese."""
    t = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    t = re.sub(r"[^\w+#]+|_", " ", t)
    t = re.sub(r"\s*([\u4e00-\u9fff]+)\s*", r"\1", t)
    return " ".join(t.split())


def _singular(key: str) -> str:
    def one(w: str) -> str:
        if len(w) <= 3 or w.endswith(("ss", "us", "is")):
            return w
        if w.endswith("ies"):
            return w[:-3] + "y"
        if w.endswith(("sses", "ches", "shes", "xes")):
            return w[:-2]
        return w[:-1] if w.endswith("s") else w

    return " ".join(one(w) for w in key.split())


def _grams(key: str) -> frozenset[str]:
    """Character pairs (and single characters for Chinese): a cheap screen before difflib."""
    if _is_zh(key):
        return frozenset(key) | frozenset(key[i : i + 2] for i in range(len(key) - 1))
    padded = f" {key} "
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b))


def _similarity(a: str, b: str) -> float:
    """Chinese: difflib's ratio over the characters. English: over the words, each paired with the
    most alike word of the other (a typo still pairs, at >= 0.8), so word order does not count and
    a word one side lacks does ("Engineer" is not "QA Engineer")."""
    if _is_zh(a) or _is_zh(b):
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    wa, wb = _words(a), _words(b)
    unused, total = list(wb), 0.0
    for w in wa:
        best, at = 0.0, -1
        for i, u in enumerate(unused):
            if (r := _word_ratio(w, u)) > best:
                best, at = r, i
        if best >= WORD_MATCH:
            total += best
            unused.pop(at)
    return 2 * total / (len(wa) + len(wb))


def _words(key: str) -> list[str]:
    return [w for w in key.split() if w not in _STOP] or key.split()


@lru_cache(maxsize=65536)
def _word_ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if sm.real_quick_ratio() < WORD_MATCH or sm.quick_ratio() < WORD_MATCH:
        return 0.0  # bounds from the lengths and the letters: too unlike to pair
    return sm.ratio()


def _contains(text: str, phrase: str) -> bool:
    """`phrase` inside `text`; English phrases as whole words."""
    if _is_zh(phrase):
        return phrase in text
    return f" {phrase} " in f" {text} "  # normalised: words are separated by single spaces


def _left(text: str, p: _Phrase) -> list[str]:
    """The words of the title outside the dictionary phrase found in it, as the title writes them."""
    if _is_zh(p.key):
        return [w for w in _shown(text).replace(p.text, " ").split() if _norm(w)] or [
            w for w in _norm(text).replace(p.key, " ").split() if w
        ]
    inside = set(p.key.split())
    words = (re.sub(r"^[\W_]+|[\W_]+$", "", w) for w in _shown(text).split())
    return [w for w in words if (k := _norm(w)) and k not in inside and k not in _STOP]


def _shown(text: str) -> str:
    """The title as written, without its seniority words: spaces collapsed, edge punctuation gone."""
    t = " ".join(re.sub(r"[()\[\]{}【】]", " ", unicodedata.normalize("NFKC", text)).split())
    t = re.sub(r"\s*([\u4e00-\u9fff]+)\s*", r"\1", t) if _is_zh(t) else t
    return re.sub(r"^[\W_]+|[\W_]+$", "", t)


# -- seniority --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str
    level: Level
    role: bool


_LEVEL_RX = [
    (re.compile(rf"(?<![{_EDGE}])(?:{pattern})(?![{_EDGE}])", re.I), level, role)
    for pattern, level, role in _EN_WORDS
] + [(re.compile(pattern), level, role) for pattern, level, role in _ZH_WORDS]
_ROMAN_RX = re.compile(rf"(?<=[{_EDGE}] )(iv|iii|ii|i)\s*$", re.I)


def _level_words(title: str) -> list[_Word]:
    found: list[_Word] = []
    for rx, level, role in _LEVEL_RX:
        found += [_Word(m.start(), m.end(), m.group(0), level, role) for m in rx.finditer(title)]
    m = _ROMAN_RX.search(title)
    if m:
        found.append(_Word(m.start(1), m.end(1), m.group(1), _ROMAN[m.group(1).lower()], False))
    kept: list[_Word] = []
    for w in sorted(found, key=lambda w: (w.start - w.end, w.start)):  # longest first, no overlaps
        if all(w.end <= k.start or w.start >= k.end for k in kept):
            kept.append(w)
    return sorted(kept, key=lambda w: w.start)


def _without(title: str, words: list[_Word]) -> str:
    out = title
    for w in sorted(words, key=lambda w: -w.start):
        out = out[: w.start] + " " + out[w.end :]
    return out


def parse_level(level: str | None) -> Level | None:
    """An internal level L1-L9, or entry/mid/senior/executive; None stays None."""
    if level is None or not str(level).strip():
        return None
    text = str(level).strip()
    if m := re.fullmatch(r"[Ll]\s*([1-9])", text):
        return L_LEVELS[int(m.group(1))]
    try:
        return Level(text.lower())
    except ValueError:
        raise MarketError(
            f'level "{level}" is not understood: give an internal level L1-L9 or one of '
            "entry, mid, senior, executive"
        ) from None


# -- matching ---------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title or "").strip()
    if not text:
        raise MarketError(
            'the title is empty: give the internal job title, e.g. "Senior Data Scientist" or 高级数据科学家'
        )
    if len(text) > 200:
        raise MarketError(f"the title is {len(text)} characters long: give the job title alone (at most 200)")
    return text


def _variants(title: str, words: list[_Word]) -> list[tuple[str, list[_Word]]]:
    """The title with each subset of its seniority words removed, fewest removed first."""
    n = len(words)
    if n > 4:  # a title with that many seniority words: all or none
        subsets = [[], list(words)]
    else:
        subsets = [[w for i, w in enumerate(words) if mask >> i & 1] for mask in range(1 << n)]
        subsets.sort(key=len)
    return [(_without(title, s), s) for s in subsets]


def _exact(data: _Data, title: str, words: list[_Word]) -> tuple[_Phrase, str, list[_Word]] | None:
    for text, removed in _variants(title, words):
        if (key := _norm(text)) and key in data.exact:
            return data.exact[key], text, removed
    return None


def _entry_score(p: _Phrase, kind: str, confidence: float, shown: str, **extra: object) -> _Score:
    return _Score(
        code=p.entry.soc,
        confidence=confidence,
        why="",
        kind=kind,
        phrase=p,
        shown=shown,
        **extra,  # type: ignore[arg-type]
    )


def _scores(data: _Data, texts: list[str]) -> dict[str, _Score]:
    """Every occupation the title reads like, from the dictionary and the SOC titles (English)."""
    best: dict[str, _Score] = {}

    def offer(s: _Score) -> None:
        if s.code not in best or s.confidence > best[s.code].confidence:
            best[s.code] = s

    for text in texts:
        key = _norm(text)
        if not key:
            continue
        phrases = data.zh if _is_zh(key) else data.en
        size = len(key.replace(" ", ""))
        for p in phrases:  # a dictionary phrase inside a longer title
            if p.key != key and len(p.key) < len(key) and _contains(key, p.key):
                cover = len(p.key.replace(" ", "")) / size
                base = p.entry.confidence * (SYNONYM if p.synonym else 1.0)
                offer(
                    _entry_score(
                        p, "contained", base * (0.5 + 0.5 * cover), _shown(text), left=_left(text, p)
                    )
                )
        grams = _grams(key)
        for p in heapq.nlargest(PRESELECT, phrases, key=lambda p: _dice(grams, p.grams)):
            sim = _similarity(key, p.key)
            offer(_entry_score(p, "fuzzy", FUZZY * sim * p.entry.confidence, _shown(text), similarity=sim))
        if _is_zh(key):
            continue
        singular = _singular(key)
        for o in heapq.nlargest(PRESELECT, data.soc, key=lambda o: _dice(grams, o.grams)):
            sim = max(_similarity(singular, k) for k in o.keys)
            conf = SOC_EXACT if sim == 1.0 else SOC_FUZZY * sim
            offer(_Score(o.code, conf, "", "soc", shown=_shown(text), similarity=sim))
    return best


def _level_part(words: list[_Word], counted: list[_Word], given: str | None) -> tuple[Level | None, str]:
    from_title = max((w.level for w in counted), key=_RANK.__getitem__, default=None)
    said = ", ".join(f'"{w.text}" -> {w.level.value}' for w in counted)
    explicit = parse_level(given)
    if explicit is None:
        return from_title, f"seniority {said}" if said else ""
    part = f'level "{given}" -> {explicit.value}'
    if from_title is not None and from_title != explicit:
        part += f" (given; it wins over the title's seniority {said})"
    elif said:
        part += f" (the title agrees: {said})"
    return explicit, part


@lru_cache(maxsize=4096)
def _find(title: str, level: str | None) -> _Found:
    data = _data()
    text = _clean_title(title)
    words = _level_words(text)
    hit = _exact(data, text, words)
    if hit is not None:
        p, variant, removed = hit
        counted = [w for w in words if not w.role or w in removed]
        conf = p.entry.confidence * (SYNONYM if p.synonym else 1.0)
        scores = {p.entry.soc: _entry_score(p, "exact", conf, _shown(variant))}
        core = _shown(variant)
    else:
        mods = [w for w in words if not w.role]
        core_roles, core = _without(text, mods), _without(text, words)
        texts = list(dict.fromkeys(t for t in (core_roles, core) if _norm(t)))
        if not texts:
            said = ", ".join(f'"{w.text}"' for w in words)
            raise MarketError(
                f'the title "{title}" names {f"a seniority ({said}) but " if said else ""}no job: '
                'give the job title, e.g. "Senior Data Scientist" or 高级数据科学家'
            )
        scores = _scores(data, texts)
        top = max(scores.values(), key=lambda s: s.confidence)
        used_core = _norm(top.shown) == _norm(_shown(core)) and core_roles != core
        counted = [w for w in words if not w.role or used_core]
        core = _shown(core if used_core else core_roles)
    lvl, level_part = _level_part(words, counted, level)
    ranked = sorted(scores.values(), key=lambda s: (-s.confidence, s.code))
    if ranked and ranked[0].phrase is not None:  # the entry's other plausible occupations
        e = ranked[0].phrase.entry
        for code, reason in e.alternatives.items():
            conf = ALTERNATIVE * ranked[0].confidence
            if code not in scores or scores[code].confidence < conf:
                scores[code] = _Score(code, conf, f'an alternative for "{e.en}": {reason}', "alternative")
        ranked = sorted(scores.values(), key=lambda s: (-s.confidence, s.code))
    kept = [s for s in ranked if s.confidence >= 0.01]  # nothing alike at all is no candidate ...
    if len(kept) < MIN_CHOICES and (not kept or kept[0].confidence < MATCH_THRESHOLD):
        kept = ranked[:MIN_CHOICES]  # ... unless the analyst would have too few to choose from
    return _Found(title, lvl, level_part, core, tuple(kept[:MAX_CANDIDATES]))


def _soc(code: str) -> str:
    return f"SOC {code} {_data().occupations[code]}"


def _reason(s: _Score) -> str:
    """Why this occupation, in one clause."""
    if s.kind == "alternative":
        return s.why
    if s.kind == "soc":
        if s.similarity == 1.0:
            return f'"{s.shown}" is not in the title dictionary; it is the title of {_soc(s.code)}'
        return f'"{s.shown}" reads like the title of {_soc(s.code)} (similarity {s.similarity:.2f})'
    assert s.phrase is not None
    p, e = s.phrase, s.phrase.entry
    as_ = f"a synonym of {e.names}: " if p.synonym else ""
    if s.kind == "exact":
        return f'"{s.shown}" is in the title dictionary as {as_}{_soc(e.soc)}'
    if s.kind == "contained":
        left = ", ".join(f'"{w}"' for w in s.left)
        return (
            f'"{p.text}" in "{s.shown}" is in the title dictionary as {as_}{_soc(e.soc)}; '
            f"{left} {'is' if len(s.left) == 1 else 'are'} not understood and left out"
        )
    return (
        f'"{s.shown}" is not in the title dictionary but reads like "{p.text}" '
        f"(similarity {s.similarity:.2f}), {as_}{_soc(e.soc)}"
    )


def _candidate(s: _Score) -> Candidate:
    return Candidate(
        soc_code=s.code,
        soc_title=_data().occupations[s.code],
        confidence=round(min(s.confidence, 1.0), 2),
        rationale=_reason(s),
    )


def _internal(core: str, entry: TitleEntry | None) -> list[str]:
    names = [core]
    if entry is not None:
        names += [entry.en, entry.zh, *entry.synonyms.en, *entry.synonyms.zh]
    return list(dict.fromkeys(n for n in names if n))


def match(title: str, level: str | None = None) -> Match:
    """The occupation of an internal title (English or Chinese), with the nearest candidates.

    `level`: an internal level L1-L9 or entry/mid/senior/executive; None reads it from the title.
    Below MATCH_THRESHOLD the Match `needs_choice`: ask the analyst, then `choose`.
    """
    found = _find(title, level)
    best = found.scores[0]
    candidates = [_candidate(s) for s in found.scores]
    confidence = candidates[0].confidence
    parts = [found.level_words] if found.level_words else []
    if confidence >= MATCH_THRESHOLD:
        parts.append(_reason(best))
        if best.phrase is not None and best.phrase.entry.why:
            parts.append(f"why this occupation: {best.phrase.entry.why}")
        entry = best.phrase.entry if best.phrase is not None else None
    else:
        nearest = "; ".join(f"{c.soc_code} {c.soc_title} ({c.confidence:.0%})" for c in candidates)
        parts.append(
            f'"{found.core}" is not understood well enough to name an occupation '
            f"(best: {_reason(best)}); choose one of: {nearest}"
        )
        entry = None
    return Match(
        title=title,
        soc_code=best.code,
        soc_title=_data().occupations[best.code],
        confidence=confidence,
        rationale=f'title "{title}": ' + "; ".join(parts),
        level=found.level,
        source_categories={
            "aijobs": list(entry.aijobs) if entry else [],
            "internal": _internal(found.core, entry),
        },
        candidates=candidates,
    )


def choose(title: str, soc_code: str, level: str | None = None) -> Match:
    """The analyst picked the occupation (one of the candidates, or any SOC detailed occupation)."""
    data = _data()
    code = (soc_code or "").strip()
    if code not in data.occupations:
        shape = "" if re.fullmatch(r"\d\d-\d{4}", code) else " (a SOC code reads like 15-2051)"
        raise MarketError(
            f'SOC code "{soc_code}" is not a detailed occupation in {OCCUPATIONS.name} '
            f"(BLS OEWS, May 2024){shape}: choose one of the candidates the match offered"
        )
    found = _find(title, level)
    best = found.scores[0]
    # The dictionary's categories (ai-jobs titles, synonyms) only where it read the title with
    # confidence and the analyst chose its occupation or one of its alternatives.
    entry = best.phrase.entry if best.phrase is not None and best.confidence >= MATCH_THRESHOLD else None
    if entry is not None and code != entry.soc and code not in entry.alternatives:
        entry = None
    parts = [found.level_words] if found.level_words else []
    parts.append(f"chosen by the analyst: {_soc(code)}")
    return Match(
        title=title,
        soc_code=code,
        soc_title=data.occupations[code],
        confidence=1.0,
        rationale=f'title "{title}": ' + "; ".join(parts),
        level=found.level,
        source_categories={
            "aijobs": list(entry.aijobs) if entry else [],
            "internal": _internal(found.core, entry),
        },
        candidates=[
            Candidate(
                soc_code=code,
                soc_title=data.occupations[code],
                confidence=1.0,
                rationale="chosen by the analyst",
            )
        ],
    )
