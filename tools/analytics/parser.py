"""The offline question parser (the default model for analytics): English and Simplified Chinese
to a typed query, with a confidence. Every part of the question must be understood: a word it
cannot place lowers the confidence, and below the threshold it refuses with the nearest questions
it can answer. It never guesses a metric.

Words come from the catalogue (metric and dimension synonyms) and from the data present (locations,
job families, levels, org unit codes), plus fixed phrases for time, comparison, ranking and "my org".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel

from tools.analytics.catalogue import Catalogue, load
from tools.analytics.query import AnalyticsQuery

THRESHOLD = 0.75
# "How is learning going" asks for these together.
LEARNING_OVERVIEW = ["training_hours", "completions", "active_learners"]
OVERVIEW = {
    "en": ["learning data", "learning", "training data", "training"],
    "zh": ["学习数据", "学习情况", "培训情况", "培训数据", "学习"],
}
RELATIVE = {
    "this_month": (["this month", "current month", "month to date"], ["这个月", "本月", "当月"]),
    "last_month": (["last month", "previous month"], ["上个月", "上月"]),
    "this_quarter": (["this quarter", "current quarter"], ["本季度", "这个季度", "当季"]),
    "last_quarter": (["last quarter", "previous quarter"], ["上季度", "上个季度", "上一季度"]),
    "year_to_date": (
        ["year to date", "ytd", "so far this year", "since the start of the year"],
        ["今年以来", "年初至今", "本年累计"],
    ),
    "this_year": (["this year", "current year"], ["今年", "本年度", "本年"]),
    "last_year": (["last year", "previous year"], ["去年", "上一年"]),
    "last_30_days": (["last 30 days", "past 30 days"], ["最近30天", "过去30天", "近30天"]),
    "last_12_months": (
        ["last 12 months", "past 12 months", "past year"],
        ["近12个月", "过去12个月", "过去一年", "最近一年"],
    ),
}
GRAIN = {
    "day": (
        ["by day", "per day", "daily", "each day", "day by day"],
        ["按天", "每天", "每日", "逐日", "按日"],
    ),
    "week": (
        ["by week", "per week", "weekly", "each week", "week by week"],
        ["按周", "每周", "逐周", "周度"],
    ),
    "month": (
        ["by month", "per month", "monthly", "each month", "month by month"],
        ["按月", "每月", "月度", "逐月"],
    ),
    "quarter": (["by quarter", "per quarter", "quarterly", "each quarter"], ["按季度", "每季度", "分季度"]),
    "year": (["by year", "per year", "yearly", "each year", "annually"], ["按年", "每年", "分年"]),
}
# The period of a trend asked without one.
TREND_PERIOD = {
    "day": "last_30_days",
    "week": "last_12_months",
    "month": "last_12_months",
    "quarter": "last_12_months",
}
COMPARE = {
    "same_period_last_year": (
        [
            "vs the same period last year",
            "compared with the same period last year",
            "same quarter last year",
            "same month last year",
            "same period last year",
            "year over year",
            "yoy",
        ],
        ["去年同期", "同比"],
    ),
    "previous_period": (
        [
            "vs the previous period",
            "compared with the previous period",
            "previous period",
            "period over period",
        ],
        ["环比", "上期"],
    ),
}
MY_ORG = (
    [
        "my team",
        "my org",
        "my organisation",
        "my organization",
        "my unit",
        "my department",
        "our unit",
        "our team",
        "our department",
        "our org",
    ],
    ["我们单位", "本部门", "我的团队", "我们部门", "我们团队", "本单位", "我部门"],
)
BY = (["by", "per", "for each", "across", "split by", "broken down by"], ["按", "各", "每个", "分", "按照"])
TOP = (["top", "highest", "most", "largest", "biggest"], ["前", "最多", "最高", "最大"])
BOTTOM = (["bottom", "lowest", "least", "smallest", "fewest"], ["最少", "最低", "最小"])
SHARE = (["share", "percent of total", "percentage of total", "proportion"], ["占比", "比例", "份额"])
STOP_EN = set(
    [
        "going",
        "doing",
        "look",
        "looking",
        "what",
        "whats",
        "what's",
        "is",
        "are",
        "was",
        "were",
        "the",
        "a",
        "an",
        "of",
        "in",
        "for",
        "on",
        "at",
        "to",
        "how",
        "many",
        "much",
        "did",
        "do",
        "does",
        "we",
        "our",
        "my",
        "i",
        "me",
        "show",
        "tell",
        "give",
        "please",
        "and",
        "with",
        "vs",
        "versus",
        "compared",
        "than",
        "from",
        "per",
        "by",
        "over",
        "during",
        "there",
        "have",
        "has",
        "been",
        "which",
        "who",
        "were",
        "overall",
        "total",
        "number",
        "rate",
        "average",
        "avg",
        "current",
        "us",
        "it",
        "this",
        "that",
        "as",
        "its",
    ]
)
STOP_ZH = set(
    [
        "哪个",
        "哪些",
        "统计",
        "哪",
        "的",
        "是",
        "多少",
        "如何",
        "怎么样",
        "怎样",
        "情况",
        "吗",
        "呢",
        "了",
        "请",
        "告诉",
        "我",
        "我们",
        "有",
        "几",
        "个",
        "人",
        "和",
        "与",
        "及",
        "对比",
        "比较",
        "相比",
        "一下",
        "看看",
        "数据",
        "是多少",
        "总共",
        "一共",
        "目前",
        "现在",
        "，",
        ",",
        "。",
        "?",
        "？",
        "！",
        "!",
    ]
)
ZH_CITIES = {
    "上海": "Shanghai",
    "北京": "Beijing",
    "深圳": "Shenzhen",
    "新加坡": "Singapore",
    "伦敦": "London",
    "纽约": "New York",
}
NUMBERS_ZH = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


class Parsed(BaseModel):
    language: str
    query: AnalyticsQuery | None
    confidence: float
    understood: list[str]
    not_understood: list[str]
    nearest: list[str] = []
    reason: str | None = None


@dataclass
class _State:
    text: str
    understood: list[str] = field(default_factory=list)
    fields: dict = field(default_factory=dict)

    def take(self, phrase: str, meaning: str) -> int | None:
        """Consume `phrase` (case-insensitive, whole words for English) if present; where it was."""
        if phrase.lower() not in self.text.lower():  # cheap test first: most phrases are absent
            return None
        m = _pattern(phrase).search(self.text)
        if not m:
            return None
        self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        self.understood.append(f"{m.group(0)} = {meaning}")
        return m.start()


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    """Latin words stand alone (ASCII edges, so "L5的人数" still finds L5); Chinese has no spaces."""
    edge = "A-Za-z0-9_-"
    pattern = re.escape(phrase) if _is_zh(phrase) else rf"(?<![{edge}]){re.escape(phrase)}(?![{edge}])"
    return re.compile(pattern, flags=re.IGNORECASE)


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _longest_first(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda p: -len(p[0]))


def _take_metrics(st: _State, pairs: list[tuple[str, str]], found: dict[str, int]) -> None:
    """Read metric synonyms (longest first) into `found`: metric -> where the question names it."""
    for syn, name in pairs:
        if name not in found and (at := st.take(syn, f"metric {name}")) is not None:
            found[name] = at


def parse(question: str, values: dict[str, list[str]] | None = None, cat: Catalogue | None = None) -> Parsed:
    """`values`: dimension -> values present in the data (locations, levels, ...; org unit codes)."""
    cat = cat or load()
    lang = "zh" if _is_zh(question) else "en"
    st = _State(" " + question.strip() + " ")
    values = values or {}

    # A metric named with a period in it ("training times last year") is read before the periods.
    found: dict[str, int] = {}
    pairs = _longest_first(
        [(s, name) for name, m in cat.metrics.items() for s in [m.en, m.zh, *m.synonyms.en, *m.synonyms.zh]]
    )
    periods = [p.lower() for en, zh in RELATIVE.values() for p in en + zh]
    _take_metrics(st, [(s, n) for s, n in pairs if any(p in s.lower() for p in periods)], found)

    # Fixed phrases first, longest first, so "last quarter" is not read as "last" + "quarter".
    for key, (en, zh) in COMPARE.items():
        for p in sorted(en + zh, key=len, reverse=True):
            if st.take(p, f"compare with {key.replace('_', ' ')}"):
                st.fields["compare_to"] = key
                break
    for key, (en, zh) in RELATIVE.items():
        for p in sorted(en + zh, key=len, reverse=True):
            if "period" not in st.fields and st.take(p, key.replace("_", " ")):
                st.fields["period"] = {"relative": key}
    for key, (en, zh) in GRAIN.items():
        for p in sorted(en + zh, key=len, reverse=True):
            if st.take(p, f"one value per {key}"):
                st.fields["grain"] = key
                break
    if m := re.search(r"\b(?:in\s+)?(20\d\d)\b|(20\d\d)\s*年", st.text):
        year = m.group(1) or m.group(2)
        if "period" not in st.fields:
            st.take(m.group(0).strip(), f"the year {year}")
            st.fields["period"] = {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    for p in sorted(MY_ORG[0] + MY_ORG[1], key=len, reverse=True):
        if st.take(p, "your organisation"):
            break
    for p in sorted(SHARE[0] + SHARE[1], key=len, reverse=True):
        if st.take(p, "share of the total"):
            st.fields["percent_of_total"] = True
            break
    _ranking(st)

    # Dimensions after "by" / "按" / "各".
    dims = _longest_first(
        [
            (s, d)
            for d, dim in cat.dimensions.items()
            for s in [dim.en, dim.zh, *dim.synonyms.en, *dim.synonyms.zh]
        ]
    )
    by: list[str] = []
    for word in sorted(BY[0] + BY[1], key=len, reverse=True):
        for syn, dim in dims:
            phrase = f"{word}{syn}" if _is_zh(word) else f"{word} {syn}"
            while dim not in by and st.take(phrase, f"grouped by {dim.replace('_', ' ')}"):
                by.append(dim)
    # Filters: values present in the data, and org unit codes.
    filters: dict[str, list[str]] = {}
    for zh, city in ZH_CITIES.items():
        if city in values.get("location", []) and st.take(zh, f"location {city}"):
            filters.setdefault("location", []).append(city)
    for dim, present in values.items():
        for v in sorted(present, key=len, reverse=True):
            if dim == "org_unit":
                if st.take(v, f"org unit {v}"):
                    st.fields["org_unit"] = v
            elif st.take(v, f"{dim.replace('_', ' ')} {v}"):
                filters.setdefault(dim, []).append(v)
    if filters:
        st.fields["filters"] = filters

    # Metrics: synonyms, longest first; the learning overview when nothing more precise is asked.
    _take_metrics(st, pairs, found)
    metrics = sorted(found, key=found.__getitem__)  # in the order the question names them
    if not metrics:
        for p in sorted(OVERVIEW["en"] + OVERVIEW["zh"], key=len, reverse=True):
            if st.take(p, "learning overview: " + ", ".join(LEARNING_OVERVIEW)):
                metrics = list(LEARNING_OVERVIEW)
                break

    # A bare dimension word ("top 3 locations", "哪个部门") groups by it too; after the metrics, so
    # "courses completed" is a metric, not a split by course.
    for syn, dim in dims:
        plural = syn if _is_zh(syn) else syn + "s"
        while dim not in by and (
            st.take(plural, f"grouped by {dim.replace('_', ' ')}")
            or st.take(syn, f"grouped by {dim.replace('_', ' ')}")
        ):
            by.append(dim)
    if by:
        st.fields["by"] = by[:2]

    if "grain" in st.fields and "period" not in st.fields and st.fields["grain"] in TREND_PERIOD:
        # "hires by month" means a trend: this month alone would be one point
        st.fields["period"] = {"relative": TREND_PERIOD[st.fields["grain"]]}
    if "order" in st.fields and "top_n" not in st.fields and re.search(r"(?i)\bwhich\b|哪", question):
        st.fields["top_n"] = 1  # "which unit has the most": the first one
    left = _leftovers(st.text)
    if not metrics:
        return _refused(question, lang, st, left, "no metric I know is named in the question", cat)
    confidence = len(st.understood) / (len(st.understood) + len(left))
    if confidence < THRESHOLD:
        return _refused(question, lang, st, left, f"I do not understand: {', '.join(left)}", cat, confidence)
    try:
        query = AnalyticsQuery.model_validate({"metrics": metrics[:3], **st.fields})
    except ValueError as e:
        return _refused(
            question, lang, st, left, f"the question does not make a valid query ({e})", cat, confidence
        )
    return Parsed(
        language=lang,
        query=query,
        confidence=round(confidence, 2),
        understood=st.understood,
        not_understood=left,
    )


def _ranking(st: _State) -> None:
    m = re.search(r"(?<![\w-])(top|bottom)\s+(\d{1,3})(?![\w-])", st.text, flags=re.IGNORECASE) or re.search(
        r"前\s*(\d{1,3}|[一二两三四五六七八九十])\s*(?:名|个)?", st.text
    )
    if m:
        if m.re.pattern.startswith("前"):
            n_text, order = m.group(1), "desc"
        else:
            n_text, order = m.group(2), "asc" if m.group(1).lower() == "bottom" else "desc"
        n = int(n_text) if n_text.isdigit() else NUMBERS_ZH[n_text]
        st.take(m.group(0).strip(), f"the {'first' if order == 'desc' else 'last'} {n}")
        st.fields.update(order=order, top_n=n)
        return
    for words, order in ((TOP, "desc"), (BOTTOM, "asc")):
        for p in sorted(words[0] + words[1], key=len, reverse=True):
            if st.take(p, f"ordered {order}"):
                st.fields["order"] = order
                return


def _leftovers(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z][\w'-]*|\d+|[\u4e00-\u9fff]+", text)
    out = []
    for w in words:
        if _is_zh(w):
            rest = w
            for stop in sorted(STOP_ZH, key=len, reverse=True):
                rest = rest.replace(stop, "")
            if rest:
                out.append(rest)
        elif w.lower() not in STOP_EN:
            out.append(w)
    return out


def _refused(
    question: str,
    lang: str,
    st: _State,
    left: list[str],
    reason: str,
    cat: Catalogue,
    confidence: float = 0.0,
) -> Parsed:
    return Parsed(
        language=lang,
        query=None,
        confidence=round(confidence, 2),
        understood=st.understood,
        not_understood=left,
        nearest=nearest_questions(question, lang, cat),
        reason=reason,
    )


def nearest_questions(question: str, lang: str, cat: Catalogue, n: int = 3) -> list[str]:
    """Questions this parser answers that read most like the one asked."""
    examples = [(f"{m.en} in my org this quarter", f"本季度我们单位的{m.zh}") for m in cat.metrics.values()]
    pool = [zh if lang == "zh" else en for en, zh in examples]
    close = difflib.get_close_matches(question, pool, n=n, cutoff=0.0)
    return close[:n]
