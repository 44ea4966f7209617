"""Settings of the stand-in: storage, session lifetime, fault injection, layout."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class SimConfig(BaseModel):
    db_path: Path = Path("var/legacy_hris.db")
    session_ttl: float = Field(900, gt=0, description="seconds of inactivity before a session expires")
    fault_500_rate: float = Field(
        0.0, ge=0, le=1, description="share of requests answered with a server error"
    )
    slow_rate: float = Field(0.0, ge=0, le=1, description="share of requests answered slowly")
    slow_seconds: float = Field(2.0, ge=0)
    slow_on: list[str] = Field(
        [],
        description="only requests starting with one of these ('POST /newhire/confirm', '/api/') are "
        "slowed; empty: any request",
    )
    expire_rate: float = Field(0.0, ge=0, le=1, description="share of requests that find their session gone")
    layout: Literal["v1", "v2"] = "v1"
    detect_duplicates: bool = True
    seed: int | None = None
    users: dict[str, str] = {"rpa.bot": "Legacy#2003"}
