"""What a chat channel hands to the assistant, and what it gets back.

Every channel (web console, Slack, Feishu, generic webhooks) turns a platform's message into a
`ChatIn` for a linked, known user and renders the `ChatOut` in its own format (Block Kit, a
Feishu card, JSON). The assistant (agents/assistant, its own engineer) plugs in with `install()`;
until then `default_responder` answers with a help text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["approve", "reject"]


class ChatIn(BaseModel):
    channel: str = Field(description="web, slack, feishu or webhook:<name>")
    user: str = Field(description="the product username, resolved from the platform's user id")
    text: str
    thread: str = Field(description="the conversation thread, unique within the channel")
    message_id: str = Field(
        description="the platform's id of the message; a message delivered twice reaches the responder once"
    )


class Button(BaseModel):
    label: str
    action: Action
    request_id: str


class ChatOut(BaseModel):
    text: str
    buttons: list[Button] = []


Responder = Callable[[ChatIn], Awaitable[ChatOut]]

HELP = (
    "Hello {user}, this is HR Ops. The chat assistant is not switched on here yet, so I cannot act on "
    "“{text}”. Approval requests reach you here with Approve and Reject buttons; for anything else "
    "use the console or the `hrops` command line."
)


async def default_responder(message: ChatIn) -> ChatOut:
    """Echo a help text (the stand-in until the assistant is installed)."""
    shown = message.text if len(message.text) <= 200 else message.text[:200] + "…"
    return ChatOut(text=HELP.format(user=message.user, text=shown))


_installed: Responder | None = None


def install(responder: Responder | None) -> None:
    """Make `responder` answer every channel's messages (None: back to the help text)."""
    global _installed
    _installed = responder


def current() -> Responder:
    return _installed or default_responder


def approval_buttons(request_id: str) -> list[Button]:
    return [
        Button(label="Approve", action="approve", request_id=request_id),
        Button(label="Reject", action="reject", request_id=request_id),
    ]
