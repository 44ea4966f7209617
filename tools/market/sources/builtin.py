"""The shipped sources; importing this module registers them (the registry does, on first use)."""

from __future__ import annotations

from tools.market.sources import aijobs, bls, internal, survey

__all__ = ["aijobs", "bls", "internal", "survey"]
