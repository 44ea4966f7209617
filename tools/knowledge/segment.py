"""Words for retrieval in English and Chinese: Chinese runs segmented by jieba (search mode, with the
HR terms of the glossary added to its dictionary so 五险一金 or 社保基数 stay whole), other runs split
on letters and digits and stemmed (Snowball), stopwords dropped. The same function segments
documents and questions, so both sides agree on what a word is."""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from functools import cache, lru_cache
from types import ModuleType

import snowballstemmer

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_STEMMER = snowballstemmer.stemmer("english")
_lock = threading.Lock()

EN_STOP = frozenset(
    """a about above after again all am an and any are as at be been before being below between both but
    by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my myself no nor not of off on once
    only or other our ours out over own same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours please tell know get got want need much many does anyone
    s m t d ll ve re im ive dont cant whats hi hello thanks thank company companies acme""".split()  # noqa: SIM905
)
ZH_STOP = frozenset(
    """的 了 是 我 我们 你 你们 他 她 吗 呢 吧 啊 呀 么 怎么 怎样 怎么样 如何 什么 多少 几 哪 哪些 哪里 可以 能 能不能 可不可以
    有 有没有 没有 要 需要 会 在 和 与 及 或 或者 就 都 也 还 又 这 那 这个 那个 一个 请问 请 一下 想 想要 知道 公司 给 被 对 把 为
    一共 总共 加上 几天 多少天 多久 多长 多长时间 本市 下个月 这个月 上个月 下周 现在 目前 应该 是否 是不是 具体 大概 一般 嗯 哦
    时候 什么时候 今年 明年 去年 这边 那边 这里 那里 的话 回事 怎么回事 意思 什么样 哪天 哪个 几点 几号 几个 多大 多高
    还有 还是 然后 但是 因为 所以 如果 已经 刚 刚刚 才 再 会不会 能否 可否 怎么办 咋办 咋 呗 啦 嘛 哈 谢谢 你好 您好 麻烦""".split()  # noqa: SIM905
)


def _import_jieba() -> ModuleType:
    """jieba, kept from pkg_resources: its import reaches for it only to open its own files, which
    cost up to a second of every worker's and the API's start and a deprecation warning; without it
    jieba opens them by path. Imported with this module, never on first use inside a workflow's
    sandbox (the modules workflows import pass through it already loaded)."""
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jieba
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()


@cache
def _jieba_ready() -> None:
    """Load jieba's dictionary once (about a second) and teach it the glossary's Chinese terms."""
    from tools.knowledge.glossary import chinese_terms

    with _lock:
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for term in chinese_terms():
            jieba.add_word(term, freq=200000)


_PAREN_LETTER = re.compile(r"(?<=[0-9a-z])\(([0-9a-z])\)")


def normalise(text: str) -> str:
    """Full-width letters and digits to ASCII (ＰＴＯ, １０), lower case, 401(k) as 401k."""
    return _PAREN_LETTER.sub(r"\1", unicodedata.normalize("NFKC", text).lower())


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """The retrieval words of `text`, in order (repeats kept: they are term frequencies)."""
    _jieba_ready()
    text = normalise(text)
    out: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        out.extend(_latin(text[pos : m.start()], keep_stopwords))
        # No guessing of unknown words (jieba's HMM): it makes fragments such as 分是 or 能查 that no
        # document holds; single characters match where the guess would not.
        for w in jieba.cut_for_search(m.group(), HMM=False):
            if keep_stopwords or w not in ZH_STOP:
                out.append(w)
        pos = m.end()
    out.extend(_latin(text[pos:], keep_stopwords))
    return out


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    """Snowball's stemmer keeps state between calls: one thread at a time (and each word once,
    which is most of the time an index build takes)."""
    with _lock:
        return _STEMMER.stemWord(token)


def _latin(text: str, keep_stopwords: bool) -> list[str]:
    tokens = [t for t in _WORD.findall(text) if keep_stopwords or t not in EN_STOP]
    return [t if t.isdigit() else _stem(t) for t in tokens]
