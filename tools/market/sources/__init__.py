"""Market data sources behind one interface. Adding a source is one class plus `@register`:

```python
@register
class MySurvey:
    name = "my_survey"
    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]: ...
```

A source returns what it states, untouched (its currency, its pay period, its date); normalising
and blending happen elsewhere, so every adjustment stays visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from tools.market.models import MarketQuestion, Match, SourceFigure


@dataclass(frozen=True)
class SourceContext:
    db_url: str  # the HR store (the company's own pay)
    today: date


class MarketSource(Protocol):
    name: str

    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]: ...


_REGISTRY: dict[str, Callable[[], MarketSource]] = {}
S = TypeVar("S")


def register(cls: type[S]) -> type[S]:
    """Class decorator: make a source available to research under its `name`."""
    name = cls.name  # type: ignore[attr-defined]
    if name in _REGISTRY:
        raise ValueError(f"market source {name!r} is registered twice")
    _REGISTRY[name] = cls  # type: ignore[assignment]
    return cls


def sources() -> dict[str, MarketSource]:
    """Every registered source, built fresh (sources are cheap; data files are cached per process)."""
    import tools.market.sources.builtin  # noqa: F401  (registers the shipped sources)

    return {name: make() for name, make in _REGISTRY.items()}
