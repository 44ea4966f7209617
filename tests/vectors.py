"""Comparing embedding vectors in tests."""

from __future__ import annotations

import math
from collections.abc import Sequence

# The embedding engine's kernels differ by CPU (AVX2 against AVX-512): one text embedded on two
# machines differs by up to 1e-3 a component, at a cosine above 0.99993 (measured over the handbook);
# two different texts are far below this.
SAME = 0.9999


def same_direction(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two vectors are one text's embedding, made on this machine or another."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))) > SAME
