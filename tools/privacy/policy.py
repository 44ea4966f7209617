"""Which classes of data a model endpoint may see.

The policy is a table from endpoint (host:port of an OpenAI-compatible base URL, or the provider
name such as `openai`) to the classes it may receive unmasked; `*` applies to any endpoint not
named. An endpoint in no row sees none of them. The built-in offline model runs in this process:
nothing leaves, so it sees everything it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.privacy.classes import DataClass

LOCAL = "local"
EVERYTHING = frozenset(DataClass)


def allowed_for(endpoint: str, table: Mapping[str, Sequence[DataClass | str]]) -> frozenset[DataClass]:
    if endpoint == LOCAL:
        return EVERYTHING
    row = table.get(endpoint, table.get("*", ()))
    return frozenset(DataClass(c) for c in row)
