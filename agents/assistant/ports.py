"""What the assistant needs from the product, as a port: the hrops layer implements it with the
same services as the CLI and the API (checks, roles, idempotency), so the graph stays below them."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from agents.assistant.intake import RequestKind


class Refusal(Exception):
    """The product refused (a role, a rule, a pending request): the text says why."""


class Started(BaseModel):
    request_id: str
    created: bool  # False: the same request was already under way


class PolicyReply(BaseModel):
    """A policy question answered for the asker: the answer as quoted (its citations in the text), or
    handed to HR ops with the case it opened."""

    text: str
    handed_off: bool
    case_id: str | None = None  # the case a hand-off opened, e.g. KB-3


class Services(Protocol):
    db_url: str

    def preview(self, kind: RequestKind, request: Any) -> tuple[str, list[str]]:
        """The summary to confirm and any problems, from the same check the workflow runs first."""
        ...

    async def start(self, kind: RequestKind, request: Any) -> Started: ...

    async def decide(self, request_id: str, approve: bool, reason: str | None) -> str:
        """Record a decision; returns it in words (raises Refusal)."""
        ...

    async def status(self, request_id: str) -> str: ...

    def requests_for(self, employee_id: str) -> list[str]: ...

    async def ask(self, question: str) -> tuple[str, bool]:
        """A data question answered for the asker: (text, refused)."""
        ...

    async def policy(self, question: str) -> PolicyReply:
        """A policy question answered for the asker from the policies that apply to them, or handed
        to HR ops as a case (sensitive matters, asking for a person, nothing to quote)."""
        ...

    async def needs_a_person(self, message: str) -> bool:
        """Whether a message tells a sensitive matter, or asks for a human, in words no pattern
        knows (triage by meaning): it then goes to HR ops as a policy question, not to a model."""
        ...
